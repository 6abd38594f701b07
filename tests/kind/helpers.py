"""Helpers for the kind tests: the cluster's handle and the node container's tools."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from kubernetes import client

REPO = Path(__file__).resolve().parents[2]
NAMESPACE = "chaosext"
NODE = "chaosext-control-plane"


@dataclass
class KindCluster:
    context: str
    kubeconfig: Path
    api: client.ApiClient

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api)


def node_exec(*args: str, timeout: float = 60) -> str:
    """Run a command in kind's node container (crictl, cat of a cgroup file...); its stdout."""
    proc = subprocess.run(["docker", "exec", NODE, *args], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"docker exec {NODE} {' '.join(args)}: exit {proc.returncode}: {proc.stderr}"
    return proc.stdout
