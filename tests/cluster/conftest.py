"""Fixtures of the CI-bundle tests: the real Kubernetes control plane with the sample stack deployed."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cluster.helpers import script, shown

from chaosext.errors import ChaosextError
from chaosext.localkube import controlplane
from chaosext.localkube.build import is_built
from chaosext.localkube.paths import bin_dir, default_state_dir

NAMESPACE = "chaosext"


def _progress(message: str) -> None:
    print(f"[cluster fixture {time.strftime('%H:%M:%S')}] {message}", file=sys.__stderr__, flush=True)


@dataclass
class ControlPlane:
    kubeconfig: Path

    @property
    def env(self) -> dict[str, str]:
        return {"KUBECONFIG": str(self.kubeconfig)}


@pytest.fixture(scope="session")
def control_plane() -> Iterator[ControlPlane]:
    """The real kube-apiserver (KWOK nodes): reused when already running, else started and stopped."""
    if not is_built():
        pytest.fail(
            f"the Kubernetes binaries are not built in {bin_dir()}: run `make setup` first", pytrace=False
        )
    state_dir = default_state_dir()
    already = controlplane.status(state_dir)["ready"]
    try:
        kubeconfig = controlplane.start(state_dir, _progress)
    except ChaosextError as exc:
        pytest.fail(f"the control plane did not start: {exc}", pytrace=False)
    try:
        yield ControlPlane(kubeconfig=Path(kubeconfig))
    finally:
        if not already and os.environ.get("CHAOSEXT_KEEP_KUBE") != "1":
            controlplane.stop(state_dir, _progress)


@pytest.fixture(scope="module")
def deployed(control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """The sample stack deployed by the workflow's deploy step (scripts/ci-deploy.sh); removed afterwards."""
    run_dir = tmp_path_factory.mktemp("deploy-run")
    proc = script(
        "ci-deploy.sh",
        "--image-tag",
        "0.1.0-test",
        "--timeout",
        "300",
        "--run-dir",
        str(run_dir),
        env=control_plane.env,
        timeout=420,
    )
    assert proc.returncode == 0, shown(proc)
    yield control_plane
    script("ci-cleanup.sh", env=control_plane.env, timeout=120)
    proc = script("ci-undeploy.sh", "--timeout", "180", env=control_plane.env, timeout=240)
    assert proc.returncode == 0, shown(proc)
