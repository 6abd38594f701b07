"""chaosext.common.settings: one rule for the state, cache, repository and venv paths, one port offset."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from chaosext.common import settings
from chaosext.errors import UsageError
from chaosext.faults.paths import faults_dir
from chaosext.localkube.paths import bin_dir, default_state_dir
from chaosext.localkube.settings import Ports as KubePorts
from chaosext.stack.config import default_url, load_config


def test_every_part_uses_the_one_state_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHAOSEXT_STATE_DIR", str(tmp_path / "s"))
    assert settings.state_root() == tmp_path / "s"
    assert faults_dir() == tmp_path / "s" / "faults"
    assert default_state_dir() == tmp_path / "s" / "kube"
    assert load_config().state == tmp_path / "s" / "stack"


def test_state_dir_override_is_made_absolute(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHAOSEXT_STATE_DIR", "relative")
    assert settings.state_root() == tmp_path.resolve() / "relative"


def test_cache_root_env_then_xdg_then_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHAOSEXT_CACHE_DIR", str(tmp_path / "c"))
    assert settings.cache_root() == tmp_path / "c"
    assert load_config().cache == tmp_path / "c"
    assert bin_dir("v1") == tmp_path / "c" / "kube" / "v1"
    monkeypatch.delenv("CHAOSEXT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert settings.cache_root() == tmp_path / "xdg" / "chaosext"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert settings.cache_root() == tmp_path / "home" / ".cache" / "chaosext"


def test_venv_is_the_running_environment_unless_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHAOSEXT_HOME", str(tmp_path / "repo"))
    monkeypatch.delenv("CHAOSEXT_VENV", raising=False)
    assert settings.repo_root() == tmp_path / "repo"
    assert settings.venv_dir() == Path(sys.prefix)  # not <repo>/.venv: a pip install runs from anywhere
    monkeypatch.setenv("CHAOSEXT_VENV", str(tmp_path / "venv"))
    assert settings.venv_dir() == tmp_path / "venv"


@pytest.mark.parametrize(("raw", "offset"), [("", 0), (" 2000 ", 2000), ("0", 0), ("40000", 40000)])
def test_port_offset_moves_the_stack_and_the_control_plane_alike(
    monkeypatch: pytest.MonkeyPatch, raw: str, offset: int
) -> None:
    monkeypatch.setenv("CHAOSEXT_PORT_OFFSET", raw)
    assert settings.port_offset() == offset
    assert load_config().ports.checkout == 8080 + offset
    assert KubePorts.from_env().apiserver == 16443 + offset
    endpoints = load_config().endpoints()
    assert default_url("dns_control") == endpoints["dns_control"]
    assert default_url("toxiproxy_api") == endpoints["toxiproxy"]


@pytest.mark.parametrize("raw", ["abc", "1.5", "-1", "40001"])
def test_a_bad_port_offset_is_named_in_the_error(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("CHAOSEXT_PORT_OFFSET", raw)
    for read in (settings.port_offset, load_config, KubePorts.from_env, lambda: default_url("dns_control")):
        with pytest.raises(UsageError, match="CHAOSEXT_PORT_OFFSET"):
            read()
