"""Kubernetes side of the Kafka faults.

Broker loss: a broker is a pod ``<statefulset>-<ordinal>`` of the Kafka StatefulSet (broker id =
ordinal + ``broker_id_offset``, 0 by default as in Strimzi/Bitnami charts). The pods are deleted
(grace 0 for a kill, the pod's own grace period for a stop) and *held down*: a detached keeper
process (``python -m chaosext.kafka.keeper``) watches those pod names and deletes every copy the
StatefulSet controller recreates, until the fault expires or is undone. Why not scale the
StatefulSet down: that only removes the highest ordinals (not "broker 1" or "the leader of
orders-0"), it changes the spec that GitOps tools reconcile, and it is a different event from a
crash. The StatefulSet carries annotations naming the fault, the held pods and the expiry, so
``find_leftovers``/``remove_leftovers`` find a hold even without its marker; the keeper exits by
itself when those annotations go away or its deadline passes, so a hold can never outlive its
fault by more than a second.

Consumer pause: the consumer's Deployment is scaled to 0 (or down to ``replicas`` for a
slow-down) and back; it is annotated with its replica count before the fault.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets
from kubernetes import client
from kubernetes.client.rest import ApiException

from chaosext import kube
from chaosext.faults.paths import faults_dir

__all__ = [
    "annotations_of",
    "HELD_ANNOTATION",
    "REPLICAS_ANNOTATION",
    "broker_pods",
    "delete_and_hold",
    "find_leftovers",
    "release",
    "remove_leftovers",
    "restore_consumer",
    "scale_consumer",
]

HELD_ANNOTATION = "chaosext.io/kafka-held-pods"
KEEPER_ANNOTATION = "chaosext.io/kafka-keeper"
REPLICAS_ANNOTATION = "chaosext.io/kafka-replicas-before"


def _api(context: str | None) -> client.ApiClient:
    return kube.client_for({"KUBERNETES_CONTEXT": context} if context else None)


def annotations_of(obj: Any) -> dict[str, str]:
    """An object's annotations (empty when it has none)."""
    return dict((obj.metadata.annotations if obj.metadata else None) or {})


def _is_ready(pod: Any) -> bool:
    return any(
        c.type == "Ready" and c.status == "True" for c in ((pod.status and pod.status.conditions) or [])
    )


def broker_pods(
    statefulset: str, namespace: str, configuration: Configuration, secrets: Secrets
) -> tuple[Any, dict[int, Any]]:
    """The StatefulSet and its current pods by ordinal."""
    api = kube.api_client(configuration, secrets)
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    try:
        sts = apps.read_namespaced_stateful_set(statefulset, namespace)
    except ApiException as exc:
        if exc.status == 404:
            raise ActivityFailed(
                f"'statefulset' {statefulset!r} not found in namespace {namespace!r}"
            ) from None
        raise kube.api_error(exc, f"reading statefulset {namespace}/{statefulset}") from None
    selector = kube.selector_string(sts.spec.selector.match_labels or {})
    try:
        pods = core.list_namespaced_pod(namespace, label_selector=selector).items
    except ApiException as exc:
        raise kube.api_error(exc, f"listing the pods of statefulset {namespace}/{statefulset}") from None
    by_ordinal: dict[int, Any] = {}
    pod: Any
    for pod in pods:
        suffix = pod.metadata.name[len(statefulset) + 1 :]
        if pod.metadata.name.startswith(f"{statefulset}-") and suffix.isdigit():
            by_ordinal[int(suffix)] = pod
    return sts, by_ordinal


def _delete(core: client.CoreV1Api, namespace: str, name: str, grace: int | None) -> bool:
    try:
        core.delete_namespaced_pod(name, namespace, body=client.V1DeleteOptions(grace_period_seconds=grace))
        return True
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise kube.api_error(exc, f"deleting pod {namespace}/{name}") from None


def _annotate(
    apps: client.AppsV1Api, kind: str, name: str, namespace: str, marks: dict[str, str | None]
) -> None:
    patch = {"metadata": {"annotations": marks}}
    patcher = (
        apps.patch_namespaced_stateful_set if kind == "statefulset" else apps.patch_namespaced_deployment
    )
    patcher(name, namespace, patch)


