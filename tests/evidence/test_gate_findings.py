"""What the gate must not call a pass or a breach: a run whose tooling failed is an ERROR (not
judged), a journal that says it deviated never passes, abort times read as UTC and T+seconds,
method probes without a tolerance are named as unjudged, and the verdicts render as a Markdown table."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from evidence_helpers import experiment, make_cli, probe, run_chaos
from junitparser import Error, JUnitXml

from chaosext.evidence.gate import judge

JOURNALS = Path(__file__).resolve().parents[2] / "journals"
ABORTED = JOURNALS / "2026-11-27-a-3-s-payment-latency-under-load-trips-the-abort-criteria-an.json"
KILL = JOURNALS / "2026-11-27-killing-one-of-two-payment-instances-does-not-raise-checkout-2.json"
OK = "import sys; sys.exit(0)"


@pytest.fixture
def cli() -> Any:
    return make_cli()


def _copy(source: Path, folder: Path, change: Any = None) -> Path:
    """A copy of a kept journal, optionally changed (``change(journal)`` edits it in place)."""
    journal = json.loads(source.read_text())
    if change is not None:
        change(journal)
    target = folder / source.name
    target.write_text(json.dumps(journal))
    return target


def _load_without_vegeta(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real run whose load action cannot start: the chaosext cache (where vegeta lives) is empty."""
    monkeypatch.setenv("CHAOSEXT_CACHE_DIR", str(folder / "empty-cache"))
    monkeypatch.setenv("CHAOSEXT_STATE_DIR", str(folder / "state"))
    start_load = {
        "type": "action",
        "name": "start-checkout-load",
        "provider": {
            "type": "python",
            "module": "chaosext.traffic.actions",
            "func": "start_load",
            "arguments": {"rate": 5, "duration": 5, "base_url": "http://127.0.0.1:9"},
        },
    }
    run = run_chaos(folder, "no-vegeta", experiment("Load without vegeta", [probe("5xx-ok", OK)], [start_load]))
    return run.journal


