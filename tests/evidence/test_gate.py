"""The SLO gate on real `chaos run` journals: every way a run can look fine but is not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from evidence_helpers import (
    ChaosRun,
    action,
    experiment,
    make_cli,
    probe,
    python_action,
    run_chaos,
    run_chaos_interrupted,
)
from junitparser import Error, Failure, JUnitXml

from chaosext.evidence.gate import judge

OK = "import sys; sys.exit(0)"
BAD = "import sys; sys.exit(1)"


@pytest.fixture
def cli() -> Any:
    return make_cli()


def _absent(marker: Path) -> str:
    return f"import os, sys; sys.exit(1 if os.path.exists({str(marker)!r}) else 0)"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ChaosRun]:
    folder = tmp_path_factory.mktemp("journals")
    marker = folder / "fault-active"
    restore = [action("restore-pod", "print('restored')")]
    made: dict[str, ChaosRun] = {}
    made["pass"] = run_chaos(
        folder,
        "pass",
        experiment("Clean pass", [probe("5xx-ok", OK)], [action("kill-pod", "print(1)")], restore),
    )
    made["before"] = run_chaos(
        folder,
        "before",
        experiment("Unhealthy before", [probe("5xx-ok", BAD)], [action("kill-pod", "print(1)")], restore),
    )
    made["method"] = run_chaos(
        folder,
        "method",
        experiment(
            "Method action fails",
            [probe("5xx-ok", OK)],
            [python_action("charge-card", "fail"), action("kill-pod", "import sys; sys.exit(3)")],
            restore,
        ),
    )
    made["rollback"] = run_chaos(
        folder,
        "rollback",
        experiment(
            "Rollback fails",
            [probe("5xx-ok", OK)],
            [action("kill-pod", "print(1)")],
            [python_action("restore-pod", "fail", {"message": "pod stuck in Terminating"})],
        ),
    )
    inject = action("inject", f"open({str(marker)!r}, 'w').close()", pauses={"after": 1.5})
    remove = action("remove", f"import os; os.remove({str(marker)!r})")
    made["during"] = run_chaos(
        folder,
        "during",
        experiment(
            "Missed during the method", [probe("no-fault", _absent(marker))], [inject, remove], restore
        ),
        "--hypothesis-strategy",
        "continuously",
        "--hypothesis-frequency",
        "0.2",
    )
    made["interrupted"] = run_chaos_interrupted(
        folder,
        "interrupted",
        experiment(
            "Interrupted by SIGTERM",
            [probe("5xx-ok", OK)],
            [action("long-outage", "import time; time.sleep(60)")],
            restore,
        ),
        marker="Action: long-outage",
    )
    guard = {
        "name": "guard",
        "provider": {
            "type": "python",
            "module": "evidence_workload",
            "arguments": {"abort_reason": "p99 1.2 s is over twice the 500 ms threshold"},
        },
    }
    made["abort"] = run_chaos(
        folder,
        "abort",
        experiment(
            "Guardrail abort",
            [probe("5xx-ok", OK)],
            [action("kill-pod", "print(1)")],
            restore,
            controls=[guard],
        ),
    )
    made["norollback"] = run_chaos(
        folder,
        "norollback",
        experiment("Rollbacks skipped", [probe("5xx-ok", OK)], [action("kill-pod", "print(1)")], restore),
        "--rollback-strategy",
        "never",
    )
    return made


def _gate(cli: Any, *paths: Path | str) -> Any:
    return cli("gate", *paths)


def test_clean_pass_exits_0(cli: Any, runs: dict[str, ChaosRun]) -> None:
    result = _gate(cli, runs["pass"].journal)
    assert result.exit_code == 0, result.output
    assert "PASS" in result.output and "Clean pass" in result.output
    assert judge(runs["pass"].journal).reasons == ()


@pytest.mark.parametrize(
    ("case", "first_reason", "chaos_exit"),
    [
        (
            "before",
            "steady state not met before the method: probe '5xx-ok' out of tolerance (got exit code 1",
            0,
        ),
        ("method", "method action 'charge-card' failed: ", None),
        ("rollback", "rollback action 'restore-pod' failed: ", 0),
        ("during", "steady state missed during the method in ", 0),
        ("interrupted", "run interrupted", None),
        ("abort", "aborted by chaosext at ", 0),
        ("norollback", "1 rollback(s) declared but none were played", 0),
    ],
)
def test_breach_exits_1_with_first_reason(
    cli: Any, runs: dict[str, ChaosRun], case: str, first_reason: str, chaos_exit: int | None
) -> None:
    run = runs[case]
    if chaos_exit is not None:  # chaos itself often says all is well
        assert run.returncode == chaos_exit
    verdict = judge(run.journal)
    assert verdict.label == "FAIL"
    assert verdict.reasons[0].startswith(first_reason), verdict.reasons
    result = _gate(cli, run.journal)
    assert result.exit_code == 1, result.output
    assert "FAIL" in result.output


def test_before_not_met_is_completed_for_chaoslib(runs: dict[str, ChaosRun]) -> None:
    data = runs["before"].data()
    assert data["status"] == "completed" and data["steady_states"]["before"]["steady_state_met"] is False
    assert len(judge(runs["before"].journal).reasons) == 1  # the method never ran: no noise after it


def test_every_method_breach_is_listed(runs: dict[str, ChaosRun]) -> None:
    reasons = judge(runs["method"].journal).reasons
    assert "RuntimeError: payment-service refused the kill" in reasons[0]
    assert any(r == "method action 'kill-pod' exited with code 3" for r in reasons), reasons


def test_rollback_failure_names_the_error(runs: dict[str, ChaosRun]) -> None:
    reasons = judge(runs["rollback"].journal).reasons
    assert reasons == ("rollback action 'restore-pod' failed: RuntimeError: pod stuck in Terminating",)


def test_during_miss_counts_checks(runs: dict[str, ChaosRun]) -> None:
    data = runs["during"].data()
    assert data["status"] == "completed" and data["deviated"] is False
    assert data["steady_states"]["after"]["steady_state_met"] is True
    reason = judge(runs["during"].journal).reasons[0]
    misses = sum(1 for s in data["steady_states"]["during"] if s["steady_state_met"] is False)
    assert misses >= 1
    assert f"in {misses} of {len(data['steady_states']['during'])} checks: probe 'no-fault'" in reason


def test_interrupted_run_lists_unfinished_action(runs: dict[str, ChaosRun]) -> None:
    data = runs["interrupted"].data()
    assert data["status"] == "interrupted"
    reasons = judge(runs["interrupted"].journal).reasons
    assert "method action 'long-outage' did not finish" in reasons
    assert data["rollbacks"] and data["rollbacks"][0]["status"] == "succeeded"  # --rollback-strategy always


def test_abort_reason_is_shown(cli: Any, runs: dict[str, ChaosRun]) -> None:
    result = _gate(cli, runs["abort"].journal)
    assert "p99 1.2 s is over twice" in result.output


def test_one_breach_among_many_fails_the_batch(cli: Any, runs: dict[str, ChaosRun]) -> None:
    result = _gate(cli, runs["pass"].journal, runs["during"].journal)
    assert result.exit_code == 1
    assert "1 of 2 journal(s) pass" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "journal file not found"),
        ("{not json", "not valid JSON"),
        (json.dumps({"hello": "world"}), "not a Chaos Toolkit journal (missing 'experiment', 'status'"),
        (json.dumps([1, 2]), "not a Chaos Toolkit journal (a JSON list"),
    ],
)
def test_bad_journal_exits_2_naming_the_file(
    cli: Any, runs: dict[str, ChaosRun], tmp_path: Path, content: str | None, message: str
) -> None:
    bad = tmp_path / "bad-journal.json"
    if content is not None:
        bad.write_text(content)
    result = _gate(cli, runs["pass"].journal, bad)
    assert result.exit_code == 2, result.output
    assert str(bad) in result.output and message in result.output
    assert "Traceback" not in result.output


def test_junit_xml_has_one_case_per_journal(cli: Any, runs: dict[str, ChaosRun], tmp_path: Path) -> None:
    junit = tmp_path / "out" / "gate.xml"
    order = ["pass", "before", "method", "rollback", "during", "interrupted", "abort", "norollback"]
    missing = tmp_path / "missing.json"
    result = _gate(cli, *(runs[name].journal for name in order), missing, "--junit", junit)
    assert result.exit_code == 2
    suite = next(iter(JUnitXml.fromfile(str(junit))))
    cases = list(suite)
    assert len(cases) == len(order) + 1
    assert suite.failures == len(order) - 1 and suite.errors == 1
    assert cases[0].is_passed and cases[0].name == "Clean pass"
    during = cases[order.index("during")]
    failure = during.result[0]
    assert isinstance(failure, Failure)
    assert failure.message is not None and "steady state missed during the method" in failure.message
    error = cases[-1].result[0]
    assert isinstance(error, Error) and error.message is not None and str(missing) in error.message


def test_method_probe_with_a_tolerance_is_judged_by_the_gate(cli: Any, tmp_path: Path) -> None:
    """chaoslib ignores tolerances outside the steady-state hypothesis (the run 'completes');
    the gate applies them, so a during-fault check can fail the build."""

    def median_probe(values: list[float]) -> dict[str, Any]:
        return {"type": "probe", "name": "client-p99-during-fault-ms", "tolerance": {"type": "range", "range": [0, 800]},
                "provider": {"type": "python", "module": "statistics", "func": "median",
                             "arguments": {"data": values}}}

    slow = run_chaos(tmp_path, "slow", experiment("p99 checked during the fault", [probe("5xx-ok", OK)],
                                                  [median_probe([900.0, 950.0])]))
    fast = run_chaos(tmp_path, "fast", experiment("p99 checked during the fault", [probe("5xx-ok", OK)],
                                                  [median_probe([120.0, 130.0])]))
    assert slow.data()["status"] == "completed"  # what chaos run alone would report
    result = _gate(cli, slow.journal)
    assert result.exit_code == 1
    assert "during-method check 'client-p99-during-fault-ms' out of tolerance (got 925.0" in result.output
    assert _gate(cli, fast.journal).exit_code == 0


def test_jsonpath_tolerance_is_judged_like_chaoslib_does(cli: Any, tmp_path: Path) -> None:
    """Chaos Toolkit's jsonpath tolerance (``{"type": "jsonpath", "path": "$.ready", "expect": 2}``)
    needs jsonpath2, which chaosext installs: without it every such check was a breach."""

    def ready_probe(ready: int) -> dict[str, Any]:
        return {"type": "probe", "name": "replicas-still-running",
                "tolerance": {"type": "jsonpath", "path": "$.ready", "expect": 2},
                "provider": {"type": "python", "module": "json", "func": "loads",
                             "arguments": {"s": f'{{"service": "payment-service", "ready": {ready}}}'}}}

    both = run_chaos(tmp_path, "both", experiment("replicas checked", [probe("5xx-ok", OK)], [ready_probe(2)]))
    one = run_chaos(tmp_path, "one", experiment("replicas checked", [probe("5xx-ok", OK)], [ready_probe(1)]))
    assert _gate(cli, both.journal).exit_code == 0
    result = _gate(cli, one.journal)
    assert result.exit_code == 1 and "'replicas-still-running' out of tolerance" in result.output
