"""The reusable workflow's contract (typed inputs, outputs, least permissions, evidence on every
outcome, self-checkout at the called ref) and this repository's callers of it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from cluster.helpers import ACTIONS, REPO, WORKFLOWS, load_yaml, script, shown, workflow_on

from chaosext.common.settings import cache_root
from chaosext.traffic.install import VEGETA_VERSION


@pytest.fixture(scope="module")
def chaos() -> dict[str, Any]:
    doc: dict[str, Any] = load_yaml(WORKFLOWS / "chaos.yml")
    return doc


def _experiments(caller: str) -> list[str]:
    doc = load_yaml(WORKFLOWS / caller)
    jobs = [j for j in doc["jobs"].values() if j.get("uses") == "./.github/workflows/chaos.yml"]
    assert len(jobs) == 1, caller
    return str(jobs[0]["with"]["experiments"]).split()


def test_reusable_workflow_has_typed_inputs_and_outputs(chaos: dict[str, Any]) -> None:
    call = workflow_on(chaos)["workflow_call"]
    types = {name: spec["type"] for name, spec in call["inputs"].items()}
    assert types == {
        "experiments": "string",
        "var-file": "string",
        "kind-config": "string",
        "node-image": "string",
        "deploy-stack": "boolean",
        "overlay": "string",
        "image-tag": "string",
        "setup-command": "string",
        "manifests": "string",
        "app-namespaces": "string",
        "python-version": "string",
        "chaosext-ref": "string",
        "chaosext-version": "string",
        "chaosext-repository": "string",
        "fail-on-breach": "boolean",
        "retention-days": "number",
        "artifact-name": "string",
        "artifact-suffix": "string",
        "experiment-timeout-minutes": "number",
        "timeout-minutes": "number",
    }
    assert all(spec.get("description") for spec in call["inputs"].values())
    assert set(call["outputs"]) == {"verdict", "artifact-name"}


def test_reusable_workflow_asks_for_least_permissions(chaos: dict[str, Any]) -> None:
    assert chaos["permissions"] == {"contents": "read"}
    for caller in ("ci.yml", "nightly.yml"):
        assert load_yaml(WORKFLOWS / caller)["permissions"] == {"contents": "read"}


def test_it_checks_out_chaosext_at_the_called_ref_not_the_callers(chaos: dict[str, Any]) -> None:
    steps = chaos["jobs"]["chaos"]["steps"]
    resolve = next(s for s in steps if s.get("id") == "self")
    assert "fromJSON(toJSON(job)).workflow_repository" in resolve["env"]["REPOSITORY"]
    assert "fromJSON(toJSON(job)).workflow_sha" in resolve["env"]["REF"]
    checkout = next(s for s in steps if s.get("with", {}).get("path") == ".chaosext")
    assert checkout["with"]["repository"] == "${{ steps.self.outputs.repository }}"
    assert checkout["with"]["ref"] == "${{ steps.self.outputs.ref }}"
    local = [s["uses"] for s in steps if str(s.get("uses", "")).startswith("./")]
    assert local and all(u.startswith("./.chaosext/.github/actions/") for u in local)
    for use in local:
        assert (REPO / use.removeprefix("./.chaosext/") / "action.yml").is_file(), use


def _step(chaos: dict[str, Any], name: str) -> dict[str, Any]:
    step: dict[str, Any] = next(s for s in chaos["jobs"]["chaos"]["steps"] if s.get("name") == name)
    return step


def test_evidence_cleanup_and_verdict_run_on_every_outcome(chaos: dict[str, Any]) -> None:
    evidence = _step(chaos, "Evidence, cleanup and verdict")
    assert evidence["if"].startswith("always() && ") and evidence["uses"].endswith("evidence-and-cleanup")
    steps = load_yaml(ACTIONS / "evidence-and-cleanup" / "action.yml")["runs"]["steps"]
    assert all(s.get("if") == "always()" for s in steps)
    names = [s["name"] for s in steps]
    assert names.index("Remove leftover faults") < names.index("Upload the evidence") < names.index("Verdict")
    gate = load_yaml(ACTIONS / "run-gate-report" / "action.yml")["runs"]["steps"]
    assert [s.get("if") for s in gate] == [None, "always()", "always()"]


def test_the_verdict_output_is_error_when_the_gate_did_not_run(chaos: dict[str, Any]) -> None:
    """A failed set-up step (cluster-up, say) skips the run step: the job's verdict is then error,
    never empty."""
    assert chaos["jobs"]["chaos"]["outputs"]["verdict"] == "${{ steps.run.outputs.verdict || 'error' }}"
    assert workflow_on(chaos)["workflow_call"]["outputs"]["verdict"]["value"] == "${{ jobs.chaos.outputs.verdict }}"
    # the evidence step passes the raw output: ci-verdict.sh reads an empty one as error
    assert _step(chaos, "Evidence, cleanup and verdict")["with"]["verdict"] == "${{ steps.run.outputs.verdict }}"


def test_evidence_survives_a_failed_chaosext_checkout(chaos: dict[str, Any]) -> None:
    """The local evidence action only exists when the chaosext checkout worked; without it an
    upload that needs nothing from that checkout runs instead."""
    steps = chaos["jobs"]["chaos"]["steps"]
    checkout = next(s for s in steps if s.get("with", {}).get("path") == ".chaosext")
    assert checkout["id"] == "chaosext"
    names = next(s for s in steps if s.get("id") == "names")
    assert steps.index(checkout) < steps.index(names)
    evidence = _step(chaos, "Evidence, cleanup and verdict")
    assert evidence["if"] == "always() && steps.chaosext.outcome == 'success' && steps.names.outcome == 'success'"
    fallback = _step(chaos, "Upload what there is (chaosext could not be checked out)")
    assert fallback["if"] == "always() && (steps.chaosext.outcome != 'success' || steps.names.outcome != 'success')"
    assert fallback["uses"].startswith("actions/upload-artifact@")
    assert "steps." not in fallback["with"]["name"]  # needs no output of a step that may not have run
    assert fallback["with"]["path"] == "${{ env.RUN_DIR }}"
    assert steps.index(evidence) < steps.index(fallback) == len(steps) - 1


def test_the_artifact_name_is_unique_per_call(chaos: dict[str, Any]) -> None:
    names = next(s for s in chaos["jobs"]["chaos"]["steps"] if s.get("id") == "names")
    assert names["env"]["CALL"] == "${{ toJSON(inputs) }}"
    assert names["env"]["SUFFIX"] == "${{ inputs.artifact-suffix }}"
    assert ".chaosext/scripts/ci-artifact-name.sh" in names["run"]
    for option in ("--prefix", "--suffix", "--call", "--attempt"):
        assert option in names["run"]
    uses = [s for s in chaos["jobs"]["chaos"]["steps"] if s.get("with", {}).get("artifact-name")]
    assert uses and all(s["with"]["artifact-name"] == "${{ steps.names.outputs.artifact }}" for s in uses)


def test_bring_your_own_app_inputs_reach_cluster_up(chaos: dict[str, Any]) -> None:
    given = _step(chaos, "Cluster and stack up")["with"]
    for name in ("overlay", "image-tag", "setup-command", "manifests", "deploy-stack"):
        assert given[name] == f"${{{{ inputs.{name} }}}}", name
    action = load_yaml(ACTIONS / "cluster-up" / "action.yml")
    assert {"overlay", "image-tag", "setup-command", "manifests"} <= set(action["inputs"])
    steps = action["runs"]["steps"]
    names = [s["name"] for s in steps]
    setup = steps[names.index("Run the caller's setup command")]
    assert setup["if"] == "inputs.setup-command != ''" and "scripts/ci-setup-command.sh" in setup["run"]
    apply = steps[names.index("Apply the caller's manifests and wait until they are available")]
    assert apply["if"] == "inputs.manifests != ''" and "scripts/ci-apply-manifests.sh" in apply["run"]
    order = ["Create the kind cluster", "Run the caller's setup command", "Build and load the images",
             "Deploy the sample stack and wait until it is available",
             "Apply the caller's manifests and wait until they are available", "Check the steady state"]
    assert [n for n in names if n in order] == order


def test_the_experiment_time_limit_reaches_the_run_step(chaos: dict[str, Any]) -> None:
    assert workflow_on(chaos)["workflow_call"]["inputs"]["experiment-timeout-minutes"]["default"] == 20
    given = _step(chaos, "Run, gate and report")["with"]
    assert given["experiment-timeout-minutes"] == "${{ inputs.experiment-timeout-minutes }}"
    run = load_yaml(ACTIONS / "run-gate-report" / "action.yml")["runs"]["steps"][0]
    assert run["env"]["TIMEOUT_MINUTES"] == "${{ inputs.experiment-timeout-minutes }}"
    assert '--timeout-minutes "$TIMEOUT_MINUTES"' in run["run"]


def _readme_callers() -> list[dict[str, Any]]:
    """The caller workflows cluster/README.md shows (YAML blocks that call the reusable workflow)."""
    text = (REPO / "cluster" / "README.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
    docs = [yaml.safe_load(b) for b in blocks if "/.github/workflows/chaos.yml@" in b]
    return [job for doc in docs for job in doc["jobs"].values() if "chaos.yml@" in str(job.get("uses"))]


def test_the_readme_callers_use_only_inputs_that_exist(chaos: dict[str, Any]) -> None:
    inputs = workflow_on(chaos)["workflow_call"]["inputs"]
    callers = _readme_callers()
    assert len(callers) >= 2
    for job in callers:
        unknown = set(job["with"]) - set(inputs)
        assert not unknown, unknown
    own_app = [j for j in callers if j["with"].get("deploy-stack") is False]
    assert own_app, "no README example brings its own app"
    assert {"setup-command", "manifests"} <= set(own_app[0]["with"])
    matrix = [j for j in callers if "matrix" in j.get("strategy", {})]
    assert matrix and "artifact-suffix" in matrix[0]["with"]


def test_experiments_run_with_rollback_strategy_always() -> None:
    text = (REPO / "scripts" / "ci-run-experiments.sh").read_text()
    assert re.search(r'"\$chaos" .*run --rollback-strategy always', text)


@pytest.mark.parametrize("caller", ["ci.yml", "nightly.yml"])
def test_callers_name_experiments_that_exist(caller: str) -> None:
    experiments = _experiments(caller)
    assert experiments
    for exp in experiments:
        assert exp.startswith("@chaosext/experiments/"), exp
        assert (REPO / exp.removeprefix("@chaosext/")).is_file(), f"{caller}: {exp} does not exist"


def _tags(experiment: str) -> set[str]:
    return set(json.loads((REPO / experiment.removeprefix("@chaosext/")).read_text()).get("tags", []))


def test_ci_and_nightly_cover_the_guides_table() -> None:
    """The guide's CI-versus-scheduled table: pod kill, dependency latency and 503 on every merge;
    broker termination, DNS, certificate rotation, rolling update and memory/CPU stress nightly."""
    ci = set().union(*(_tags(e) for e in _experiments("ci.yml")))
    assert {"kill", "latency", "http-503"} <= ci, ci
    nightly = [_tags(e) for e in _experiments("nightly.yml")]
    for wanted in ({"kafka", "broker-loss"}, {"dns"}, {"certificate", "rotation"}, {"rollout", "latency"},
                   {"stress", "cpu"}, {"stress", "memory"}):
        assert any(wanted <= tags for tags in nightly), f"nightly.yml runs no experiment tagged {sorted(wanted)}"


def test_ci_and_nightly_split_the_scenarios() -> None:
    assert not set(_experiments("ci.yml")) & set(_experiments("nightly.yml"))
    nightly = load_yaml(WORKFLOWS / "nightly.yml")
    assert workflow_on(nightly)["schedule"][0]["cron"]
    ci = load_yaml(WORKFLOWS / "ci.yml")
    assert set(workflow_on(ci)) == {"push", "pull_request"}
    assert ci["jobs"]["chaos"]["needs"] == ["lint", "test"]


@pytest.mark.parametrize(
    ("name", "args", "needle"),
    [
        ("ci-build-images.sh", ["--tag", "latest"], "'latest' is not allowed"),
        ("ci-build-images.sh", [], "--tag is required"),
        ("ci-kind-up.sh", ["--config", "/nowhere.yaml"], "--config: /nowhere.yaml does not exist"),
        ("ci-kind-up.sh", ["--node-image", "kindest/node:latest"], "pin a version"),
        ("ci-image-tag.sh", ["latest"], "'latest' is not allowed"),
        ("ci-make-tls.sh", ["--namespace", "Bad_NS"], "--namespace must be a DNS label"),
        ("ci-wait-ready.sh", ["--timeout", "0"], "--timeout must be a positive integer"),
        ("ci-undeploy.sh", ["--timeout"], "--timeout needs a value"),
        ("ci-steady-state.sh", ["--var-file", "/nowhere.yaml"], "/nowhere.yaml does not exist"),
    ],
)
def test_steps_reject_bad_arguments_with_a_clear_error(name: str, args: list[str], needle: str) -> None:
    proc = script(name, *args, env={"KUBECONFIG": "/nonexistent"})
    assert proc.returncode == 2, shown(proc)
    assert needle in proc.stderr, shown(proc)
    assert "Traceback" not in proc.stderr


# what ci-build-images.sh and ci-kind-up.sh run before they look for docker and kind
_STEP_TOOLS = ("bash", "dirname", "basename", "date", "cat", "env", "grep", "sed", "tr", "head", "mktemp", "rm")


def _path_without_docker(folder: Path) -> str:
    """A PATH of one folder with links to only the tools the steps need: no docker, no kind,
    whatever this machine has installed."""
    folder.mkdir()
    for tool in _STEP_TOOLS:
        found = shutil.which(tool)
        assert found, f"{tool} is not installed"
        (folder / tool).symlink_to(found)
    return str(folder)


def test_docker_steps_say_what_is_missing_on_a_machine_without_docker(tmp_path: Path) -> None:
    env = {"PATH": _path_without_docker(tmp_path / "bin")}
    assert subprocess.run(["bash", "-c", "command -v docker || command -v kind"], env=env).returncode == 1
    proc = script("ci-build-images.sh", "--tag", "0.1.0", env=env)
    assert proc.returncode == 2 and "docker not found" in proc.stderr, shown(proc)
    proc = script("ci-kind-up.sh", env=env)
    assert proc.returncode == 2 and "kind not found: run scripts/ci-install-kind.sh" in proc.stderr, shown(
        proc
    )


def test_image_tag_defaults_to_the_commit_or_the_package_version() -> None:
    proc = script("ci-image-tag.sh")
    assert proc.returncode == 0, shown(proc)
    tag = proc.stdout.strip()
    version = re.search(r'^version = "([^"]+)"', (REPO / "pyproject.toml").read_text(), re.MULTILINE)
    assert version is not None
    assert re.fullmatch(r"[0-9a-f]{40}", tag) or tag == version.group(1)
    assert script("ci-image-tag.sh", "v1.2.3").stdout.strip() == "v1.2.3"


def test_setup_step_installs_chaosext_and_vegeta_and_leaves_the_checkout_clean(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    github = {"GITHUB_ENV": str(tmp_path / "env"), "GITHUB_PATH": str(tmp_path / "path")}
    before = {p.name for p in REPO.iterdir()}
    proc = script(
        "ci-install-chaosext.sh", "--venv", str(venv), "--python", "python3", env=github, timeout=600
    )
    assert proc.returncode == 0, shown(proc)
    assert "Name: chaosext-backend" in proc.stdout
    for tool in ("chaosext", "chaos"):
        assert (venv / "bin" / tool).is_file(), tool
    assert (tmp_path / "env").read_text() == f"CHAOSEXT_VENV={venv}\n"
    # the load generator the traffic actions run, built where they look for it, and on the PATH
    vegeta = cache_root() / "bin" / "vegeta"
    assert f"vegeta: {vegeta}" in proc.stdout
    assert (tmp_path / "path").read_text() == f"{venv}/bin\n{vegeta.parent}\n"
    check = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "from chaosext.traffic import vegeta; print(vegeta.binary())"],
        capture_output=True, text=True, env={**os.environ, "PATH": f"{venv}/bin:{vegeta.parent}"},
    )
    assert check.returncode == 0 and check.stdout.strip() == str(vegeta), check.stderr
    assert subprocess.run([str(vegeta), "-version"], capture_output=True).returncode == 0
    assert (vegeta.parent / ".vegeta-version").read_text().strip() == VEGETA_VERSION
    # the package was built from a copy: no build/, dist/ or egg-info appeared in the checkout
    new = {p.name for p in REPO.iterdir()} - before
    assert not {n for n in new if n in ("build", "dist") or n.endswith(".egg-info")}, new
