"""The reusable workflow's own steps, end to end against the real local stack (no Docker needed):
steady state, run (chaos run --rollback-strategy always), gate, report and job summary, verdict and
cleanup, called exactly as the composite actions call them (scripts/ci-*.sh)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from cluster.helpers import REPO, VENV_BIN, run, script, shown

pytestmark = pytest.mark.stack

EXPERIMENTS = "tests/cluster/experiments/*.json"


@dataclass
class Run:
    dir: Path
    var_file: Path
    outputs: Path
    summary: Path
    toxiproxy: str


def _toxics(toxiproxy: str) -> list[dict[str, object]]:
    toxics: list[dict[str, object]] = requests.get(f"{toxiproxy}/proxies/payment/toxics", timeout=5).json()
    return toxics


def _endpoints() -> dict[str, str]:
    """The local stack's endpoints, bringing it up if needed (``chaosext stack up`` is idempotent)."""
    proc = run([str(VENV_BIN / "chaosext"), "stack", "up"], timeout=900)
    assert proc.returncode == 0, shown(proc)
    status = run([str(VENV_BIN / "chaosext"), "stack", "status", "--json"], timeout=120)
    assert status.returncode == 0, shown(status)
    endpoints: dict[str, str] = json.loads(status.stdout)["endpoints"]
    return {k: v.rstrip("/") for k, v in endpoints.items()}


