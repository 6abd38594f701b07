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
from chaosext.faults import engine, markers
from chaosext.faults.markers import FaultMarker
from chaosext.faults.undoers import undoer

__all__ = [
    "patch_template",
    "read_workload",
    "replace_template",
    "restart",
    "restart_workload",
    "rollout_state",
    "rollout_status",
    "start_failing_rollout",
    "wait_complete",
    "wait_for_rollout",
]

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


# ---- the driver (chaosext.rollout.driver.RolloutDriver) -------------------------------------------

FAMILY = "rollout"
READINESS_LABEL_VALUE = "readiness"


def restart_workload(name: str, kind: str = "deployment", namespace: str | None = None, timeout: float = 300,
                     wait: bool = True, configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """A rolling restart (the pod template's restartedAt annotation); if ``wait``, until complete."""
    ns = kube.namespace_of(namespace, configuration)
    result = restart(name, kind, ns, configuration, secrets)
    if wait:
        result["rollout"] = wait_complete(name, kind, ns, timeout, configuration, secrets)
    return result


def wait_for_rollout(name: str, kind: str = "deployment", namespace: str | None = None, timeout: float = 300,
                     configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    return wait_complete(name, kind, kube.namespace_of(namespace, configuration), timeout, configuration, secrets)


def rollout_status(name: str, kind: str = "deployment", namespace: str | None = None,
                   configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    ns = kube.namespace_of(namespace, configuration)
    return rollout_state(read_workload(name, kind, ns, configuration, secrets))


def _failing_template_patch(template: dict[str, Any], fault_id: str) -> dict[str, Any]:
    containers = []
    for container in template["spec"]["containers"]:
        containers.append({
            "name": container["name"],
            # a probe that can never pass: the new replicas never become ready. A probe has one
            # handler, and this is a strategic merge patch, so the container's own handler
            # (httpGet, tcpSocket or grpc) is removed explicitly; the API server refuses two.
            "readinessProbe": {"exec": {"command": ["/bin/false"]}, "httpGet": None, "tcpSocket": None,
                               "grpc": None, "periodSeconds": 2, "failureThreshold": 1},
            "env": [*(container.get("env") or []), {"name": "READY_FAIL", "value": "1"}],
        })
    return {"spec": {"template": {
        "metadata": {"labels": {kube.FAULT_LABEL: READINESS_LABEL_VALUE},
                     "annotations": {kube.FAULT_ANNOTATION: fault_id}},
        "spec": {"containers": containers},
    }}}


def start_failing_rollout(name: str, kind: str, namespace: str | None, seconds: float, settle_timeout: float,
                          configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """Patch the pod template with a readiness probe that never passes, then wait until the
    rollout is seen stalled (new replicas not ready, old ones still available)."""
    ns = kube.namespace_of(namespace, configuration)
    obj = read_workload(name, kind, ns, configuration, secrets)
    original = kube.to_dict(obj.spec.template)
    fault_id = markers.new_id(FAMILY)
    marker = FaultMarker(
        id=fault_id, family=FAMILY, kind="failing-readiness", target=f"{kind}/{ns}/{name}",
        scope={"workload": f"{kind}/{name}", "name": name, "namespace": ns},
        description=f"rollout of {kind} {ns}/{name} whose new replicas fail readiness, for {seconds:g}s",
        undo="rollout.template",
        undo_args={"name": name, "kind": kind, "namespace": ns, "template": original,
                   "context": kube.current_context(secrets)},
        expires_at=time.time() + seconds,
    )

    def apply() -> dict[str, Any]:
        patch = _failing_template_patch(original, fault_id)
        patched = patch_template(name, kind, ns, patch, configuration, secrets)
        return {"generation": patched.metadata.generation}

    record = engine.activate(marker, apply)
    with engine.deliberate_wait():
        record["rollout"] = _wait_stalled(name, kind, ns, settle_timeout, configuration, secrets)
    return record


def _wait_stalled(name: str, kind: str, ns: str, timeout: float, configuration: Configuration,
                  secrets: Secrets) -> dict[str, Any]:
    def stalled(state: dict[str, Any]) -> bool:
        return bool(state["observed_generation"] >= state["generation"] and state["updated_replicas"] >= 1
                    and not state["complete"])

    try:
        return wait_until(f"the failing rollout of {kind} {ns}/{name}",
                          lambda: rollout_state(read_workload(name, kind, ns, configuration, secrets)),
                          done=stalled, timeout_s=timeout, interval_s=0.5)
    except WaitTimeout as exc:
        raise ActivityFailed(f"the failing rollout of {kind} {ns}/{name} was not observed within {timeout}s: "
                             f"{exc.last}") from None


@undoer("rollout.template")
def _restore_template(name: str, kind: str, namespace: str, template: dict[str, Any],
                      context: str | None = None) -> None:
    """Put the pre-fault pod template back (what ``kubectl rollout undo`` does)."""
    replace_template(name, kind, namespace, template, context)


