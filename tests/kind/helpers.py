"""Helpers for the kind tests: the cluster's handle, the node container's tools, the pods of a
workload and commands run inside their containers."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kube.helpers import Cluster
from kubernetes import client
from kubernetes.stream import stream

REPO = Path(__file__).resolve().parents[2]
NAMESPACE = "chaosext"
NODE = "chaosext-control-plane"
TARGET_FILE = REPO / "cluster" / "targets" / "kind.yaml"


@dataclass
class KindCluster(Cluster):
    context: str


def node_exec(*args: str, timeout: float = 60) -> str:
    """Run a command in kind's node container (crictl, cat of a cgroup file...); its stdout."""
    proc = subprocess.run(["docker", "exec", NODE, *args], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"docker exec {NODE} {' '.join(args)}: exit {proc.returncode}: {proc.stderr}"
    return proc.stdout


def cri_container_ids() -> set[str]:
    """Full ids of the containers the node's CRI (containerd) runs now."""
    return set(node_exec("crictl", "ps", "-q", "--no-trunc").split())


def target_configuration() -> dict[str, Any]:
    """What `chaos run --var-file cluster/targets/kind.yaml` gives an experiment's activities."""
    configuration: dict[str, Any] = yaml.safe_load(TARGET_FILE.read_text())["configuration"]
    return configuration


def is_ready(pod: client.V1Pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))


def app_pods(cluster: KindCluster, app: str, extra_selector: str = "") -> list[client.V1Pod]:
    """The pods of workload APP (label app.kubernetes.io/name) that are not being deleted."""
    selector = f"app.kubernetes.io/name={app}" + (f",{extra_selector}" if extra_selector else "")
    pods = cluster.core.list_namespaced_pod(NAMESPACE, label_selector=selector).items
    return sorted((p for p in pods if p.metadata.deletion_timestamp is None), key=lambda p: p.metadata.name)


def container_id(pod: client.V1Pod, index: int = 0) -> str:
    """The containerd id of a pod's container ('' while it has none)."""
    statuses = pod.status.container_statuses or []
    if len(statuses) <= index or not statuses[index].container_id:
        return ""
    runtime, _, cid = statuses[index].container_id.partition("://")
    assert runtime == "containerd", f"{pod.metadata.name}: {statuses[index].container_id!r}"
    return cid


def pod_exec(cluster: KindCluster, pod: str, command: list[str], timeout: float = 60) -> str:
    """Run COMMAND in the pod's first container through the API's pods/exec (what `kubectl exec`
    does); asserts it exits 0 and returns its stdout."""
    resp = stream(cluster.core.connect_get_namespaced_pod_exec, pod, NAMESPACE, command=command,
                  stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
    try:
        resp.run_forever(timeout=timeout)
        out, err = resp.read_stdout() or "", resp.read_stderr() or ""
        code = resp.returncode
    finally:
        resp.close()
    assert code == 0, f"exec {command[:3]} in {pod}: exit {code}\nstdout: {out[-2000:]}\nstderr: {err[-2000:]}"
    return str(out)


def pod_json(cluster: KindCluster, pod: str, script: str, *args: str) -> Any:
    """Run a Python SCRIPT (which prints one JSON document) in the pod's container."""
    return json.loads(pod_exec(cluster, pod, ["python", "-c", script, *args]))
