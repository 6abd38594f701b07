"""The fake Nodes KWOK manages (annotation kwok.x-k8s.io/node=fake). No kubelet, no containers."""

from __future__ import annotations

from typing import Any, cast

from kubernetes import client
from kubernetes.client.exceptions import ApiException

__all__ = ["KWOK_ANNOTATION", "create_nodes", "node_manifest", "ready_node_names"]

KWOK_ANNOTATION = ("kwok.x-k8s.io/node", "fake")
ZONES = ("zone-a", "zone-b", "zone-c")


def node_manifest(name: str, zone: str) -> dict[str, Any]:
    capacity = {"cpu": "16", "memory": "64Gi", "pods": "110", "ephemeral-storage": "100Gi"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {KWOK_ANNOTATION[0]: KWOK_ANNOTATION[1], "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "type": "kwok",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "topology.kubernetes.io/zone": zone,
            },
        },
        "status": {"capacity": capacity, "allocatable": capacity},
    }


def create_nodes(api: client.ApiClient, count: int) -> list[str]:
    """Create kwok-node-0..COUNT-1 (already existing ones are kept); returns their names."""
    core = client.CoreV1Api(api)
    names = []
    for i in range(count):
        name = f"kwok-node-{i}"
        try:
            core.create_node(cast(Any, node_manifest(name, ZONES[i % len(ZONES)])))
        except ApiException as exc:
            if exc.status != 409:
                raise
        names.append(name)
    return names


def ready_node_names(api: client.ApiClient) -> set[str]:
    ready: set[str] = set()
    for node in client.CoreV1Api(api).list_node().items:
        conditions = (node.status.conditions or []) if node.status else []
        if node.metadata and node.metadata.name and any(c.type == "Ready" and c.status == "True"
                                                         for c in conditions):
            ready.add(node.metadata.name)
    return ready