def delete_and_hold(
    fault_id: str,
    statefulset: str,
    namespace: str,
    pods: list[str],
    grace: int | None,
    expires_at: float,
    context: str | None,
) -> dict[str, Any]:
    """Mark the StatefulSet, delete the pods, start the keeper that holds them down until ``expires_at``."""
    api = _api(context)
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    marks: dict[str, str | None] = {
        **kube.expiry_annotations(fault_id, expires_at),
        HELD_ANNOTATION: ",".join(pods),
    }
    try:
        _annotate(apps, "statefulset", statefulset, namespace, marks)
    except ApiException as exc:
        raise kube.api_error(exc, f"annotating statefulset {namespace}/{statefulset}") from None
    # delete first (a stop's deletion is graceful), then hold: the keeper skips pods already terminating
    deleted = [
        {"pod": name, "grace_seconds": grace, "deleted": _delete(core, namespace, name, grace)}
        for name in pods
    ]
    keeper = _start_keeper(fault_id, statefulset, namespace, pods, expires_at, context)
    try:
        _annotate(apps, "statefulset", statefulset, namespace, {KEEPER_ANNOTATION: json.dumps(keeper)})
    except ApiException as exc:
        raise kube.api_error(exc, f"annotating statefulset {namespace}/{statefulset}") from None
    return {"statefulset": f"{namespace}/{statefulset}", "deleted": deleted, "keeper": keeper}


def _start_keeper(
    fault_id: str, statefulset: str, namespace: str, pods: list[str], until: float, context: str | None
) -> dict[str, Any]:
    log = open(faults_dir() / "kafka-keeper.log", "ab")  # noqa: SIM115 - handed to the child
    cmd = [
        sys.executable,
        "-m",
        "chaosext.kafka.keeper",
        "--fault-id",
        fault_id,
        "--statefulset",
        statefulset,
        "--namespace",
        namespace,
        "--pods",
        ",".join(pods),
        "--until",
        str(until),
    ]
    if context:
        cmd += ["--context", context]
    proc = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True
    )
    log.close()
    return {"pid": proc.pid, "host": os.uname().nodename}


def _stop_keeper(pid: int) -> None:
    try:
        if b"chaosext.kafka.keeper" not in Path(f"/proc/{pid}/cmdline").read_bytes():
            return
        os.kill(pid, signal.SIGTERM)
    except (OSError, ProcessLookupError):
        return
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        if not Path(f"/proc/{pid}/cmdline").exists() or not Path(f"/proc/{pid}/cmdline").read_bytes():
            return
        time.sleep(0.05)


