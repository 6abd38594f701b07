"""The sample stack on kind runs in real containers: every pod Running and Ready, each container a
containerd container that the node's CRI knows, and checkouts served through the NodePort."""

from __future__ import annotations

import uuid
from typing import Any

import requests
from kind.helpers import NAMESPACE, KindCluster, app_pods, container_id, cri_container_ids, is_ready, node_exec
from kube.helpers import wait_until

from chaosext.instance import probes as instance_probes

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


def test_a_container_restarted_in_place_keeps_its_pod_but_not_its_clock(
        kind_cluster: KindCluster, chaos_config: dict[str, Any]) -> None:
    """crictl stops one order-consumer container on the node; the kubelet starts a new one in the
    same pod (restartCount 1): instances_ready still counts the pod ready, but not with
    running_for_s, and reports the restart."""
    (pod,) = app_pods(kind_cluster, "order-consumer")
    old_id, old_restarts = container_id(pod), pod.status.container_statuses[0].restart_count
    node_exec("crictl", "stop", "--timeout", "0", old_id)
    restarted = wait_until(
        "the kubelet to restart the container in the same pod, Ready",
        lambda: app_pods(kind_cluster, "order-consumer"),
        lambda pods: len(pods) == 1 and pods[0].metadata.uid == pod.metadata.uid
        and pods[0].status.container_statuses[0].restart_count > old_restarts
        and container_id(pods[0]) not in ("", old_id) and is_ready(pods[0]),
        timeout_s=90)
    assert container_id(restarted[0]) in cri_container_ids()
    plain = instance_probes.instances_ready("order-consumer", configuration=chaos_config)
    clocked = instance_probes.instances_ready("order-consumer", running_for_s=60, configuration=chaos_config)
    assert plain["ready"] == 1 and plain["restarts"] == old_restarts + 1, plain
    assert clocked["ready"] == 0 and clocked["instances"][0]["running_for_s"] < 60, clocked
