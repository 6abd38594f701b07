"""The sample stack on kind runs in real containers: every pod Running and Ready, each container a
containerd container that the node's CRI knows, and checkouts served through the NodePort."""

from __future__ import annotations

import uuid

import requests
from kind.helpers import NAMESPACE, KindCluster, node_exec

CHECKOUT = "http://127.0.0.1:8080"


def test_every_stack_pod_runs_in_a_real_containerd_container(kind_cluster: KindCluster) -> None:
    pods = kind_cluster.core.list_namespaced_pod(NAMESPACE).items
    running = [p for p in pods if p.status.phase == "Running"]
    names = sorted(p.metadata.name for p in running)
    for app in ("checkout-api", "payment-service", "order-consumer", "kafka-0", "kafka-1", "kafka-2",
                "toxiproxy", "prometheus", "redis", "chaosext-dns"):
        assert any(name.startswith(app) for name in names), f"no running pod for {app}: {names}"
    # the CRI's own list of containers on the node, by full id
    cri_ids = set(node_exec("crictl", "ps", "-q", "--no-trunc").split())
    for pod in running:
        ready = {c.type: c.status for c in pod.status.conditions}
        assert ready.get("Ready") == "True", f"{pod.metadata.name} is not Ready: {ready}"
        for status in pod.status.container_statuses:
            assert status.ready, f"{pod.metadata.name}/{status.name} not ready"
            runtime, _, container_id = (status.container_id or "").partition("://")
            assert runtime == "containerd", f"{pod.metadata.name}/{status.name}: {status.container_id!r}"
            assert container_id in cri_ids, f"{pod.metadata.name}/{status.name}: {container_id} unknown to crictl"


def test_twenty_checkouts_through_the_node_port_succeed(kind_cluster: KindCluster) -> None:
    codes = []
    for _ in range(20):
        response = requests.post(f"{CHECKOUT}/api/checkout", timeout=10,
                                 json={"order_id": f"kind-{uuid.uuid4().hex[:12]}", "amount": 12.5, "currency": "EUR"})
        codes.append(response.status_code)
    assert all(200 <= code < 300 for code in codes), f"checkout answers: {codes}"
