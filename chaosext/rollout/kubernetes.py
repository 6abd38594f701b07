"""Rollouts on Kubernetes: Deployments and StatefulSets.

Completion is judged as ``kubectl rollout status`` does, from the controller's own status:
``observedGeneration >= generation`` and ``updatedReplicas == availableReplicas == replicas``
(StatefulSets also ``currentRevision == updateRevision``), never from a sleep.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets
from kubernetes import client
from kubernetes.client.rest import ApiException

from chaosext import kube
from chaosext.common import checks
from chaosext.common.waiting import WaitTimeout, wait_until

__all__ = ["patch_template", "read_workload", "replace_template", "restart", "rollout_state", "wait_complete"]

KINDS = ("deployment", "statefulset")


def _kind(kind: str) -> str:
    return checks.choice("kind", kind.lower(), KINDS)


def _apps(configuration: Configuration, secrets: Secrets) -> client.AppsV1Api:
    return client.AppsV1Api(kube.api_client(configuration, secrets))


def read_workload(name: str, kind: str, namespace: str, configuration: Configuration = None,
                  secrets: Secrets = None) -> Any:
    apps = _apps(configuration, secrets)
    reader = apps.read_namespaced_deployment if _kind(kind) == "deployment" else apps.read_namespaced_stateful_set
    try:
        return reader(name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            raise ActivityFailed(f"{kind} {name!r} not found in namespace {namespace!r}") from None
        raise kube.api_error(exc, f"reading {kind} {namespace}/{name}") from None


def rollout_state(obj: Any) -> dict[str, Any]:
    """The rollout's state from a Deployment or StatefulSet object."""
    spec_replicas = obj.spec.replicas if obj.spec.replicas is not None else 1
    st = obj.status
    generation = obj.metadata.generation or 0
    observed = st.observed_generation or 0
    updated = st.updated_replicas or 0
    available = st.available_replicas or 0
    ready = st.ready_replicas or 0
    total = st.replicas or 0
    complete = observed >= generation and updated == spec_replicas and available == spec_replicas \
        and total == spec_replicas
    stalled = False
    reason = None
    # StatefulSets: every pod on the update revision
    if getattr(st, "update_revision", None) and st.current_revision != st.update_revision:
        complete = False
    for cond in getattr(st, "conditions", None) or []:
        if cond.type == "Progressing" and cond.reason == "ProgressDeadlineExceeded":
            stalled = True
            reason = cond.message
    return {
        "name": obj.metadata.name,
        "namespace": obj.metadata.namespace,
        "generation": generation,
        "observed_generation": observed,
        "replicas": spec_replicas,
        "current_replicas": total,
        "updated_replicas": updated,
        "ready_replicas": ready,
        "available_replicas": available,
        "unavailable_replicas": max(0, spec_replicas - available),
        "complete": bool(complete),
        "stalled": stalled,
        "reason": reason,
    }


def wait_complete(name: str, kind: str, namespace: str, timeout: float, configuration: Configuration = None,
                  secrets: Secrets = None, interval: float = 0.5) -> dict[str, Any]:
    started = time.monotonic()

    def state() -> dict[str, Any]:
        obj = read_workload(name, kind, namespace, configuration, secrets)
        obj.kind = "StatefulSet" if _kind(kind) == "statefulset" else "Deployment"
        return rollout_state(obj)

    try:
        done = wait_until(f"the rollout of {kind} {namespace}/{name}", state, done=lambda s: s["complete"],
                          timeout_s=timeout, interval_s=interval)
    except WaitTimeout as exc:
        raise ActivityFailed(f"rollout of {kind} {namespace}/{name} did not complete within {timeout}s: "
                             f"{exc.last}") from None
    done["waited_s"] = round(time.monotonic() - started, 2)
    return done


def patch_template(name: str, kind: str, namespace: str, patch: dict[str, Any],
                   configuration: Configuration = None, secrets: Secrets = None) -> Any:
    apps = _apps(configuration, secrets)
    patcher = apps.patch_namespaced_deployment if _kind(kind) == "deployment" \
        else apps.patch_namespaced_stateful_set
    try:
        return patcher(name, namespace, patch)
    except ApiException as exc:
        raise kube.api_error(exc, f"patching {kind} {namespace}/{name}") from None


def restart(name: str, kind: str, namespace: str, configuration: Configuration = None,
            secrets: Secrets = None) -> dict[str, Any]:
    """What ``kubectl rollout restart`` does: bump the template's restartedAt annotation."""
    read_workload(name, kind, namespace, configuration, secrets)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    patch = {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": stamp}}}}}
    obj = patch_template(name, kind, namespace, patch, configuration, secrets)
    return {"kind": kind, "name": name, "namespace": namespace, "restarted_at": stamp,
            "generation": obj.metadata.generation}


def replace_template(name: str, kind: str, namespace: str, template: dict[str, Any], context: str | None) -> None:
    """Replace the pod template as a whole (a JSON patch), so nothing a fault added survives.

    Used by undo and cleanup, which must work without the experiment's configuration: the kube
    context the fault was made in is passed instead."""
    apps = client.AppsV1Api(kube.client_for({"KUBERNETES_CONTEXT": context} if context else None))
    body = [{"op": "replace", "path": "/spec/template", "value": template}]
    patcher = apps.patch_namespaced_deployment if _kind(kind) == "deployment" \
        else apps.patch_namespaced_stateful_set
    try:
        patcher(name, namespace, body)
    except ApiException as exc:
        if exc.status == 404:
            return  # the workload is gone: nothing left to undo
        raise kube.api_error(exc, f"restoring the pod template of {kind} {namespace}/{name}") from None
