"""The kind cluster with the sample stack, brought up once per session by scripts/kind-up.sh.

Real pods: kind's node is a Docker container running systemd, containerd and kubelet, and every
pod of the stack is a containerd container in it. The local supervisord stack uses the same host
ports (8080, 9090, ...), so it is stopped first. The cluster is deleted at the end of the session
(scripts/kind-down.sh) unless CHAOSEXT_KEEP_KIND=1.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kind.helpers import REPO, KindCluster, target_configuration
from kubernetes import client, config
from stack_support import chaosext

KIND_UP_TIMEOUT_S = 3600


@pytest.fixture(scope="session")
def kind_cluster(pytestconfig: pytest.Config) -> Iterator[KindCluster]:
    chaosext("stack", "down", check=False, timeout=300)
    log = Path(os.environ.get("CHAOSEXT_KIND_LOG", "/tmp/chaosext-kind-up.log"))
    # kind-up's progress is shown as it happens, not only in a failure report
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    with log.open("w") as out, capture.global_and_fixture_disabled():
        # progress goes to the terminal (-s) and to the log that a failure message points at
        proc = subprocess.Popen(["bash", str(REPO / "scripts" / "kind-up.sh")], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, cwd=REPO)
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            out.write(line)
            out.flush()
            sys.stderr.write(line)
            lines.append(line.rstrip())
        code = proc.wait(timeout=KIND_UP_TIMEOUT_S)
    assert code == 0, f"scripts/kind-up.sh exited {code}; its output: {log}\n" + "\n".join(lines[-40:])
    values = dict(line.split("=", 1) for line in lines if line.startswith(("CONTEXT=", "KUBECONFIG=")))
    api = config.new_client_from_config(config_file=values["KUBECONFIG"], context=values["CONTEXT"])
    cluster = KindCluster(context=values["CONTEXT"], kubeconfig=Path(values["KUBECONFIG"]), api=api)
    yield cluster
    api.close()
    if os.environ.get("CHAOSEXT_KEEP_KIND") != "1":
        subprocess.run(["bash", str(REPO / "scripts" / "kind-down.sh")], cwd=REPO, check=False, timeout=600)


@pytest.fixture
def core(kind_cluster: KindCluster) -> client.CoreV1Api:
    return kind_cluster.core


@pytest.fixture
def chaos_config(kind_cluster: KindCluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    """The configuration experiments get from cluster/targets/kind.yaml, for calling chaosext's
    activities in-process as `chaos run` does. The kube client is pinned to this cluster's context
    (also as a guardrail), and chaosext's state (fault markers, load runs) is private to the test,
    so rollbacks that match by family or service only see this test's faults."""
    monkeypatch.setenv("KUBECONFIG", str(kind_cluster.kubeconfig))
    monkeypatch.setenv("KUBERNETES_CONTEXT", kind_cluster.context)
    monkeypatch.setenv("CHAOSEXT_STATE_DIR", str(tmp_path / "chaosext-state"))
    return {**target_configuration(), "allowed_contexts": [kind_cluster.context]}