def test_a_load_action_without_vegeta_is_an_error_not_a_breach(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = _load_without_vegeta(tmp_path, monkeypatch)
    data = json.loads(journal.read_text())
    assert data["run"][0]["status"] == "failed"
    assert "vegeta is not installed" in "".join(data["run"][0]["exception"])
    verdict = judge(journal)
    assert verdict.label == "ERROR", verdict
    assert verdict.error is not None and "method action 'start-checkout-load' could not run" in verdict.error
    assert "ToolMissing: vegeta is not installed" in verdict.error
    result = cli("gate", journal, "--junit", tmp_path / "gate.xml")
    assert result.exit_code == 2, result.output
    assert "ERROR" in result.output
    case = next(iter(next(iter(JUnitXml.fromfile(str(tmp_path / "gate.xml"))))))
    error = case.result[0]
    assert isinstance(error, Error) and error.type == "ToolingFailure"


def test_a_process_activity_whose_command_is_missing_is_an_error(cli: Any, tmp_path: Path) -> None:
    missing = {
        "type": "action",
        "name": "inject-with-a-missing-tool",
        "provider": {"type": "process", "path": "/bin/sh", "arguments": ["-c", "chaosext-no-such-tool --go"]},
    }
    run = run_chaos(tmp_path, "missing", experiment("Missing tool", [probe("5xx-ok", OK)], [missing]))
    assert run.data()["run"][0]["output"]["status"] == 127
    verdict = judge(run.journal)
    assert verdict.label == "ERROR" and "its command was not found (exit 127)" in (verdict.error or "")
    assert cli("gate", run.journal).exit_code == 2


def test_an_unreachable_control_endpoint_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fault that cannot reach Toxiproxy's API injected nothing: nothing to judge."""
    monkeypatch.setenv("CHAOSEXT_STATE_DIR", str(tmp_path / "state"))
    latency = {
        "type": "action",
        "name": "slow-down-payment",
        "provider": {
            "type": "python",
            "module": "chaosext.dependency.actions",
            "func": "add_latency",
            "arguments": {"proxy": "payment", "latency_ms": 100, "duration": 5},
        },
    }
    spec = experiment(
        "Toxiproxy down", [probe("5xx-ok", OK)], [latency], configuration={"toxiproxy_url": "http://127.0.0.1:9"}
    )
    run = run_chaos(tmp_path, "no-toxiproxy", spec)
    verdict = judge(run.journal)
    assert verdict.label == "ERROR", verdict
    assert "ToolUnreachable: Toxiproxy at http://127.0.0.1:9 is unreachable" in (verdict.error or "")


def test_a_journal_that_says_it_deviated_never_passes(cli: Any, tmp_path: Path) -> None:
    assert judge(KILL).label == "PASS"  # the kept run itself

    def deviated(journal: dict[str, Any]) -> None:
        assert journal["steady_states"]["after"]["steady_state_met"] is True
        journal["deviated"] = True

    copy_ = _copy(KILL, tmp_path, deviated)
    verdict = judge(copy_)
    assert verdict.label == "FAIL"
    assert "the journal records that the run deviated from its steady state ('deviated': true)" in verdict.reasons
    assert cli("gate", copy_).exit_code == 1


def test_a_deviation_a_check_already_shows_is_not_reported_twice(tmp_path: Path) -> None:
    def after_missed(journal: dict[str, Any]) -> None:
        journal["deviated"] = True
        journal["steady_states"]["after"]["steady_state_met"] = False
        journal["steady_states"]["after"]["probes"][0]["tolerance_met"] = False

    reasons = judge(_copy(KILL, tmp_path, after_missed)).reasons
    assert reasons[0].startswith("steady state not met after the method")
    assert not any("'deviated': true" in r for r in reasons)


def test_the_abort_time_is_utc_iso_with_its_offset_from_the_start() -> None:
    data = json.loads(ABORTED.read_text())
    epoch = str(data["chaosext"]["abort"]["at"])
    reason = judge(ABORTED).reasons[0]
    assert re.match(r"aborted by chaosext at 2026-11-27T\d\d:\d\d:\d\dZ \(T\+\d+ s\): abort criterion", reason), reason
    assert epoch[:10] not in reason


def test_method_probes_without_a_tolerance_are_reported_as_not_judged(cli: Any) -> None:
    verdict = judge(KILL)
    assert verdict.label == "PASS"  # the verdict does not change
    assert verdict.notes == ("method probe 'payment-instances-back' has no tolerance: not judged",)
    result = cli("gate", KILL)
    assert result.exit_code == 0
    assert "warning: " in result.output and "method probe 'payment-instances-back' has no tolerance: not judged" in result.output


def test_the_verdicts_render_as_a_markdown_table(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from chaosext.evidence.gate_markdown import render_markdown

    no_vegeta = _load_without_vegeta(tmp_path / "load", monkeypatch)
    verdicts = [judge(KILL), judge(ABORTED), judge(no_vegeta)]
    markdown = render_markdown(verdicts)
    lines = markdown.splitlines()
    assert lines[0] == "| Journal | Experiment | Verdict | First reason |"
    assert lines[1] == "| --- | --- | --- | --- |"
    rows = lines[2:5]
    assert [r.split(" | ")[2] for r in rows] == ["✅ PASS", "❌ FAIL", "⚠️ ERROR"]
    assert all(r.count(" | ") == 3 for r in rows)  # pipes inside cells are escaped
    assert "could not be judged" in markdown and "has no tolerance: not judged" in markdown
    out = tmp_path / "gate.md"
    result = cli("gate", KILL, ABORTED, "--markdown", out)
    assert result.exit_code == 1
    assert out.read_text().startswith(lines[0])
    assert "┃" not in out.read_text() and "│" not in out.read_text()

