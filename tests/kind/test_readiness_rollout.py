"""payment-rollout-failing-readiness on kind: chaosext's failing-readiness fault starts a rollout of
payment-service whose new pod runs in a real container but never passes the kubelet's readiness
probe, so the rollout stalls with the old replicas available and checkout served; undoing it
completes the rollout."""

from __future__ import annotations

import uuid
from typing import Any

import requests
from kind.helpers import NAMESPACE, KindCluster, app_pods, container_id, cri_container_ids, is_ready
from kube.helpers import wait_until
from kubernetes import client

from chaosext.kube import FAULT_LABEL
from chaosext.rollout import actions as rollout_actions
from chaosext.rollout import probes as rollout_probes

DEPLOYMENT = "payment-service"


def _no_kwok(cluster: KindCluster) -> None:
    """Pods' readiness here comes from a kubelet: no KWOK-managed node, no KWOK controller."""
    for node in cluster.core.list_node().items:
        marks = {**(node.metadata.annotations or {}), **(node.metadata.labels or {})}
        assert not [k for k in marks if "kwok" in k], f"{node.metadata.name} is KWOK's: {marks}"
        assert node.status.node_info.container_runtime_version.startswith("containerd://"), node.status.node_info
    names = [p.metadata.name for p in cluster.core.list_pod_for_all_namespaces().items]
    assert not [n for n in names if "kwok" in n], names


def _started_not_ready(pod: client.V1Pod) -> bool:
    (status,) = pod.status.container_statuses or [None]
    return status is not None and bool(status.started) and status.state.running is not None \
        and not status.ready and not is_ready(pod)


def _readiness_failures(cluster: KindCluster, pod: client.V1Pod) -> list[client.CoreV1Event]:
    """The kubelet's events on POD saying its readiness probe failed."""
    events = cluster.core.list_namespaced_event(
        NAMESPACE, field_selector=f"involvedObject.name={pod.metadata.name},reason=Unhealthy").items
    return [e for e in events if (e.message or "").startswith("Readiness probe failed")
            and (e.source.component if e.source else e.reporting_component) == "kubelet"
            and (e.source.host if e.source else e.reporting_instance) == pod.spec.node_name]


def _checkouts_succeed(url: str, count: int = 10) -> list[int]:
    return [requests.post(f"{url}/api/checkout", timeout=10, json={
        "order_id": f"kind-rollout-{uuid.uuid4().hex[:12]}", "amount": 12.5, "currency": "EUR"}).status_code
        for _ in range(count)]


def test_failing_readiness_stalls_the_rollout_on_the_kubelets_probe_and_undo_completes_it(
        kind_cluster: KindCluster, chaos_config: dict[str, Any]) -> None:
    _no_kwok(kind_cluster)
    # the steady state first: an earlier test (a payment pod killed under load) may have left a
    # checkout replica's breaker open for up to breaker_reset_s (10 s)
    wait_until("checkout to answer 2xx before the rollout", lambda: _checkouts_succeed(chaos_config["checkout_url"], 3),
               lambda codes: all(200 <= c < 300 for c in codes), timeout_s=45, interval_s=2)
    replicas = kind_cluster.apps.read_namespaced_deployment(DEPLOYMENT, NAMESPACE).spec.replicas
    old = {p.metadata.name for p in app_pods(kind_cluster, DEPLOYMENT) if is_ready(p)}
    assert len(old) == replicas == 2, old
    try:
        record = rollout_actions.start_failing_rollout(DEPLOYMENT, kind="deployment", duration=180,
                                                       settle_timeout=60, configuration=chaos_config)
        new = wait_until("the new replica's container running but not Ready",
                         lambda: app_pods(kind_cluster, DEPLOYMENT, f"{FAULT_LABEL}=readiness"),
                         lambda pods: len(pods) == 1 and _started_not_ready(pods[0]), timeout_s=60)[0]
        assert not new.spec.readiness_gates, "readiness must come from the probe alone"
        assert container_id(new) in cri_container_ids()
        wait_until("the kubelet to report the new pod's readiness probe failing",
                   lambda: _readiness_failures(kind_cluster, new), bool, timeout_s=30)
        state = rollout_probes.rollout_status(DEPLOYMENT, configuration=chaos_config)
        assert state["updated_replicas"] == 1 < state["replicas"] == replicas, state
        assert state["available_replicas"] == state["ready_replicas"] == replicas and not state["complete"], state
        assert old <= {p.metadata.name for p in app_pods(kind_cluster, DEPLOYMENT) if is_ready(p)}
        assert _started_not_ready(kind_cluster.core.read_namespaced_pod(new.metadata.name, NAMESPACE))
        codes = _checkouts_succeed(chaos_config["checkout_url"])
        assert all(200 <= c < 300 for c in codes), codes
    finally:
        undone = rollout_actions.undo_failing_rollout(DEPLOYMENT, configuration=chaos_config)
    assert [u["id"] for u in undone] == [record["id"]]
    rollout_actions.wait_for_rollout(DEPLOYMENT, kind="deployment", timeout=120, configuration=chaos_config)
    deployment = kind_cluster.apps.read_namespaced_deployment(DEPLOYMENT, NAMESPACE)
    st = deployment.status
    assert st.observed_generation >= deployment.metadata.generation, st
    assert st.updated_replicas == st.available_replicas == st.replicas == replicas, st
    template = deployment.spec.template
    assert FAULT_LABEL not in (template.metadata.labels or {})
    assert template.spec.containers[0].readiness_probe.http_get.path == "/readyz"
    wait_until("the failing replica to be deleted, not only terminating",
               lambda: kind_cluster.core.list_namespaced_pod(NAMESPACE, label_selector=f"{FAULT_LABEL}=readiness").items,
               lambda pods: not pods, timeout_s=60)
    # the template is the old one again: its ReplicaSet's pods serve, none was replaced
    assert {p.metadata.name for p in app_pods(kind_cluster, DEPLOYMENT) if is_ready(p)} == old