def release(
    fault_id: str,
    statefulset: str,
    namespace: str,
    context: str | None = None,
    keeper_pid: int | None = None,
    pods: list[str] | None = None,
) -> None:
    """Undo of a broker loss (idempotent): stop the keeper, remove the hold's annotations; the
    StatefulSet controller then recreates the pods."""
    if keeper_pid:
        _stop_keeper(int(keeper_pid))
    apps = client.AppsV1Api(_api(context))
    try:
        sts = apps.read_namespaced_stateful_set(statefulset, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return
        raise kube.api_error(exc, f"reading statefulset {namespace}/{statefulset}") from None
    notes = annotations_of(sts)
    if notes.get(kube.FAULT_ANNOTATION) != fault_id:
        return
    if not keeper_pid and notes.get(KEEPER_ANNOTATION):
        _stop_keeper(int(json.loads(notes[KEEPER_ANNOTATION]).get("pid", 0)))
    clear: dict[str, str | None] = {
        kube.FAULT_ANNOTATION: None,
        kube.EXPIRES_ANNOTATION: None,
        HELD_ANNOTATION: None,
        KEEPER_ANNOTATION: None,
    }
    try:
        _annotate(apps, "statefulset", statefulset, namespace, clear)
    except ApiException as exc:
        if exc.status != 404:
            raise kube.api_error(exc, f"clearing the hold on statefulset {namespace}/{statefulset}") from None


# ---- consumer Deployment -------------------------------------------------------------------------
def consumer_replicas(deployment: str, namespace: str, configuration: Configuration, secrets: Secrets) -> int:
    apps = client.AppsV1Api(kube.api_client(configuration, secrets))
    try:
        dep = apps.read_namespaced_deployment(deployment, namespace)
    except ApiException as exc:
        if exc.status == 404:
            raise ActivityFailed(
                f"'consumer' deployment {deployment!r} not found in namespace {namespace!r}"
            ) from None
        raise kube.api_error(exc, f"reading deployment {namespace}/{deployment}") from None
    if annotations_of(dep).get(kube.FAULT_ANNOTATION, "").startswith("kafka-"):
        raise ActivityFailed(
            f"deployment {namespace}/{deployment} is already under Kafka fault "
            f"{annotations_of(dep)[kube.FAULT_ANNOTATION]}; nothing changed"
        )
    return int(dep.spec.replicas if dep.spec.replicas is not None else 1)


def scale_consumer(
    fault_id: str,
    deployment: str,
    namespace: str,
    replicas: int,
    before: int,
    expires_at: float | None,
    context: str | None,
) -> dict[str, Any]:
    apps = client.AppsV1Api(_api(context))
    marks: dict[str, str | None] = {
        **kube.expiry_annotations(fault_id, expires_at),
        REPLICAS_ANNOTATION: str(before),
    }
    try:
        _annotate(apps, "deployment", deployment, namespace, marks)
        apps.patch_namespaced_deployment_scale(deployment, namespace, {"spec": {"replicas": replicas}})
    except ApiException as exc:
        raise kube.api_error(exc, f"scaling deployment {namespace}/{deployment}") from None
    return {"deployment": f"{namespace}/{deployment}", "replicas_before": before, "replicas": replicas}


def restore_consumer(
    fault_id: str, deployment: str, namespace: str, replicas: int, context: str | None = None
) -> None:
    """Undo of a consumer pause/slow-down (idempotent): scale back, drop the annotations."""
    apps = client.AppsV1Api(_api(context))
    try:
        dep = apps.read_namespaced_deployment(deployment, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return
        raise kube.api_error(exc, f"reading deployment {namespace}/{deployment}") from None
    if annotations_of(dep).get(kube.FAULT_ANNOTATION) != fault_id:
        return
    try:
        apps.patch_namespaced_deployment_scale(deployment, namespace, {"spec": {"replicas": int(replicas)}})
        _annotate(
            apps,
            "deployment",
            deployment,
            namespace,
            {kube.FAULT_ANNOTATION: None, kube.EXPIRES_ANNOTATION: None, REPLICAS_ANNOTATION: None},
        )
    except ApiException as exc:
        if exc.status != 404:
            raise kube.api_error(exc, f"restoring deployment {namespace}/{deployment}") from None


def wait_no_pods(
    deployment: str, namespace: str, configuration: Configuration, secrets: Secrets, timeout: float
) -> None:
    """Wait until the Deployment reports no replicas left (its consumers have left the group)."""
    apps = client.AppsV1Api(kube.api_client(configuration, secrets))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status: Any = apps.read_namespaced_deployment_status(deployment, namespace).status
        if not (status.replicas or 0):
            return
        time.sleep(0.25)
    raise ActivityFailed(
        f"deployment {namespace}/{deployment} still has pods {timeout:g}s after scaling to 0"
    )


# ---- leftovers (for `chaosext cleanup`, wired in by the lead) ---------------------------------------
def find_leftovers(context: str | None = None) -> list[dict[str, Any]]:
    """Every StatefulSet held down and every Deployment scaled by a Kafka fault, in any namespace."""
    apps = client.AppsV1Api(_api(context))
    found: list[dict[str, Any]] = []
    try:
        workloads = [("statefulset", o) for o in apps.list_stateful_set_for_all_namespaces().items] + [
            ("deployment", o) for o in apps.list_deployment_for_all_namespaces().items
        ]
    except ApiException as exc:
        raise kube.api_error(exc, "listing statefulsets and deployments") from None
    obj: Any
    for kind, obj in workloads:
        notes = annotations_of(obj)
        fault_id = notes.get(kube.FAULT_ANNOTATION, "")
        if not fault_id.startswith("kafka-"):
            continue
        if kind == "statefulset" and HELD_ANNOTATION in notes:
            found.append(
                {
                    "kind": kind,
                    "namespace": obj.metadata.namespace,
                    "name": obj.metadata.name,
                    "fault_id": fault_id,
                    "held_pods": notes[HELD_ANNOTATION],
                    "expires_at": notes.get(kube.EXPIRES_ANNOTATION),
                }
            )
        elif kind == "deployment" and REPLICAS_ANNOTATION in notes:
            found.append(
                {
                    "kind": kind,
                    "namespace": obj.metadata.namespace,
                    "name": obj.metadata.name,
                    "fault_id": fault_id,
                    "replicas_before": int(notes[REPLICAS_ANNOTATION]),
                    "expires_at": notes.get(kube.EXPIRES_ANNOTATION),
                }
            )
    return found


def remove_leftovers(context: str | None = None, dry_run: bool = False) -> list[dict[str, Any]]:
    """Undo everything :func:`find_leftovers` reports."""
    found = find_leftovers(context)
    if not dry_run:
        for row in found:
            if row["kind"] == "statefulset":
                release(row["fault_id"], row["name"], row["namespace"], context)
            else:
                restore_consumer(
                    row["fault_id"], row["name"], row["namespace"], row["replicas_before"], context
                )
    return found
