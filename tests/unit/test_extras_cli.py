"""Commands that need an extra this environment lacks say which one to install, exit 2, and
change nothing; ``chaosext experiments`` lists and copies the guide's experiments."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chaosext.bundle import experiments_dir
from chaosext.cli import app
from chaosext.errors import MissingExtra
from chaosext.experiments_cli import available
from chaosext.extras import missing_modules, require

runner = CliRunner()


@pytest.fixture
def without(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Modules made invisible to the extras check, as in an environment without them."""
    hidden: set[str] = set()
    real = importlib.util.find_spec

    def find_spec(name: str, *args: object, **kwargs: object) -> object:
        return None if name in hidden else real(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    return hidden


def test_require_names_the_extra_and_the_missing_modules(without: set[str]) -> None:
    without.add("matplotlib")
    assert missing_modules("report") == ["matplotlib"]
    with pytest.raises(MissingExtra, match=r"needs the \[report\] extra \(missing: matplotlib\).*chaosext-backend\[report\]"):
        require("report", "x")
    assert MissingExtra.exit_code == 2


def test_an_unknown_extra_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown extra 'plots'"):
        missing_modules("plots")


def test_report_without_the_report_extra_exits_2_and_writes_nothing(without: set[str], tmp_path: Path) -> None:
    without.add("matplotlib")
    journal = tmp_path / "journal.json"
    journal.write_text("{}")
    output = tmp_path / "report"
    result = runner.invoke(app, ["report", str(journal), "--output", str(output)])
    assert result.exit_code == 2, result.output
    assert "chaosext-backend[report]" in result.output
    assert not output.exists()


@pytest.mark.parametrize("command", ["up", "status", "down"])
def test_stack_commands_without_the_stack_extra_exit_2_and_change_nothing(
    without: set[str], command: str, state_dir: Path
) -> None:
    without.add("supervisor")
    result = runner.invoke(app, ["stack", command])
    assert result.exit_code == 2, result.output
    assert "chaosext-backend[stack]" in result.output
    assert not (state_dir / "stack").exists()


def test_install_without_the_stack_extra_exits_2(without: set[str]) -> None:
    without.add("dnslib")
    result = runner.invoke(app, ["install"])
    assert result.exit_code == 2, result.output
    assert "chaosext-backend[stack]" in result.output


def test_experiments_list_names_every_experiment_with_its_title() -> None:
    result = runner.invoke(app, ["experiments", "list"])
    assert result.exit_code == 0, result.output
    lines = dict(line.split("\t", 1) for line in result.stdout.splitlines())
    assert set(lines) == {p.relative_to(experiments_dir()).as_posix() for p in experiments_dir().rglob("*.json")}
    title = json.loads((experiments_dir() / "payment-503.json").read_text())["title"]
    assert lines["payment-503.json"] == title


def test_experiments_copy_copies_every_file_identically(tmp_path: Path) -> None:
    dest = tmp_path / "mine"
    result = runner.invoke(app, ["experiments", "copy", str(dest)])
    assert result.exit_code == 0, result.output
    for name, source in available().items():
        assert (dest / name).read_bytes() == source.read_bytes(), name


def test_experiments_copy_of_named_ones_only(tmp_path: Path) -> None:
    dest = tmp_path / "mine"
    result = runner.invoke(app, ["experiments", "copy", str(dest), "payment-503.json"])
    assert result.exit_code == 0, result.output
    assert [p.name for p in dest.iterdir()] == ["payment-503.json"]


def test_experiments_copy_of_an_unknown_name_exits_2_and_copies_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "mine"
    result = runner.invoke(app, ["experiments", "copy", str(dest), "payment-503.json", "nope.json"])
    assert result.exit_code == 2, result.output
    assert "nope.json" in result.output
    assert not dest.exists()


def test_experiments_copy_never_overwrites_without_force(tmp_path: Path) -> None:
    dest = tmp_path / "mine"
    dest.mkdir()
    (dest / "payment-503.json").write_text("mine")
    result = runner.invoke(app, ["experiments", "copy", str(dest)])
    assert result.exit_code == 2, result.output
    assert "--force" in result.output
    assert [p.name for p in dest.iterdir()] == ["payment-503.json"]
    assert (dest / "payment-503.json").read_text() == "mine"
    forced = runner.invoke(app, ["experiments", "copy", str(dest), "--force"])
    assert forced.exit_code == 0, forced.output
    assert (dest / "payment-503.json").read_bytes() == (experiments_dir() / "payment-503.json").read_bytes()


def test_experiments_copy_into_a_file_exits_2(tmp_path: Path) -> None:
    target = tmp_path / "a-file"
    target.write_text("x")
    result = runner.invoke(app, ["experiments", "copy", str(target)])
    assert result.exit_code == 2, result.output
    assert "not a folder" in result.output
    assert target.read_text() == "x"


@pytest.mark.parametrize("module", ["chaosext", "chaosext.cli"])
def test_python_dash_m_runs_the_same_cli(module: str) -> None:
    done = subprocess.run([sys.executable, "-m", module, "experiments", "list"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "payment-instance-kill" in done.stdout
