"""Instance, rollout and config faults against the real kube-apiserver (pods simulated by KWOK)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chaoslib.exceptions import ActivityFailed
from kube.helpers import Kube
from kubernetes import client
from support import wait_until

from chaosext.config import actions as config_actions
from chaosext.faults import markers
from chaosext.instance import actions as instance_actions
from chaosext.rollout import actions as rollout_actions
from chaosext.rollout import probes as rollout_probes

pytestmark = pytest.mark.kube


@pytest.fixture(autouse=True)
def _kubeconfig(kube: Kube, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(kube.kubeconfig))


def _cfg(namespace: str, **extra: Any) -> dict[str, Any]:
    return {"target": "kubernetes", "namespace": namespace, **extra}


def _deployment(kube: Kube, namespace: str, name: str = "payment-service", replicas: int = 3) -> None:
    labels = {"app.kubernetes.io/name": name}
    body = client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels=labels),
            strategy=client.V1DeploymentStrategy(
                type="RollingUpdate",
                rolling_update=client.V1RollingUpdateDeployment(max_unavailable=0, max_surge=1)),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[client.V1Container(name="app", image="example.invalid/app:1")]),
            ),
        ),
    )
    kube.apps.create_namespaced_deployment(namespace, body)
    _available(kube, namespace, name, replicas)


def _available(kube: Kube, namespace: str, name: str, replicas: int) -> Any:
    return wait_until(
        f"deployment {name} to have {replicas} available replicas",
        lambda: kube.apps.read_namespaced_deployment(name, namespace).status,
        timeout=90,
        done=lambda st: (st.available_replicas or 0) == replicas and (st.updated_replicas or 0) == replicas
        and (st.replicas or 0) == replicas,
    )


def _pod_uids(kube: Kube, namespace: str) -> set[str]:
    pods = kube.core.list_namespaced_pod(namespace, label_selector="app.kubernetes.io/name=payment-service").items
    return {p.metadata.uid for p in pods if p.metadata.deletion_timestamp is None}


def test_kill_a_pod_and_the_controller_replaces_it(kube: Kube, namespace: str) -> None:
    _deployment(kube, namespace)
    before = _pod_uids(kube, namespace)
    result = instance_actions.kill_instances("payment-service", count=1, configuration=_cfg(namespace))
    victim = result["killed"][0]
    assert victim["uid"] in before and victim["grace_seconds"] == 0
    after = wait_until(
        "a replacement pod",
        lambda: _pod_uids(kube, namespace),
        timeout=60,
        done=lambda uids: len(uids) == 3 and victim["uid"] not in uids,
    )
    assert len(after - before) == 1
    _available(kube, namespace, "payment-service", 3)


@pytest.mark.parametrize(
    ("kwargs", "cfg_extra", "needle"),
    [
        ({"service": "payment-service", "count": 3}, {}, "guardrails"),
        ({"service": "nope", "count": 1}, {}, "nope"),
        ({"service": "payment-service", "count": 1, "namespace": "kube-system"}, {}, "kube-system"),
        ({"service": "payment-service", "count": 1}, {"allowed_contexts": ["prod"]}, "allowed_contexts"),
    ],
)
def test_guardrails_and_bad_arguments_change_nothing(kube: Kube, namespace: str, kwargs: dict[str, Any],
                                                     cfg_extra: dict[str, Any], needle: str) -> None:
    _deployment(kube, namespace)
    before = _pod_uids(kube, namespace)
    with pytest.raises(ActivityFailed, match=needle):
        instance_actions.kill_instances(configuration=_cfg(namespace, **cfg_extra), **kwargs)
    assert _pod_uids(kube, namespace) == before


def test_stop_instances_scales_down_then_back_when_it_expires(kube: Kube, namespace: str) -> None:
    _deployment(kube, namespace)
    record = instance_actions.stop_instances("payment-service", count=1, duration=3, configuration=_cfg(namespace))
    assert record["changed"] == {"scaled_from": 3, "scaled_to": 2}
    assert kube.apps.read_namespaced_deployment("payment-service", namespace).spec.replicas == 2
    wait_until(
        "the reaper to scale back to 3",
        lambda: kube.apps.read_namespaced_deployment("payment-service", namespace).spec.replicas,
        timeout=15,
        done=lambda r: r == 3,
    )
    # the reaper scales back first and drops its marker after
    wait_until("the reaper to drop the marker", lambda: markers.load(record["id"]), timeout=5, done=lambda m: m is None)
    _available(kube, namespace, "payment-service", 3)


def test_rollout_restart_is_judged_by_generation_updated_and_available(kube: Kube, namespace: str) -> None:
    _deployment(kube, namespace)
    gen_before = kube.apps.read_namespaced_deployment("payment-service", namespace).metadata.generation
    result = rollout_actions.restart_workload("payment-service", timeout=120, configuration=_cfg(namespace))
    state = result["rollout"]
    assert state["complete"] and state["generation"] == gen_before + 1
    assert state["observed_generation"] == state["generation"]
    assert state["updated_replicas"] == state["available_replicas"] == state["replicas"] == 3
    assert rollout_probes.rollout_complete("payment-service", configuration=_cfg(namespace))


def test_unknown_workload_is_a_clear_error(kube: Kube, namespace: str) -> None:
    with pytest.raises(ActivityFailed, match="not found"):
        rollout_actions.restart_workload("ghost", configuration=_cfg(namespace))
    with pytest.raises(ActivityFailed, match="kind"):
        rollout_actions.restart_workload("payment-service", kind="daemonset", configuration=_cfg(namespace))


def test_config_change_that_no_replica_would_load_is_refused_with_nothing_changed(kube: Kube,
                                                                                  namespace: str) -> None:
    # KWOK runs no container, so no pod here mounts the ConfigMap: the change would reach no replica
    # (on kind, tests/kind and the experiments show the replicas loading it and the restore)
    original = json.dumps({"attempt_timeout_s": 0.8})
    kube.core.create_namespaced_config_map(namespace, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="checkout-api-config"), data={"config.json": original}))
    with pytest.raises(ActivityFailed, match="no running pod .* mounts ConfigMap 'checkout-api-config'"):
        config_actions.change_service_config("checkout-api", {"attempt_timeout_s": 0.2}, duration=60,
                                             configuration=_cfg(namespace))
    cm = kube.core.read_namespaced_config_map("checkout-api-config", namespace)
    assert cm.data["config.json"] == original
    assert "chaosext.io/fault-id" not in (cm.metadata.annotations or {})
    with pytest.raises(ActivityFailed, match="not found"):
        config_actions.change_service_config("payment-service", {"x": 1}, configuration=_cfg(namespace))


def test_rollout_with_failing_readiness_stalls_with_old_replicas_serving_then_undo(kube: Kube,
                                                                                    namespace: str) -> None:
    _deployment(kube, namespace)
    old_pods = _pod_uids(kube, namespace)
    record = rollout_actions.start_failing_rollout("payment-service", duration=120, settle_timeout=30,
                                                   configuration=_cfg(namespace))
    state = record["rollout"]
    assert not state["complete"] and state["updated_replicas"] >= 1, state
    # it stays stalled: the new replica never becomes available, all old replicas keep serving
    st = wait_until(
        "the rollout to stay stalled with 3 old replicas available",
        lambda: rollout_probes.rollout_status("payment-service", configuration=_cfg(namespace)),
        timeout=20,
        done=lambda s: s["available_replicas"] == 3 and s["updated_replicas"] == 1 and not s["complete"],
    )
    assert st["ready_replicas"] == 3
    assert old_pods <= _pod_uids(kube, namespace)
    undone = rollout_actions.undo_failing_rollout("payment-service", configuration=_cfg(namespace))
    assert [u["id"] for u in undone] == [record["id"]]
    tpl = kube.apps.read_namespaced_deployment("payment-service", namespace).spec.template
    assert "chaosext.io/fault" not in (tpl.metadata.labels or {})
    assert tpl.spec.containers[0].readiness_probe is None
    final = rollout_actions.wait_for_rollout("payment-service", timeout=90, configuration=_cfg(namespace))
    assert final["complete"] and final["available_replicas"] == 3
