"""The real local Kubernetes control plane, started once per test session.

kube-apiserver, kube-controller-manager, kube-scheduler and etcd are real; nodes and pods are
simulated by KWOK, so pods get scheduled and become Ready but no container ever runs.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Iterator

import pytest
from kube.helpers import Kube
from kubernetes import client

from chaosext.errors import ChaosextError
from chaosext.localkube import controlplane
from chaosext.localkube.build import is_built
from chaosext.localkube.paths import bin_dir, default_state_dir


def _progress(message: str) -> None:
    print(f"[kube fixture {time.strftime('%H:%M:%S')}] {message}", file=sys.__stderr__, flush=True)


@pytest.fixture(scope="session")
def kube() -> Iterator[Kube]:
    """Start the control plane (or reuse one already running in the same state dir, left running)."""
    if not is_built():
        pytest.fail(
            f"the Kubernetes binaries are not built in {bin_dir()}: run `make setup` or "
            "`python -m chaosext.localkube build` first (the first build takes tens of minutes)",
            pytrace=False,
        )
    state_dir = default_state_dir()
    already = controlplane.status(state_dir)["ready"]
    try:
        kubeconfig = controlplane.start(state_dir, _progress)
    except ChaosextError as exc:
        pytest.fail(f"the control plane did not start: {exc}", pytrace=False)
    api = controlplane.api_client(kubeconfig)
    # for subprocesses (chaos CLI, kubectl) started by tests; the `kubernetes` package itself read
    # KUBECONFIG when it was imported, so in-process code must be given the path explicitly
    saved = os.environ.get("KUBECONFIG")
    os.environ["KUBECONFIG"] = str(kubeconfig)
    try:
        yield Kube(kubeconfig=kubeconfig, state_dir=state_dir, api=api)
    finally:
        api.close()
        if saved is None:
            os.environ.pop("KUBECONFIG", None)
        else:
            os.environ["KUBECONFIG"] = saved
        if not already and os.environ.get("CHAOSEXT_KEEP_KUBE") != "1":
            controlplane.stop(state_dir, _progress)


@pytest.fixture
def namespace(kube: Kube) -> Iterator[str]:
    """A fresh namespace per test, deleted afterwards."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    kube.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    kube.core.delete_namespace(name)
