"""Issue 3, point 3: the local control plane is a real Kubernetes API server with real controllers.

Workloads go through the real kube-apiserver (validation, admission, etcd), kube-controller-manager
(Deployment, ReplicaSet, StatefulSet controllers) and kube-scheduler; KWOK plays the kubelets, so
pods become Ready without running any container.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from kube.helpers import Kube, labels_selector
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException
from support import wait_until

from chaosext.localkube.versions import K8S_VERSION

pytestmark = pytest.mark.kube

# Never pulled: pods run no containers (KWOK only writes their status).
IMAGE = "registry.invalid/chaosext/no-container:1"


def deployment(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": IMAGE}]},
            },
        },
    }


def pod_ready(pod: Any) -> bool:
    conditions = (pod.status.conditions or []) if pod.status else []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def ready_pods(kube: Kube, namespace: str, labels: dict[str, str]) -> list[Any]:
    pods = kube.core.list_namespaced_pod(namespace, label_selector=labels_selector(labels)).items
    return [p for p in pods if pod_ready(p) and p.metadata.deletion_timestamp is None]


def available(dep: Any) -> bool:
    status = dep.status
    conditions = status.conditions or []
    return bool(status.available_replicas == dep.spec.replicas
                and any(c.type == "Available" and c.status == "True" for c in conditions))


def create_available_deployment(kube: Kube, namespace: str, name: str, replicas: int = 3) -> None:
    kube.apps.create_namespaced_deployment(namespace, deployment(name, replicas))
    wait_until(
        f"deployment {name} Available with {replicas} replicas",
        lambda: kube.apps.read_namespaced_deployment(name, namespace),
        timeout=90,
        done=available,
    )


def test_server_is_the_built_kubernetes_version(kube: Kube) -> None:
    info = client.VersionApi(kube.api).get_code()
    assert info.git_version == K8S_VERSION
    nodes = kube.core.list_node().items
    assert len(nodes) == 3
    assert all(n.metadata.annotations.get("kwok.x-k8s.io/node") == "fake" for n in nodes)


def test_deployment_of_three_becomes_available(kube: Kube, namespace: str) -> None:
    create_available_deployment(kube, namespace, "checkout")
    pods = wait_until(
        "3 Ready pods",
        lambda: ready_pods(kube, namespace, {"app": "checkout"}),
        timeout=60,
        done=lambda pods: len(pods) == 3,
    )
    # scheduled by kube-scheduler onto KWOK's fake nodes, Ready through KWOK's pod stage
    assert {p.spec.node_name for p in pods} <= {"kwok-node-0", "kwok-node-1", "kwok-node-2"}
    assert all(p.status.phase == "Running" and p.status.pod_ip for p in pods)
    owners = {p.metadata.owner_references[0].kind for p in pods}
    assert owners == {"ReplicaSet"}


def test_deleted_pod_is_recreated(kube: Kube, namespace: str) -> None:
    create_available_deployment(kube, namespace, "payment")
    before = ready_pods(kube, namespace, {"app": "payment"})
    victim = before[0].metadata.name
    kube.core.delete_namespaced_pod(victim, namespace, grace_period_seconds=0)

    def replaced(pods: list[Any]) -> bool:
        names = {p.metadata.name for p in pods}
        return len(pods) == 3 and victim not in names

    after = wait_until(
        "a replacement pod Ready",
        lambda: ready_pods(kube, namespace, {"app": "payment"}),
        timeout=60,
        done=replaced,
    )
    new_names = {p.metadata.name for p in after} - {p.metadata.name for p in before}
    assert len(new_names) == 1
    wait_until(
        f"deleted pod {victim} gone",
        lambda: [p.metadata.name for p in kube.core.list_namespaced_pod(namespace).items],
        timeout=60,
        done=lambda names: victim not in names,
    )


def test_rollout_restart_completes(kube: Kube, namespace: str) -> None:
    name = "orders"
    create_available_deployment(kube, namespace, name)
    before = kube.apps.read_namespaced_deployment(name, namespace)
    old_hashes = {p.metadata.labels["pod-template-hash"] for p in ready_pods(kube, namespace, {"app": name})}
    # what `kubectl rollout restart` does
    restarted_at = datetime.now(UTC).isoformat()
    patch = {"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": restarted_at}}}}}
    kube.apps.patch_namespaced_deployment(name, namespace, patch)

    def complete(dep: Any) -> bool:
        s = dep.status
        replicas = dep.spec.replicas
        return bool(dep.metadata.generation > before.metadata.generation
                    and s.observed_generation == dep.metadata.generation
                    and s.updated_replicas == replicas and s.available_replicas == replicas
                    and s.replicas == replicas and not s.unavailable_replicas)

    done = wait_until(
        "rollout restart complete",
        lambda: kube.apps.read_namespaced_deployment(name, namespace),
        timeout=120,
        done=complete,
    )
    progressing = [c for c in done.status.conditions if c.type == "Progressing"]
    assert progressing and progressing[0].reason == "NewReplicaSetAvailable"
    pods = wait_until(
        "only new pods left",
        lambda: kube.core.list_namespaced_pod(namespace, label_selector=f"app={name}").items,
        timeout=60,
        done=lambda pods: len(pods) == 3,
    )
    new_hashes = {p.metadata.labels["pod-template-hash"] for p in pods}
    assert len(new_hashes) == 1 and not new_hashes & old_hashes
    assert all(p.metadata.annotations.get("kubectl.kubernetes.io/restartedAt") == restarted_at for p in pods)


def test_statefulset_comes_up_in_order(kube: Kube, namespace: str) -> None:
    name = "kafka"
    labels = {"app": name}
    kube.core.create_namespaced_service(namespace, {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
        "spec": {"clusterIP": "None", "selector": labels, "ports": [{"port": 9092}]}})
    start_rv = kube.core.list_namespaced_pod(namespace).metadata.resource_version
    kube.apps.create_namespaced_stateful_set(namespace, {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
        "spec": {"serviceName": name, "replicas": 3, "selector": {"matchLabels": labels},
                 "podManagementPolicy": "OrderedReady",
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "broker", "image": IMAGE}]}}}})
    # Watch from before the StatefulSet existed: every pod event, in the API server's order.
    created: list[str] = []
    ready_when_next_created: dict[str, bool] = {}
    ready: set[str] = set()
    deadline = time.monotonic() + 90
    stream = watch.Watch()
    for event in stream.stream(kube.core.list_namespaced_pod, namespace, resource_version=start_rv,
                               timeout_seconds=90):
        pod = event["object"]
        pod_name = pod.metadata.name
        if event["type"] == "ADDED" and pod_name not in created:
            if created:
                ready_when_next_created[created[-1]] = created[-1] in ready
            created.append(pod_name)
        if pod_ready(pod):
            ready.add(pod_name)
        if len(ready) == 3 or time.monotonic() > deadline:
            stream.stop()
    assert created == [f"{name}-0", f"{name}-1", f"{name}-2"]
    # OrderedReady: pod N+1 was created only once pod N was Ready
    assert ready_when_next_created == {f"{name}-0": True, f"{name}-1": True}
    assert ready == set(created)
    sts = wait_until(
        "StatefulSet readyReplicas 3",
        lambda: kube.apps.read_namespaced_stateful_set(name, namespace),
        timeout=60,
        done=lambda s: s.status.ready_replicas == 3 and s.status.available_replicas == 3,
    )
    assert sts.status.current_replicas == 3
    stamps = [kube.core.read_namespaced_pod(n, namespace).metadata.creation_timestamp for n in created]
    assert stamps == sorted(stamps)


def test_server_side_dry_run_rejects_invalid_manifest(kube: Kube, namespace: str) -> None:
    bad = deployment("bad", 1)
    bad["spec"]["template"]["metadata"]["labels"] = {"app": "other"}  # selector does not match
    with pytest.raises(ApiException) as caught:
        kube.apps.create_namespaced_deployment(namespace, bad, dry_run="All")
    assert caught.value.status == 422
    status = json.loads(caught.value.body or "{}")
    assert status["kind"] == "Status" and status["reason"] == "Invalid"
    assert 'Deployment.apps "bad" is invalid' in status["message"]
    assert "spec.template.metadata.labels" in status["message"]
    assert "`selector` does not match template `labels`" in status["message"]
    # and a valid manifest passes a dry run without being stored
    good = kube.apps.create_namespaced_deployment(namespace, deployment("good", 1), dry_run="All")
    assert good.metadata.name == "good"
    with pytest.raises(ApiException) as missing:
        kube.apps.read_namespaced_deployment("good", namespace)
    assert missing.value.status == 404


def test_secrets_and_configmaps_behave(kube: Kube, namespace: str) -> None:
    secret = kube.core.create_namespaced_secret(namespace, {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "payment-tls"}, "type": "Opaque",
        "stringData": {"token": "s3cret"}})
    assert secret.data == {"token": "czNjcmV0"}  # stringData is stored base64-encoded in data
    updated = kube.core.patch_namespaced_secret("payment-tls", namespace, {"stringData": {"token": "rotated"}})
    assert int(updated.metadata.resource_version) > int(secret.metadata.resource_version)
    kube.core.create_namespaced_config_map(namespace, {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "frozen"}, "immutable": True,
        "data": {"mode": "a"}})
    with pytest.raises(ApiException) as caught:
        kube.core.patch_namespaced_config_map("frozen", namespace, {"data": {"mode": "b"}})
    assert caught.value.status == 422
    assert "field is immutable when `immutable` is set" in json.loads(caught.value.body or "{}")["message"]


def test_second_up_is_a_fast_no_op(kube: Kube) -> None:
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "chaosext.localkube", "up", "--state-dir", str(kube.state_dir)],
                          capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert f"KUBECONFIG={kube.kubeconfig}" in proc.stdout.splitlines()
    assert "already running" in proc.stderr
    assert elapsed < 30
