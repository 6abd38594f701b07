"""Static checks of the CI bundle: actionlint, the GitHub JSON schemas, shellcheck, pinned actions.

Each check is also shown to fail on a broken input, so a passing check means something.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from cluster.helpers import ACTIONS, REPO, SCRIPTS, action_files, actionlint, run, shown, workflow_files

PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def _uses(path: Path) -> list[str]:
    return [m.group(1) for m in re.finditer(r"^\s*(?:-\s*)?uses:\s*(\S+)", path.read_text(), re.MULTILINE)]


def _actionlint() -> str:
    tool = actionlint()
    if tool is None:
        pytest.fail("actionlint is not installed: run scripts/ci-install-lint-tools.sh", pytrace=False)
    return tool


def test_the_bundle_has_the_workflows_and_actions() -> None:
    assert {p.name for p in workflow_files()} >= {"chaos.yml", "ci.yml", "nightly.yml"}
    assert {p.parent.name for p in action_files()} >= {
        "setup-chaosext",
        "cluster-up",
        "run-gate-report",
        "evidence-and-cleanup",
    }


def test_actionlint_passes_on_every_workflow() -> None:
    proc = run([_actionlint(), "-no-color", *map(str, workflow_files())])
    assert proc.returncode == 0, shown(proc)


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - run: echo ${{ github.no_such_thing }}\n      - uses: ./.github/workflows/missing.yml\n"
    )
    proc = run([_actionlint(), "-no-color", str(bad)], cwd=tmp_path)
    assert proc.returncode == 1, shown(proc)
    assert "no_such_thing" in proc.stdout


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_workflow_matches_the_github_workflow_schema(path: Path) -> None:
    proc = run(["check-jsonschema", "--builtin-schema", "vendor.github-workflows", str(path)])
    assert proc.returncode == 0, shown(proc)


@pytest.mark.parametrize("path", action_files(), ids=lambda p: p.parent.name)
def test_action_metadata_matches_the_github_action_schema(path: Path) -> None:
    proc = run(["check-jsonschema", "--builtin-schema", "vendor.github-actions", str(path)])
    assert proc.returncode == 0, shown(proc)


def test_the_schemas_reject_broken_files(tmp_path: Path) -> None:
    workflow = tmp_path / "w.yml"
    workflow.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps: oops\n")
    action = tmp_path / "action.yml"
    action.write_text("name: x\ndescription: y\nruns:\n  using: composite\n  steps:\n    - run: echo\n")
    for schema, path in (("vendor.github-workflows", workflow), ("vendor.github-actions", action)):
        proc = run(["check-jsonschema", "--builtin-schema", schema, str(path)])
        assert proc.returncode == 1, shown(proc)


def test_shellcheck_passes_on_the_ci_scripts() -> None:
    if shutil.which("shellcheck") is None:
        pytest.fail("shellcheck is not installed (apt-get install shellcheck)", pytrace=False)
    scripts = sorted(SCRIPTS.glob("ci-*.sh"))
    assert len(scripts) >= 10
    stand_ins = REPO / "cluster/images/stand-ins"
    stand_in_scripts = [*stand_ins.glob("*/*.sh"), stand_ins / "kafka/run"]
    assert len(stand_in_scripts) >= 5
    proc = run(["shellcheck", "-x", *map(str, scripts), str(REPO / "cluster/base/kafka/start.sh"),
                *map(str, stand_in_scripts)])
    assert proc.returncode == 0, shown(proc)


def test_every_third_party_action_is_pinned_to_a_full_commit_sha() -> None:
    uses = {p: _uses(p) for p in [*workflow_files(), *action_files()]}
    third_party = [(p, u) for p, us in uses.items() for u in us if not u.startswith("./")]
    assert third_party, "no third-party action found: the check would be vacuous"
    unpinned = [f"{p.relative_to(REPO)}: {u}" for p, u in third_party if not PINNED.match(u)]
    assert not unpinned, unpinned
    # and the check itself rejects a tag
    assert not PINNED.match("actions/checkout@v5")


def test_the_lint_script_runs_every_check() -> None:
    proc = run(["bash", str(SCRIPTS / "ci-lint.sh")], timeout=300)
    assert proc.returncode == 0, shown(proc)
    for check in (
        "actionlint",
        "workflow schema",
        "action metadata schema",
        "shellcheck",
        "pinned",
        "kustomize renders cluster/overlays/kind",
    ):
        assert f"ok: {check}" in proc.stdout or any(
            check in line and "ok:" in line for line in proc.stdout.splitlines()
        ), proc.stdout


def test_composite_steps_only_call_repository_scripts() -> None:
    """The YAML orchestrates; every run step of the composite actions calls a scripts/ci-*.sh."""
    from cluster.helpers import load_yaml

    for path in action_files():
        steps = load_yaml(path)["runs"]["steps"]
        for step in steps:
            if "run" in step:
                assert "scripts/ci-" in step["run"], f"{path.relative_to(ACTIONS)}: {step.get('name')}"
