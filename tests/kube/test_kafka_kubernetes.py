"""Kafka faults against the real Kubernetes API server (pods simulated by KWOK): broker pods of a
3-replica StatefulSet deleted and held down for the duration, the consumer Deployment scaled to 0
or down and back, guardrails, leftovers found and removed after SIGKILL.

Run: CHAOSEXT_PORT_OFFSET=2000 CHAOSEXT_STATE_DIR=/tmp/kafka-state .venv/bin/pytest -m kube \
    tests/kube/test_kafka_kubernetes.py
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chaoslib.exceptions import ActivityFailed
from interrupt_support import assert_rollbacks_succeeded, interrupt_run, sigkilled_after
from kube.helpers import Kube
from kubernetes import client
from support import wait_until

from chaosext.faults import markers
from chaosext.kafka import actions
from chaosext.kafka import kubernetes as k8s

pytestmark = pytest.mark.kube

REPO = Path(__file__).resolve().parents[2]
LABELS = {"app.kubernetes.io/name": "kafka"}


@pytest.fixture
def env(kube: Kube, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("KUBECONFIG", str(kube.kubeconfig))
    monkeypatch.delenv("KUBERNETES_CONTEXT", raising=False)
    yield
    actions.restore_kafka()
    assert markers.list_markers(family="kafka") == []


def _pod_template(labels: dict[str, str]) -> client.V1PodTemplateSpec:
    return client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels=labels),
        spec=client.V1PodSpec(
            containers=[client.V1Container(name="main", image="registry.invalid/kafka:4.1.1")],
            tolerations=[
                client.V1Toleration(key="kwok.x-k8s.io/node", operator="Exists", effect="NoSchedule")
            ],
            termination_grace_period_seconds=30,
        ),
    )


@pytest.fixture
def brokers(kube: Kube, namespace: str, env: None) -> str:
    """A 3-replica 'kafka' StatefulSet with every pod Ready."""
    sts = client.V1StatefulSet(
        metadata=client.V1ObjectMeta(name="kafka", labels=LABELS),
        spec=client.V1StatefulSetSpec(
            replicas=3,
            service_name="kafka",
            pod_management_policy="Parallel",
            selector=client.V1LabelSelector(match_labels=LABELS),
            template=_pod_template(LABELS),
        ),
    )
    kube.apps.create_namespaced_stateful_set(namespace, sts)
    wait_until("3 Ready broker pods", lambda: _ready(kube, namespace), timeout=90, done=lambda v: len(v) == 3)
    return namespace


@pytest.fixture
def consumer(kube: Kube, namespace: str, env: None) -> str:
    labels = {"app.kubernetes.io/name": "order-consumer"}
    dep = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="order-consumer", labels=labels),
        spec=client.V1DeploymentSpec(
            replicas=4, selector=client.V1LabelSelector(match_labels=labels), template=_pod_template(labels)
        ),
    )
    kube.apps.create_namespaced_deployment(namespace, dep)
    wait_until(
        "4 ready consumer pods",
        lambda: kube.apps.read_namespaced_deployment("order-consumer", namespace).status.ready_replicas or 0,
        timeout=90,
        done=lambda v: v == 4,
    )
    return namespace


def _pods(kube: Kube, namespace: str) -> dict[str, Any]:
    pods = kube.core.list_namespaced_pod(namespace, label_selector="app.kubernetes.io/name=kafka").items
    return {p.metadata.name: p for p in pods}


def _ready(kube: Kube, namespace: str) -> set[str]:
    return {
        name
        for name, p in _pods(kube, namespace).items()
        if p.metadata.deletion_timestamp is None
        and any(c.type == "Ready" and c.status == "True" for c in (p.status.conditions or []))
    }


def _annotations(
    kube: Kube, namespace: str, kind: str = "statefulset", name: str = "kafka"
) -> dict[str, str]:
    reader = (
        kube.apps.read_namespaced_stateful_set
        if kind == "statefulset"
        else kube.apps.read_namespaced_deployment
    )
    return dict(reader(name, namespace).metadata.annotations or {})


def _cfg(namespace: str) -> dict[str, Any]:
    return {"target": "kubernetes", "namespace": namespace}


def _held_down(kube: Kube, namespace: str, pod: str, seconds: float) -> list[str]:
    """Sample for ``seconds``: every moment ``pod`` was Ready (should be none while held)."""
    seen = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pod in _ready(kube, namespace):
            seen.append(time.strftime("%H:%M:%S"))
        time.sleep(0.2)
    return seen


def _holders(kube: Kube, namespace: str) -> list[str]:
    return [
        p.metadata.name for p in kube.core.list_namespaced_pod(namespace, label_selector=k8s.HOLD_LABEL).items
    ]


def test_killed_broker_pod_is_held_down_then_comes_back(kube: Kube, brokers: str) -> None:
    ns = brokers
    uid = _pods(kube, ns)["kafka-1"].metadata.uid
    record = actions.lose_brokers(brokers=[1], mode="kill", duration=12, configuration=_cfg(ns))
    assert record["target"] == "kubernetes" and record["brokers"] == [1]
    deleted = record["changed"]["deleted"]
    assert [(d["pod"], d["grace_seconds"], d["deleted"]) for d in deleted] == [("kafka-1", 0, True)]
    # the name is taken by a placeholder that is never scheduled: the controller cannot recreate kafka-1
    holder = kube.core.read_namespaced_pod("kafka-1", ns)
    assert holder.metadata.labels[k8s.HOLD_LABEL] == "kafka" and holder.spec.node_name is None
    assert [g.name for g in holder.spec.scheduling_gates] == ["chaosext.io/kafka-broker-held-down"]
    ready_moments = _held_down(kube, ns, "kafka-1", 8)
    assert ready_moments == [], f"kafka-1 was Ready while held down at {ready_moments}"
    assert _ready(kube, ns) == {"kafka-0", "kafka-2"}
    assert kube.apps.read_namespaced_stateful_set("kafka", ns).status.ready_replicas == 2
    # expiry: the placeholder goes, the StatefulSet recreates the broker pod (a new one)
    wait_until("kafka-1 Ready again", lambda: _ready(kube, ns), timeout=60, done=lambda v: "kafka-1" in v)
    assert _pods(kube, ns)["kafka-1"].metadata.uid != uid
    assert _holders(kube, ns) == []
    wait_until("the marker removed", lambda: markers.load(record["id"]), timeout=20, done=lambda v: v is None)


def test_stopped_broker_gets_the_pods_grace_period_and_rollback_releases_it(kube: Kube, brokers: str) -> None:
    ns = brokers
    record = actions.lose_brokers(brokers="2", mode="stop", duration=300, configuration=_cfg(ns))
    assert record["changed"]["deleted"][0]["grace_seconds"] is None  # the pod's own terminationGracePeriod
    assert _holders(kube, ns) == ["kafka-2"]
    assert _held_down(kube, ns, "kafka-2", 4) == []
    removed = actions.restore_kafka("broker-loss")
    assert [r["id"] for r in removed] == [record["id"]]
    wait_until("kafka-2 Ready again", lambda: _ready(kube, ns), timeout=60, done=lambda v: v == {"kafka-0", "kafka-1", "kafka-2"})
    assert [r for r in k8s.find_leftovers() if r["namespace"] == ns] == []


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"brokers": [0, 1]}, "guardrails"),
        ({"brokers": [7]}, "'brokers' \\[7\\]"),
        ({"brokers": [1], "statefulset": "zookeeper"}, "'statefulset' 'zookeeper'"),
        ({"brokers": [1], "duration": -1}, "'duration'"),
        ({"brokers": [1], "namespace": "kube-system"}, "kube-system"),
        ({"brokers": [3], "broker_id_offset": 1, "count": 0}, "'count'"),
    ],
)
def test_bad_arguments_change_nothing(kube: Kube, brokers: str, kwargs: dict[str, Any], needle: str) -> None:
    ns = brokers
    before = {n: p.metadata.uid for n, p in _pods(kube, ns).items()}
    with pytest.raises(ActivityFailed, match=needle):
        actions.lose_brokers(configuration=_cfg(ns), **{"duration": 30, **kwargs})
    assert {n: p.metadata.uid for n, p in _pods(kube, ns).items()} == before
    assert _holders(kube, ns) == []
    assert markers.list_markers(family="kafka") == []


def test_a_second_broker_loss_counting_the_held_one_is_refused(kube: Kube, brokers: str) -> None:
    ns = brokers
    actions.lose_brokers(brokers=[0], duration=60, configuration=_cfg(ns))
    with pytest.raises(ActivityFailed, match="already down: \\[0\\]"):
        actions.lose_brokers(brokers=[2], duration=60, configuration=_cfg(ns))
    assert "kafka-2" in _ready(kube, ns)  # the refused fault touched nothing
    assert _holders(kube, ns) == ["kafka-0"]
    assert len(markers.list_markers(family="kafka")) == 1


def test_broker_id_offset_maps_ids_to_ordinals(kube: Kube, brokers: str) -> None:
    ns = brokers
    record = actions.lose_brokers(brokers=[3], broker_id_offset=1, duration=60, configuration=_cfg(ns))
    assert record["changed"]["deleted"][0]["pod"] == "kafka-2"
    assert _holders(kube, ns) == ["kafka-2"]


def _deployment(kube: Kube, ns: str) -> Any:
    return kube.apps.read_namespaced_deployment("order-consumer", ns)


def test_pause_scales_the_consumer_to_zero_and_back(kube: Kube, consumer: str) -> None:
    ns = consumer
    record = actions.pause_consumer("order-consumer", duration=300, configuration=_cfg(ns))
    assert record["changed"] == {"deployment": f"{ns}/order-consumer", "replicas_before": 4, "replicas": 0}
    wait_until("no consumer pod left", lambda: _deployment(kube, ns).status.replicas or 0, timeout=60, done=lambda v: v == 0)
    assert _annotations(kube, ns, "deployment", "order-consumer")[k8s.REPLICAS_ANNOTATION] == "4"
    with pytest.raises(ActivityFailed, match="already under Kafka fault"):
        actions.slow_consumer("order-consumer", duration=30, configuration=_cfg(ns))
    actions.restore_kafka("consumer-pause")
    wait_until(
        "4 ready consumers again",
        lambda: _deployment(kube, ns).status.ready_replicas or 0,
        timeout=90,
        done=lambda v: v == 4,
    )
    assert k8s.REPLICAS_ANNOTATION not in _annotations(kube, ns, "deployment", "order-consumer")


def test_slow_scales_the_consumer_down_and_expires(kube: Kube, consumer: str) -> None:
    ns = consumer
    with pytest.raises(ActivityFailed, match="'replicas'"):
        actions.slow_consumer("order-consumer", duration=5, replicas=4, configuration=_cfg(ns))
    record = actions.slow_consumer("order-consumer", duration=5, configuration=_cfg(ns))
    assert record["changed"]["replicas"] == 2
    wait_until("2 consumers", lambda: _deployment(kube, ns).spec.replicas, timeout=30, done=lambda v: v == 2)
    wait_until("scaled back to 4 at expiry", lambda: _deployment(kube, ns).spec.replicas, timeout=30, done=lambda v: v == 4)
    wait_until("the marker removed", lambda: markers.load(record["id"]), timeout=20, done=lambda v: v is None)


def test_sigkill_mid_hold_leaves_leftovers_that_cleanup_finds_and_removes(kube: Kube, brokers: str) -> None:
    ns = brokers
    code = (
        "import os, signal; from chaosext.kafka import actions; "
        f"actions.lose_brokers(brokers=[1], duration=600, configuration={_cfg(ns)!r}); "
        "os.kill(os.getpid(), signal.SIGKILL)"
    )
    sigkilled_after(code)
    assert _held_down(kube, ns, "kafka-1", 3) == []  # still held: nobody rolled back
    found = [r for r in k8s.find_leftovers() if r["namespace"] == ns]
    assert [(r["kind"], r["name"], r["statefulset"]) for r in found] == [("pod", "kafka-1", "kafka")]
    # the marker is lost too (worst case): the cluster-side finder alone must end the hold
    for marker in markers.list_markers(family="kafka"):
        markers.delete(marker.id)
    removed = k8s.remove_leftovers()
    assert [r["name"] for r in removed if r["namespace"] == ns] == ["kafka-1"]
    wait_until("kafka-1 Ready again", lambda: _ready(kube, ns), timeout=60, done=lambda v: "kafka-1" in v)
    assert [r for r in k8s.find_leftovers() if r["namespace"] == ns] == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_mid_hold_runs_the_rollback(
    kube: Kube, brokers: str, tmp_path: Path, sig: signal.Signals
) -> None:
    ns = brokers
    exp = {
        "title": "hold interrupted",
        "description": "signal test",
        "configuration": _cfg(ns),
        "method": [
            {
                "type": "action",
                "name": "kill-broker",
                "provider": {
                    "type": "python",
                    "module": "chaosext.kafka.actions",
                    "func": "lose_brokers",
                    "arguments": {"brokers": [2], "duration": 300},
                },
            },
            {
                "type": "probe",
                "name": "wait",
                "provider": {"type": "process", "path": "sleep", "arguments": "120"},
            },
        ],
        "rollbacks": [
            {
                "type": "action",
                "name": "restore",
                "provider": {"type": "python", "module": "chaosext.kafka.actions", "func": "restore_kafka"},
            }
        ],
    }
    path = tmp_path / "exp.json"
    path.write_text(json.dumps(exp))
    journal, out = interrupt_run(path, tmp_path / "j.json", sig, ready=lambda: _holders(kube, ns),
                                 what="the hold to be active", chaos_args=("--no-log-file",))
    assert markers.list_markers(family="kafka") == [], out[-2000:]
    assert _holders(kube, ns) == []
    wait_until("kafka-2 Ready again", lambda: _ready(kube, ns), timeout=60, done=lambda v: "kafka-2" in v)
    assert_rollbacks_succeeded(journal)
