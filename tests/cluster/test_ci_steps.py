"""The workflow's step scripts on what can go wrong without a cluster or the stack: a glob that
matches nothing, an experiment that runs too long, a run whose tooling failed, a cleanup that fails,
an empty verdict, artifact names of several calls, the caller's own set-up and manifests, and the
job summary's gate table. Real `chaos run`s of small process-only experiments; the manifests are
also applied once to the real kube-apiserver (marker kube)."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from cluster.conftest import ControlPlane
from cluster.helpers import REPO, run, script, shown

JOURNALS = REPO / "journals"
ABORTED = JOURNALS / "2026-11-27-a-3-s-payment-latency-under-load-trips-the-abort-criteria-an.json"
KILL = JOURNALS / "2026-11-27-killing-one-of-two-payment-instances-does-not-raise-checkout-2.json"
PY = shutil.which("python3") or "python3"


def _process(name: str, code: str, kind: str = "action") -> dict[str, Any]:
    return {"type": kind, "name": name, "provider": {"type": "process", "path": PY, "arguments": ["-c", code]}}


def _experiment(folder: Path, name: str, method: list[dict[str, Any]], rollbacks: list[dict[str, Any]]) -> Path:
    spec = {
        "version": "1.0.0",
        "title": name,
        "description": "ci step test",
        "steady-state-hypothesis": {
            "title": "fine",
            "probes": [{**_process("ok", "import sys; sys.exit(0)", "probe"), "tolerance": 0}],
        },
        "method": method,
        "rollbacks": rollbacks,
    }
    path = folder / f"{name}.json"
    path.write_text(json.dumps(spec))
    return path


@pytest.fixture
def var_file(tmp_path: Path) -> Path:
    path = tmp_path / "target.yaml"
    path.write_text("configuration:\n  target: local\n")
    return path


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Each test's own chaosext state and cache: nothing leaks into the machine's."""
    return {"CHAOSEXT_STATE_DIR": str(tmp_path / "state"), "CHAOSEXT_CACHE_DIR": str(tmp_path / "cache")}


def _rows(run_dir: Path) -> list[list[str]]:
    return [line.split("\t") for line in (run_dir / "experiments.txt").read_text().splitlines()]


def test_a_glob_that_matches_nothing_is_an_error_naming_it(tmp_path: Path, var_file: Path, env: dict[str, str]) -> None:
    exps = tmp_path / "exps"
    exps.mkdir()
    _experiment(exps, "quick", [_process("noop", "print(1)")], [])
    run_dir = tmp_path / "run"
    proc = script(
        "ci-run-experiments.sh", "--experiments", f"{exps}/*.json {exps}/typo-*.json",
        "--var-file", str(var_file), "--run-dir", str(run_dir), env=env, timeout=120,
    )
    assert proc.returncode == 2, shown(proc)
    assert f"--experiments: '{exps}/typo-*.json' matches no file" in proc.stderr
    assert not (run_dir / "journals").exists()  # nothing ran
    proc = script(
        "ci-run-experiments.sh", "--experiments", f"{exps}/quick.json {exps}/quik.json",
        "--var-file", str(var_file), "--run-dir", str(run_dir), env=env, timeout=120,
    )
    assert proc.returncode == 2, shown(proc)
    assert f"--experiments: '{exps}/quik.json' matches no file" in proc.stderr


