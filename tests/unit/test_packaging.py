"""What the distribution ships and promises: the bundle the wheel build copies (setup.py) holds
exactly the repository's experiments and sample services; the extras declared in pyproject.toml
are the ones the CLI checks for; the core dependencies hold no plotting or stack-only library."""

from __future__ import annotations

import importlib.util
import re
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from chaosext import bundle
from chaosext.extras import EXTRAS

REPO = Path(__file__).resolve().parents[2]


def _setup_module() -> ModuleType:
    """setup.py imported without running ``setup()`` (its build step is what we check)."""
    import setuptools

    spec = importlib.util.spec_from_file_location("chaosext_setup", REPO / "setup.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    real_setup = setuptools.setup
    setuptools.setup = lambda **_: None
    try:
        spec.loader.exec_module(module)
    finally:
        setuptools.setup = real_setup
    return module


@pytest.fixture(scope="module")
def pyproject() -> dict[str, Any]:
    data: dict[str, Any] = tomllib.loads((REPO / "pyproject.toml").read_text())
    return data


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!~ ;]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements}


def test_the_wheel_bundles_every_experiment_and_nothing_else() -> None:
    files = _setup_module().bundled_files()
    bundled = {target for target in files.values() if target.startswith("experiments/")}
    on_disk = {f"experiments/{p.relative_to(REPO / 'experiments').as_posix()}" for p in (REPO / "experiments").rglob("*.json")}
    assert on_disk, "no experiments found in the repository"
    assert bundled == on_disk


def test_the_wheel_bundles_every_sample_service_module() -> None:
    files = _setup_module().bundled_files()
    services = REPO / "cluster" / "services"
    expected = {f"cluster/services/{p.relative_to(services).as_posix()}" for p in services.rglob("*.py")}
    expected.add("cluster/services/requirements.txt")
    assert {t for t in files.values() if t.startswith("cluster/")} == expected


def test_from_the_checkout_the_bundle_is_the_repository_itself() -> None:
    assert bundle.checkout_root() == REPO
    assert bundle.experiments_dir() == REPO / "experiments"
    assert bundle.services_dir() == REPO / "cluster" / "services"


def test_installed_from_a_wheel_the_stack_reads_the_packaged_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    from chaosext.stack import config

    monkeypatch.delenv("CHAOSEXT_HOME", raising=False)
    monkeypatch.setattr(bundle, "checkout_root", lambda: None)
    assert config.repo_root() == bundle.PACKAGED_ROOT
    assert config.load_config().repo == bundle.PACKAGED_ROOT
    assert bundle.experiments_dir() == bundle.PACKAGED_ROOT / "experiments"
    assert bundle.services_dir() == bundle.PACKAGED_ROOT / "cluster" / "services"


def test_the_stack_runs_from_the_environment_running_chaosext(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from chaosext.stack.config import load_config, venv_dir

    assert venv_dir() == Path(sys.prefix)
    assert load_config().python == Path(sys.prefix) / "bin" / "python"
    monkeypatch.setenv("CHAOSEXT_VENV", str(tmp_path))
    assert load_config().venv == tmp_path.resolve()


def test_the_core_holds_no_plotting_and_no_stack_only_library(pyproject: dict[str, Any]) -> None:
    core = _names(pyproject["project"]["dependencies"])
    for lib in ("matplotlib", "numpy", "pillow", "supervisor", "dnslib", "aiohttp", "redis"):
        assert lib not in core, lib


def test_the_cli_checks_the_extras_pyproject_declares(pyproject: dict[str, Any]) -> None:
    extras = pyproject["project"]["optional-dependencies"]
    import_names = {"python-json-logger": "pythonjsonlogger"}
    for extra, modules in EXTRAS.items():
        declared = {import_names.get(n, n) for n in _names(extras[extra])}
        assert declared == set(modules), extra
    assert _names(extras["all"]) == {"chaosext-backend"}
    assert extras["all"] == ["chaosext-backend[report,stack]"]


def test_the_license_is_an_spdx_expression_built_by_a_setuptools_that_reads_it(pyproject: dict[str, Any]) -> None:
    assert pyproject["project"]["license"] == "Apache-2.0"
    assert (REPO / "LICENSE").is_file()
    assert any(re.fullmatch(r"setuptools>=(7[7-9]|[89]\d)(\.\d+)*", r) for r in pyproject["build-system"]["requires"])