@pytest.fixture(scope="module")
def chaos_run(stack_session: dict[str, object], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """One run of both test experiments through the run, gate and report steps (GITHUB_* files set)."""
    endpoints = _endpoints()
    base = tmp_path_factory.mktemp("chaos-run")
    var_file = base / "local.yaml"
    var_file.write_text(f"configuration:\n  target: local\n  checkout_url: {endpoints['checkout']}\n")
    run = Run(
        dir=base / "run",
        var_file=var_file,
        outputs=base / "github-output",
        summary=base / "summary.md",
        toxiproxy=endpoints["toxiproxy"],
    )
    github = {"GITHUB_OUTPUT": str(run.outputs), "GITHUB_STEP_SUMMARY": str(run.summary)}
    proc = script(
        "ci-run-experiments.sh",
        "--experiments",
        EXPERIMENTS,
        "--var-file",
        str(var_file),
        "--run-dir",
        str(run.dir),
        env=github,
        timeout=600,
    )
    assert proc.returncode == 0, shown(proc)
    assert "[2/2]" in proc.stdout
    proc = script("ci-gate.sh", "--run-dir", str(run.dir), env=github, timeout=300)
    assert proc.returncode == 0, shown(proc)
    proc = script(
        "ci-report.sh",
        "--run-dir",
        str(run.dir),
        "--artifact",
        "chaosext-evidence-1",
        env=github,
        timeout=300,
    )
    assert proc.returncode == 0, shown(proc)
    yield run


def test_steady_state_holds_on_the_local_stack(stack: object) -> None:
    proc = script(
        "ci-steady-state.sh", "--var-file", "@chaosext/cluster/targets/local.yaml", "--timeout", "60"
    )
    assert proc.returncode == 0, shown(proc)
    assert "steady state met: checkout, charge, toxiproxy, prometheus" in proc.stdout
    assert re.search(r"charge: ok: POST \S+/api/checkout 201 paid", proc.stdout), proc.stdout
    assert "checkout-api x2, payment-service x2, order-consumer x1" in proc.stdout


def _steady_state_with_toxic(toxiproxy: str, toxic: dict[str, object]) -> subprocess.CompletedProcess[str]:
    """The steady-state step (3 s deadline) while ``toxic`` is on the payment path; the toxic is
    removed again whatever happens."""
    resp = requests.post(f"{toxiproxy}/proxies/payment/toxics", json=toxic, timeout=5)
    assert resp.status_code == 200, resp.text
    try:
        return script("ci-steady-state.sh", "--var-file", "@chaosext/cluster/targets/local.yaml", "--timeout", "3")
    finally:
        requests.delete(f"{toxiproxy}/proxies/payment/toxics/{toxic['name']}", timeout=5)
        assert _toxics(toxiproxy) == []


def test_steady_state_is_not_met_while_the_payment_path_has_a_toxic(stack: object) -> None:
    toxic = {"name": "ci-step-test", "type": "latency", "stream": "downstream", "attributes": {"latency": 50}}
    proc = _steady_state_with_toxic(stack.url("toxiproxy"), toxic)  # type: ignore[attr-defined]
    assert proc.returncode == 1, shown(proc)
    assert "steady state NOT met: toxiproxy: proxy 'payment' has toxics ['ci-step-test']" in proc.stderr


def test_steady_state_is_not_met_while_checkouts_are_not_paid(stack: object) -> None:
    """A payment path that holds every connection (a timeout toxic) leaves checkout ready but
    unable to charge: the charge check names it, not only the toxic."""
    toxic = {"name": "ci-step-stall", "type": "timeout", "stream": "upstream", "attributes": {"timeout": 0}}
    proc = _steady_state_with_toxic(stack.url("toxiproxy"), toxic)  # type: ignore[attr-defined]
    assert proc.returncode == 1, shown(proc)
    assert re.search(
        r"steady state NOT met: charge: POST \S+/api/checkout answered 5\d\d \(\w+\), want 201 paid", proc.stderr
    ), shown(proc)
    assert "checkout: ok: GET" in proc.stdout, shown(proc)


def test_every_experiment_ran_with_rollbacks_and_left_nothing_behind(chaos_run: Run) -> None:
    rows = [line.split("\t") for line in (chaos_run.dir / "experiments.txt").read_text().splitlines()]
    assert {r[0]: r[3] for r in rows} == {
        "payment-latency-breach": "failed",
        "payment-latency-held": "completed",
    }
    breach = json.loads((chaos_run.dir / "journals" / "payment-latency-breach.json").read_text())
    assert breach["deviated"] is True
    for name in ("payment-latency-breach", "payment-latency-held"):
        journal = json.loads((chaos_run.dir / "journals" / f"{name}.json").read_text())
        assert [r["activity"]["name"] for r in journal["rollbacks"]] == ["remove-payment-latency"]
        assert journal["rollbacks"][0]["status"] == "succeeded"
        assert (chaos_run.dir / "logs" / f"{name}.log").stat().st_size > 0
    assert _toxics(chaos_run.toxiproxy) == []


def test_gate_judges_the_breach_and_writes_verdict_and_junit(chaos_run: Run) -> None:
    assert (chaos_run.dir / "verdict.txt").read_text().strip() == "fail"
    assert "verdict=fail" in chaos_run.outputs.read_text()
    gate = (chaos_run.dir / "gate.txt").read_text()
    assert "PASS" in gate and "FAIL" in gate and "steady state not met after the method" in gate
    cases = ET.parse(chaos_run.dir / "junit.xml").getroot().iter("testcase")
    failed = [c for c in cases if c.find("failure") is not None]
    assert len(failed) == 1


def test_report_writes_the_experiment_log_and_the_job_summary(chaos_run: Run) -> None:
    log = (chaos_run.dir / "report" / "experiment-log.md").read_text()
    assert "Checkout stays ready while payment is 200 ms slower" in log
    summary = chaos_run.summary.read_text()
    assert summary.startswith("## chaosext: FAIL")
    assert "artifact `chaosext-evidence-1`" in summary
    assert "### SLO gate" in summary and "Checkout answers within 1 s" in summary
    assert "](" not in summary.split("### SLO gate")[1] or "![" not in summary
    assert summary == (chaos_run.dir / "job-summary.md").read_text()


@pytest.mark.parametrize(
    ("verdict", "fail_on_breach", "code"),
    [
        ("pass", "true", 0),
        ("fail", "true", 1),
        ("fail", "false", 0),
        ("error", "false", 1),
        ("", "true", 1),
    ],
)
def test_verdict_step(verdict: str, fail_on_breach: str, code: int) -> None:
    proc = script("ci-verdict.sh", "--verdict", verdict, "--fail-on-breach", fail_on_breach)
    assert proc.returncode == code, shown(proc)


def test_verdict_step_rejects_bad_arguments() -> None:
    proc = script("ci-verdict.sh", "--verdict", "maybe")
    assert proc.returncode == 2 and "--verdict must be pass, fail or error" in proc.stderr
    proc = script("ci-verdict.sh", "--verdict", "pass", "--fail-on-breach", "yes")
    assert proc.returncode == 2 and "--fail-on-breach must be true or false" in proc.stderr


def test_gate_passes_a_run_whose_experiments_all_held(chaos_run: Run, tmp_path: Path) -> None:
    (tmp_path / "journals").mkdir()
    shutil.copy(chaos_run.dir / "journals" / "payment-latency-held.json", tmp_path / "journals")
    proc = script("ci-gate.sh", "--run-dir", str(tmp_path))
    assert proc.returncode == 0, shown(proc)
    assert proc.stdout.strip().endswith("verdict=pass")


def test_gate_without_journals_is_an_error(tmp_path: Path) -> None:
    proc = script("ci-gate.sh", "--run-dir", str(tmp_path))
    assert proc.returncode == 0, shown(proc)
    assert (tmp_path / "verdict.txt").read_text().strip() == "error"
    proc = script("ci-report.sh", "--run-dir", str(tmp_path))
    assert proc.returncode == 0, shown(proc)
    assert "No experiment log" in (tmp_path / "job-summary.md").read_text()


def test_run_rejects_bad_arguments_before_running_anything(tmp_path: Path) -> None:
    cases = [
        (["--experiments", "nothing/*.json", "--run-dir", str(tmp_path / "a")], "matches no file"),
        (
            [
                "--experiments",
                EXPERIMENTS,
                "--var-file",
                str(tmp_path / "missing.yaml"),
                "--run-dir",
                str(tmp_path / "b"),
            ],
            "does not exist",
        ),
        (["--experiments", "pyproject.toml", "--run-dir", str(tmp_path / "c")], "not an experiment file"),
        (["--run-dir", str(tmp_path / "d")], "--experiments is required"),
    ]
    bad_target = tmp_path / "bad.yaml"
    bad_target.write_text("configuration:\n  target: mars\n")
    cases.append(
        (
            ["--experiments", EXPERIMENTS, "--var-file", str(bad_target), "--run-dir", str(tmp_path / "e")],
            "configuration.target must be one of local, kubernetes, got 'mars'",
        )
    )
    for args, needle in cases:
        proc = script("ci-run-experiments.sh", *args)
        assert proc.returncode == 2, shown(proc)
        assert needle in proc.stderr, shown(proc)
        assert not list(tmp_path.glob("*/journals/*.json"))


def test_cleanup_step_runs_chaosext_cleanup(tmp_path: Path) -> None:
    proc = script("ci-cleanup.sh", "--run-dir", str(tmp_path), timeout=300)
    assert proc.returncode == 0, shown(proc)
    assert "leftover fault(s) removed" in (tmp_path / "cleanup.txt").read_text()


def test_chaosext_paths_resolve_inside_the_repository_from_any_folder(tmp_path: Path) -> None:
    """A caller's workspace is not this repository: @chaosext/ paths still find the bundled files."""
    proc = script(
        "ci-steady-state.sh",
        "--var-file",
        "@chaosext/cluster/targets/nope.yaml",
        "--timeout",
        "1",
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert f"{REPO}/cluster/targets/nope.yaml does not exist" in proc.stderr