def test_an_experiment_over_its_time_limit_is_stopped_rolled_back_and_judged_error(
    tmp_path: Path, var_file: Path, env: dict[str, str]
) -> None:
    exps = tmp_path / "exps"
    exps.mkdir()
    restored = tmp_path / "restored"
    _experiment(
        exps, "hangs", [_process("long-outage", "import time; time.sleep(120)")],
        [_process("restore", f"open({str(restored)!r}, 'w').close()")],
    )
    run_dir = tmp_path / "run"
    started = time.monotonic()
    proc = script(
        "ci-run-experiments.sh", "--experiments", f"{exps}/*.json", "--var-file", str(var_file),
        "--run-dir", str(run_dir), "--timeout-seconds", "4", "--kill-after-seconds", "60",
        env={**env, "GITHUB_ACTIONS": "true"}, timeout=180,
    )
    assert time.monotonic() - started < 60, "the experiment was not stopped at its time limit"
    assert proc.returncode == 1, shown(proc)
    assert "::error::experiment hangs timed out after 4s" in proc.stdout
    (row,) = _rows(run_dir)
    assert row[0] == "hangs" and row[2] == "124" and row[3].startswith("timed out after 4s (SIGTERM; journal: interrupted")
    journal = json.loads((run_dir / "journals" / "hangs.json").read_text())
    assert journal["status"] == "interrupted"
    assert journal["rollbacks"][0]["status"] == "succeeded" and restored.exists()  # SIGTERM: rollbacks ran
    gate = script("ci-gate.sh", "--run-dir", str(run_dir), env=env, timeout=120)
    assert gate.returncode == 0, shown(gate)
    assert (run_dir / "verdict.txt").read_text().strip() == "error"
    assert "experiment hangs timed out after 4s" in (run_dir / "gate.txt").read_text()


def test_an_experiment_that_ignores_sigterm_is_killed_after_the_grace_period(
    tmp_path: Path, var_file: Path, env: dict[str, str]
) -> None:
    exps = tmp_path / "exps"
    exps.mkdir()
    _experiment(
        exps, "stuck", [_process("long-outage", "import time; time.sleep(120)")],
        [_process("stuck-restore", "import time; time.sleep(120)")],
    )
    run_dir = tmp_path / "run"
    started = time.monotonic()
    proc = script(
        "ci-run-experiments.sh", "--experiments", f"{exps}/*.json", "--var-file", str(var_file),
        "--run-dir", str(run_dir), "--timeout-seconds", "3", "--kill-after-seconds", "3", env=env, timeout=180,
    )
    assert time.monotonic() - started < 60
    assert proc.returncode == 1, shown(proc)
    (row,) = _rows(run_dir)
    assert row[2] == "137" and row[3].startswith("timed out after 3s (SIGTERM, then SIGKILL after 3s"), row
    script("ci-gate.sh", "--run-dir", str(run_dir), env=env, timeout=120)
    assert (run_dir / "verdict.txt").read_text().strip() == "error"


def test_run_step_rejects_bad_time_limits(tmp_path: Path, var_file: Path) -> None:
    for args, needle in ((["--timeout-seconds", "0"], "--timeout-seconds must be a positive integer"),
                         (["--timeout-minutes", "soon"], "--timeout-minutes must be a positive integer"),
                         (["--kill-after-seconds"], "--kill-after-seconds needs a value")):
        proc = script("ci-run-experiments.sh", "--experiments", "x.json", "--run-dir", str(tmp_path / "r"), *args)
        assert proc.returncode == 2 and needle in proc.stderr, shown(proc)


def test_a_run_whose_load_tool_is_missing_gets_the_verdict_error(
    tmp_path: Path, var_file: Path, env: dict[str, str]
) -> None:
    """start_load with no vegeta installed (an empty chaosext cache): the CI gate says error, not fail."""
    exps = tmp_path / "exps"
    exps.mkdir()
    load = {
        "type": "action", "name": "start-checkout-load",
        "provider": {"type": "python", "module": "chaosext.traffic.actions", "func": "start_load",
                     "arguments": {"rate": 5, "duration": 5, "base_url": "http://127.0.0.1:9"}},
    }
    _experiment(exps, "load", [load], [])
    run_dir = tmp_path / "run"
    proc = script("ci-run-experiments.sh", "--experiments", f"{exps}/*.json", "--var-file", str(var_file),
                  "--run-dir", str(run_dir), env=env, timeout=180)
    assert proc.returncode == 0, shown(proc)
    gate = script("ci-gate.sh", "--run-dir", str(run_dir), env=env, timeout=120)
    assert gate.returncode == 0, shown(gate)
    assert gate.stdout.strip().endswith("verdict=error"), shown(gate)
    assert "vegeta is not installed" in (run_dir / "gate.txt").read_text()


