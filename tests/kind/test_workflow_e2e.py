"""The reusable workflow's own steps, run here against the kind cluster (cluster/ci/run_workflow.py
reads chaos.yml and every action.yml and runs their steps in order, as GitHub's runner does):
the CI-sized experiments are judged by the gate, and a hypothesis broken on purpose fails the job."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from kind.helpers import REPO, KindCluster

WORKFLOW_TIMEOUT_S = 2400
# what ci.yml runs on every merge (the guide's CI row): dependency latency, dependency 503, pod
# kill; the kill last, as its tail (see test_pod_kill.py) would weigh on the next one's steady state
CI_EXPERIMENTS = ("payment-latency-3s", "payment-503", "payment-instance-kill")
BREACH = REPO / "tests" / "kind" / "experiments" / "five-payment-instances.json"


def run_workflow(tmp_path: Path, experiments: str, pytestconfig: pytest.Config) -> tuple[int, dict[str, str], Path]:
    """Run chaos.yml's job with these experiments; its exit code, its key=value lines, its evidence."""
    cmd = [sys.executable, str(REPO / "cluster" / "ci" / "run_workflow.py"), "--input", f"experiments={experiments}",
           "--workspace", str(tmp_path / "workspace"), "--evidence", str(tmp_path / "evidence")]
    lines: list[str] = []
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env=dict(os.environ))
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stderr.write(line)
            lines.append(line.rstrip())
        code = proc.wait(timeout=WORKFLOW_TIMEOUT_S)
    values = dict(line.split("=", 1) for line in lines if line.startswith(("verdict=", "evidence=")))
    assert "verdict" in values and "evidence" in values, "the job printed no verdict/evidence:\n" + "\n".join(lines[-30:])
    runs = [p for p in Path(values["evidence"]).iterdir() if p.is_dir()]
    assert len(runs) == 1, f"expected one uploaded artifact in {values['evidence']}: {runs}"
    return code, values, runs[0]


def test_ci_experiments_run_through_the_workflows_steps_and_the_gate(kind_cluster: KindCluster, tmp_path: Path,
                                                                     pytestconfig: pytest.Config) -> None:
    experiments = " ".join(f"@chaosext/experiments/{name}.json" for name in CI_EXPERIMENTS)
    code, values, artifact = run_workflow(tmp_path, experiments, pytestconfig)
    journals = {p.stem: json.loads(p.read_text()) for p in (artifact / "journals").glob("*.json")}
    assert sorted(journals) == sorted(CI_EXPERIMENTS), f"journals uploaded: {sorted(journals)}"
    # the runs targeted the cluster: the kill removed a pod of it, the 503s came through its
    # ConfigMap, and the evidence holds what was deployed and the cluster's pod logs
    kill = {r["activity"]["name"]: r for r in journals["payment-instance-kill"]["run"]}["kill-one-payment-instance"]
    assert kill["output"]["target"] == "kubernetes" and kill["output"]["killed"], kill["output"]
    outage = {r["activity"]["name"]: r for r in journals["payment-503"]["run"]}["payment-answers-503"]
    assert outage["output"]["target"] == "configmap/chaosext/payment-service-config", outage["output"]
    assert (artifact / "manifests.yaml").is_file()
    assert list((artifact / "cluster" / "pods").glob("payment-service-*.log"))
    # the experiment log (chaosext report: the [report] extra the CI install adds) with a timeline per run
    assert (artifact / "report" / "experiment-log.md").is_file(), sorted(p.name for p in artifact.iterdir())
    assert len(list((artifact / "report").glob("*.png"))) == len(CI_EXPERIMENTS)
    # the job's verdict is the gate's, over every journal, and its exit follows it
    verdicts = {name: gate_exit(artifact / "journals" / f"{name}.json") for name in CI_EXPERIMENTS}
    assert all(v in (0, 1) for v in verdicts.values()), f"a journal could not be judged: {verdicts}"
    assert values["verdict"] == (artifact / "verdict.txt").read_text().strip()
    assert values["verdict"] == ("pass" if not any(verdicts.values()) else "fail"), verdicts
    assert code == (0 if values["verdict"] == "pass" else 1)
    # these hold on kind: checkout answers a structured error within its budget under 3 s of
    # payment latency, and its breaker opens and closes again around payment's 503s
    gate = (artifact / "gate.md").read_text()
    assert verdicts["payment-latency-3s"] == 0, gate
    assert verdicts["payment-503"] == 0, gate


def gate_exit(journal: Path) -> int:
    """`chaosext gate JOURNAL`'s exit: 0 pass, 1 breach, 2 error."""
    chaosext = Path(sys.executable).parent / "chaosext"
    return subprocess.run([str(chaosext), "gate", str(journal)], capture_output=True, timeout=120).returncode


def test_a_broken_hypothesis_fails_the_job_with_verdict_fail(kind_cluster: KindCluster, tmp_path: Path,
                                                             pytestconfig: pytest.Config) -> None:
    code, values, artifact = run_workflow(tmp_path, str(BREACH.relative_to(REPO)), pytestconfig)
    assert values["verdict"] == "fail", (artifact / "gate.md").read_text()
    assert code == 1
    journal = json.loads((artifact / "journals" / f"{BREACH.stem}.json").read_text())
    assert journal["steady_states"]["before"]["steady_state_met"] is False
