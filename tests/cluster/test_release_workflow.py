"""The release workflow's contract: a tag builds once, tests what it built and publishes exactly
that with trusted publishing (no token), with the least permissions; the release check refuses an
inconsistent release; the reusable workflow can install a released chaosext."""

from __future__ import annotations

from typing import Any

import pytest
from cluster.helpers import ACTIONS, REPO, WORKFLOWS, load_yaml, script, shown, workflow_on


@pytest.fixture(scope="module")
def release() -> dict[str, Any]:
    doc: dict[str, Any] = load_yaml(WORKFLOWS / "release.yml")
    return doc


def _uses(job: dict[str, Any]) -> list[str]:
    return [str(step["uses"]) for step in job["steps"] if "uses" in step]


def test_a_tag_builds_tests_then_publishes(release: dict[str, Any]) -> None:
    assert workflow_on(release)["push"] == {"tags": ["v*"]}
    jobs = release["jobs"]
    assert jobs["test"]["needs"] == "build"
    assert jobs["publish"]["needs"] == ["build", "test"]
    assert "github.ref_type == 'tag'" in jobs["publish"]["if"]
    # the test job runs the user-level install test on the very files that get published
    run_test = next(s for s in jobs["test"]["steps"] if "tests/release" in str(s.get("run", "")))
    assert run_test["env"]["CHAOSEXT_RELEASE_DIST"].endswith("/dist")


def test_only_the_publish_job_may_mint_an_id_token(release: dict[str, Any]) -> None:
    assert release["permissions"] == {"contents": "read"}
    jobs = release["jobs"]
    assert jobs["publish"]["permissions"] == {"id-token": "write"}
    assert all("permissions" not in job for name, job in jobs.items() if name != "publish")
    assert jobs["publish"]["environment"]["name"] == "pypi"


def test_publishing_is_trusted_publishing_without_a_token(release: dict[str, Any]) -> None:
    publish = release["jobs"]["publish"]
    step = next(s for s in publish["steps"] if str(s.get("uses", "")).startswith("pypa/gh-action-pypi-publish@"))
    assert not step.get("with", {}).keys() & {"password", "user"}
    assert "secrets." not in (WORKFLOWS / "release.yml").read_text()


def test_the_build_fails_on_warnings_and_checks_metadata(release: dict[str, Any]) -> None:
    build = "\n".join(str(s.get("run", "")) for s in release["jobs"]["build"]["steps"])
    assert "python -m build" in build and "twine check --strict" in build
    assert "grep -inE 'warn|deprecat'" in build
    assert "scripts/ci-release-check.sh" in build


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--ref-type", "tag", "--ref-name", "v999.0.0"], "pyproject.toml says version"),
        (["--ref-type", "tag", "--ref-name", "{v}", "--repository", "someone-else/chaosext"], "do not name"),
        (["--ref-type", "nightly"], "--ref-type must be tag or branch"),
        (["--repository", "no-slash"], "--repository must be OWNER/NAME"),
    ],
)
def test_the_release_check_refuses_an_inconsistent_release(args: list[str], needle: str) -> None:
    version = script("ci-release-check.sh").stdout.split("version=")[1].strip()
    proc = script("ci-release-check.sh", *[a.replace("{v}", f"v{version}") for a in args])
    assert proc.returncode == 2, shown(proc)
    assert needle in proc.stderr, shown(proc)


def test_the_release_check_accepts_the_tag_of_the_version() -> None:
    version = script("ci-release-check.sh").stdout.split("version=")[1].strip()
    assert f"## [{version}]" in (REPO / "CHANGELOG.md").read_text()
    proc = script("ci-release-check.sh", "--ref-type", "tag", "--ref-name", f"v{version}")
    assert proc.returncode == 0, shown(proc)


def test_the_reusable_workflow_can_install_a_released_chaosext() -> None:
    chaos = load_yaml(WORKFLOWS / "chaos.yml")
    assert workflow_on(chaos)["workflow_call"]["inputs"]["chaosext-version"]["default"] == ""
    setup = next(s for s in chaos["jobs"]["chaos"]["steps"] if str(s.get("uses", "")).endswith("setup-chaosext"))
    assert setup["with"]["chaosext-version"] == "${{ inputs.chaosext-version }}"
    action = load_yaml(ACTIONS / "setup-chaosext" / "action.yml")
    assert "chaosext-version" in action["inputs"]
    install = next(s for s in action["runs"]["steps"] if s.get("id") == "install")
    assert install["env"]["VERSION"] == "${{ inputs.chaosext-version }}"
    assert '--version "$VERSION"' in install["run"]


def test_a_released_version_must_be_exact() -> None:
    proc = script("ci-install-chaosext.sh", "--version", ">=0.1", "--venv", "/nonexistent/venv")
    assert proc.returncode == 2, shown(proc)
    assert "--version must be a release version" in proc.stderr