def test_a_failing_cleanup_warns_and_records_it_but_exits_0(tmp_path: Path, env: dict[str, str]) -> None:
    """`chaosext cleanup` fails for real: the kube config names an API server nobody listens on."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: gone\n"
        "clusters: [{name: gone, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "users: [{name: u, user: {token: x}}]\ncontexts: [{name: gone, context: {cluster: gone, user: u}}]\n"
    )
    summary = tmp_path / "summary.md"
    run_dir = tmp_path / "run"
    proc = script(
        "ci-cleanup.sh", "--run-dir", str(run_dir),
        env={**env, "KUBECONFIG": str(kubeconfig), "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)},
        timeout=300,
    )
    assert proc.returncode == 0, shown(proc)
    assert "::warning::cleanup: chaosext cleanup failed (exit 1)" in proc.stdout
    failed = (run_dir / "cleanup-failed.txt").read_text()
    assert "chaosext cleanup failed (exit 1)" in failed and "the verdict is unaffected" in failed
    assert "cluster not checked" in (run_dir / "cleanup.txt").read_text()
    assert "chaosext cleanup failed" in summary.read_text()


def test_a_clean_cleanup_leaves_no_failure_file(tmp_path: Path, env: dict[str, str]) -> None:
    run_dir = tmp_path / "run"
    proc = script("ci-cleanup.sh", "--run-dir", str(run_dir), env={**env, "KUBECONFIG": str(tmp_path / "none")})
    assert proc.returncode == 0, shown(proc)
    assert "0 leftover fault(s) removed" in (run_dir / "cleanup.txt").read_text()
    assert not (run_dir / "cleanup-failed.txt").exists()


def test_an_empty_verdict_is_an_error() -> None:
    """The workflow passes an empty verdict when the gate never ran (e.g. the cluster set-up failed)."""
    proc = script("ci-verdict.sh", "--verdict", "", "--fail-on-breach", "false")
    assert proc.returncode == 1, shown(proc)
    assert "verdict: error (no verdict: the gate did not run" in proc.stdout


def _artifact(*args: str) -> str:
    proc = script("ci-artifact-name.sh", *args)
    assert proc.returncode == 0, shown(proc)
    match = re.fullmatch(r"artifact=(\S+)", proc.stdout.strip())
    assert match, shown(proc)
    return match.group(1)


def test_artifact_names_differ_per_call_and_stay_stable_per_call() -> None:
    call_a = json.dumps({"experiments": "@chaosext/experiments/payment-503.json", "artifact-suffix": ""})
    call_b = json.dumps({"experiments": "@chaosext/experiments/dns-payment-delay.json", "artifact-suffix": ""})
    a1 = _artifact("--prefix", "chaosext-evidence", "--call", call_a, "--attempt", "1")
    b1 = _artifact("--prefix", "chaosext-evidence", "--call", call_b, "--attempt", "1")
    assert re.fullmatch(r"chaosext-evidence-[0-9a-f]{8}-1", a1) and a1 != b1
    assert _artifact("--prefix", "chaosext-evidence", "--call", call_a, "--attempt", "1") == a1
    assert _artifact("--prefix", "chaosext-evidence", "--call", call_a, "--attempt", "2") == a1[:-1] + "2"
    assert _artifact("--prefix", "ev", "--suffix", "3", "--call", call_a, "--attempt", "1") == "ev-3-1"
    proc = script("ci-artifact-name.sh", "--prefix", "ev", "--suffix", "a/b")
    assert proc.returncode == 2 and "--suffix: 'a/b' may hold only" in proc.stderr, shown(proc)


def test_the_setup_command_runs_in_the_workspace_with_the_cluster_names(tmp_path: Path) -> None:
    proc = script(
        "ci-setup-command.sh", "--command",
        'echo "$CHAOSEXT_KIND_CLUSTER $CHAOSEXT_KUBE_CONTEXT $CHAOSEXT_IMAGE_TAG $CHAOSEXT_ROOT" > seen.txt',
        "--kind-cluster", "mine", "--image-tag", "v1.2.3", cwd=tmp_path,
    )
    assert proc.returncode == 0, shown(proc)
    assert (tmp_path / "seen.txt").read_text().split() == ["mine", "kind-mine", "v1.2.3", str(REPO)]
    proc = script("ci-setup-command.sh", "--command", "false; touch reached.txt", cwd=tmp_path,
                  env={"GITHUB_ACTIONS": "true"})
    assert proc.returncode == 1 and not (tmp_path / "reached.txt").exists(), shown(proc)
    assert "::error::the setup command failed (exit 1)" in proc.stdout


@pytest.mark.parametrize(
    ("entries", "needle"),
    [
        ("deploy/missing.yaml", "'deploy/missing.yaml' matches no file or folder"),
        ("empty", "empty has no kustomization and no .yaml, .yml or .json file"),
        ("notes.txt", "notes.txt is not a kustomization folder or a manifest file"),
    ],
)
def test_extra_manifests_are_checked_before_anything_is_applied(tmp_path: Path, entries: str, needle: str) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("hello")
    proc = script("ci-apply-manifests.sh", "--manifests", entries, cwd=tmp_path, env={"KUBECONFIG": "/nonexistent"})
    assert proc.returncode == 2, shown(proc)
    assert needle in proc.stderr, shown(proc)


def test_the_job_summary_has_a_markdown_gate_table_utc_times_and_the_abort_figures(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    (run_dir / "journals").mkdir(parents=True)
    shutil.copy(ABORTED, run_dir / "journals" / "checkout-abort-on-slow-payment.json")
    shutil.copy(KILL, run_dir / "journals" / "payment-instance-kill.json")
    assert script("ci-gate.sh", "--run-dir", str(run_dir), timeout=120).returncode == 0
    proc = script("ci-report.sh", "--run-dir", str(run_dir), "--artifact", "chaosext-evidence-0a1b2c3d-1", timeout=300)
    assert proc.returncode == 0, shown(proc)
    summary = (run_dir / "job-summary.md").read_text()
    gate = summary.split("### SLO gate", 1)[1].split("# Chaos experiment log", 1)[0]
    assert "| Journal | Experiment | Verdict | First reason |" in gate
    assert "```" not in gate and "┃" not in gate and "│" not in gate
    assert re.search(r"aborted by chaosext at 2026-11-27T\d\d:\d\d:\d\dZ \(T\+\d+ s\)", summary)
    assert not re.search(r"\b1[0-9]{9}\.\d+", summary), "an epoch timestamp is left in the summary"
    assert "method probe 'payment-instances-back' has no tolerance: not judged" in gate


@pytest.mark.kube
def test_extra_manifests_are_applied_and_waited_for_on_a_real_api_server(
    control_plane: ControlPlane, tmp_path: Path
) -> None:
    """A caller's kustomization and a plain manifest file, applied to the real kube-apiserver (KWOK
    makes the pods Ready; no container runs), then waited for; removed afterwards."""
    app = tmp_path / "deploy"
    app.mkdir()
    (app / "kustomization.yaml").write_text("resources: [namespace.yaml, deployment.yaml]\n")
    (app / "namespace.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: byo-app}\n")
    (app / "deployment.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: shop-api, namespace: byo-app}\n"
        "spec:\n  replicas: 2\n  selector: {matchLabels: {app: shop-api}}\n"
        "  template:\n    metadata: {labels: {app: shop-api}}\n"
        "    spec: {containers: [{name: api, image: 'shop/api:1.0.0'}]}\n"
    )
    (tmp_path / "extra.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shop-settings, namespace: byo-app}\ndata: {mode: ci}\n"
    )
    run_dir = tmp_path / "run"
    try:
        proc = script("ci-apply-manifests.sh", "--manifests", "deploy extra.yaml", "--timeout", "120",
                      "--run-dir", str(run_dir), cwd=tmp_path, env=control_plane.env, timeout=240)
        assert proc.returncode == 0, shown(proc)
        assert "ready: Deployment byo-app/shop-api" in proc.stdout and "1 workload(s) ready" in proc.stdout
        kept = (run_dir / "manifests-extra.yaml").read_text()
        assert "name: shop-api" in kept and "name: shop-settings" in kept
    finally:
        run(["kubectl", "delete", "namespace", "byo-app", "--wait=false", "--ignore-not-found"],
            env=control_plane.env, timeout=60)
