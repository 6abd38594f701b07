"""Instances on Kubernetes: the pods of a workload, chosen by label selector."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets
from kubernetes import client
from kubernetes.client.rest import ApiException

from chaosext import kube
from chaosext.faults import engine, guardrails, markers
from chaosext.faults.markers import FaultMarker
from chaosext.faults.undoers import undoer
from chaosext.instance.driver import long_enough

__all__ = [
    "delete_pods",
    "instances_ready",
    "kill_instances",
    "pods_of",
    "ready_pods",
    "running_for",
    "scale",
    "selector_for",
    "stop_instances",
]

FAMILY = "instance"


def selector_for(service: str, label_selector: str | None) -> str:
    return label_selector or f"app.kubernetes.io/name={service}"


def _core(configuration: Configuration, secrets: Secrets) -> client.CoreV1Api:
    return client.CoreV1Api(kube.api_client(configuration, secrets))


def pods_of(service: str, namespace: str, label_selector: str | None, configuration: Configuration,
            secrets: Secrets) -> list[Any]:
    selector = selector_for(service, label_selector)
    try:
        pods = _core(configuration, secrets).list_namespaced_pod(namespace, label_selector=selector).items
    except ApiException as exc:
        raise kube.api_error(exc, f"listing pods {selector!r} in {namespace}") from None
    pods = [p for p in pods if p.metadata is not None and p.metadata.deletion_timestamp is None]
    if not pods:
        raise ActivityFailed(f"no pods match 'label_selector' {selector!r} in namespace {namespace!r} "
                             f"(service {service!r})")
    return list(pods)


def _is_ready(pod: Any) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))


def ready_pods(pods: list[Any]) -> list[Any]:
    return [p for p in pods if _is_ready(p)]


def delete_pods(service: str, count: int, namespace: str, label_selector: str | None, grace_seconds: int | None,
                configuration: Configuration, secrets: Secrets) -> list[dict[str, Any]]:
    pods = pods_of(service, namespace, label_selector, configuration, secrets)
    guardrails.check_replica_share(count, len(pods), f"pods of {service!r}", configuration)
    candidates = ready_pods(pods) or pods
    if len(candidates) < count:
        raise ActivityFailed(f"only {len(candidates)} pods of {service!r} are candidates; cannot hit {count}")
    victims = random.sample(candidates, count)
    core = _core(configuration, secrets)
    deleted = []
    for pod in victims:
        body = client.V1DeleteOptions(grace_period_seconds=grace_seconds)
        try:
            core.delete_namespaced_pod(pod.metadata.name, namespace, body=body)
        except ApiException as exc:
            if exc.status != 404:
                raise kube.api_error(exc, f"deleting pod {namespace}/{pod.metadata.name}") from None
        deleted.append({"pod": pod.metadata.name, "uid": pod.metadata.uid, "node": pod.spec.node_name,
                        "grace_seconds": grace_seconds})
    return deleted


@undoer("instance.scale")
def scale(kind: str, name: str, namespace: str, replicas: int, context: str | None = None,
          configuration: Configuration = None, secrets: Secrets = None) -> int:
    """Set a workload's replicas; returns the previous count."""
    api = kube.api_client(configuration, secrets) if configuration is not None else \
        kube.client_for({"KUBERNETES_CONTEXT": context} if context else None)
    apps = client.AppsV1Api(api)
    try:
        if kind == "statefulset":
            current = apps.read_namespaced_stateful_set_scale(name, namespace)
            apps.patch_namespaced_stateful_set_scale(name, namespace, {"spec": {"replicas": replicas}})
        else:
            current = apps.read_namespaced_deployment_scale(name, namespace)
            apps.patch_namespaced_deployment_scale(name, namespace, {"spec": {"replicas": replicas}})
    except ApiException as exc:
        if exc.status == 404:
            raise ActivityFailed(f"{kind} {name!r} not found in namespace {namespace!r}") from None
        raise kube.api_error(exc, f"scaling {kind} {namespace}/{name}") from None
    return int((current.spec.replicas if current.spec else 0) or 0)


# ---- the driver (chaosext.instance.driver.InstanceDriver) -----------------------------------------


def kill_instances(service: str, count: int, signal: str, namespace: str | None, label_selector: str | None,
                   configuration: Configuration, secrets: Secrets) -> dict[str, Any]:
    """Delete ``count`` pods (grace 0 for SIGKILL); the controller replaces them."""
    if signal.upper() not in ("SIGKILL", "KILL", "SIGTERM", "TERM"):
        raise ActivityFailed(f"'signal' on Kubernetes must be SIGKILL or SIGTERM, got {signal!r}")
    grace = 0 if "KILL" in signal.upper() else None
    ns = kube.namespace_of(namespace, configuration)
    deleted = delete_pods(service, count, ns, label_selector, grace, configuration, secrets)
    return {"target": "kubernetes", "service": service, "namespace": ns, "killed": deleted, "at": time.time()}


def stop_instances(service: str, count: int, seconds: float, kind: str, namespace: str | None,
                   configuration: Configuration, secrets: Secrets) -> dict[str, Any]:
    """Scale the workload down by ``count`` for ``seconds`` (back to its replica count on undo)."""
    ns = kube.namespace_of(namespace, configuration)
    pods = pods_of(service, ns, None, configuration, secrets)
    guardrails.check_replica_share(count, len(pods), f"pods of {service!r}", configuration)
    marker = FaultMarker(
        id=markers.new_id(FAMILY), family=FAMILY, kind="stop", target=f"{kind}/{ns}/{service}",
        scope={"service": service, "workload": f"{kind}/{service}", "namespace": ns},
        description=f"scaled {kind} {ns}/{service} down by {count} for {seconds:g}s",
        undo="instance.scale",
        undo_args={"kind": kind, "name": service, "namespace": ns, "replicas": len(pods),
                   "context": kube.current_context(secrets)},
        expires_at=time.time() + seconds,
    )

    def apply() -> dict[str, Any]:
        previous = scale(kind, service, ns, len(pods) - count, configuration=configuration, secrets=secrets)
        engine.record(marker, replicas=previous)
        return {"scaled_from": previous, "scaled_to": len(pods) - count}

    return engine.activate(marker, apply)


def instances_ready(service: str, namespace: str | None, label_selector: str | None, running_for_s: float | None,
                    configuration: Configuration, secrets: Secrets) -> dict[str, Any]:
    ns = kube.namespace_of(namespace, configuration)
    pods = pods_of(service, ns, label_selector, configuration, secrets)
    ready_names = {p.metadata.name for p in ready_pods(pods)}
    rows = []
    for pod in pods:
        running, restarts = running_for(pod)
        rows.append({"instance": pod.metadata.name, "ready": pod.metadata.name in ready_names, "uid": pod.metadata.uid,
                     "running_for_s": running, "restarts": restarts})
    ready = sum(1 for r in rows if r["ready"] and long_enough(r["running_for_s"], running_for_s))
    return {"service": service, "namespace": ns, "total": len(rows), "ready": ready,
            "restarts": sum(r["restarts"] for r in rows), "instances": rows}


def running_for(pod: Any, now: datetime | None = None) -> tuple[float | None, int]:
    """How long the pod's most recently started container has been running (None when one is not
    running), and its containers' restarts: a container the kubelet restarted in place keeps the
    pod (name, uid, Ready again soon) but starts its clock again."""
    now = now or datetime.now(UTC)
    statuses = (pod.status.container_statuses or []) if pod.status else []
    restarts = sum(int(s.restart_count or 0) for s in statuses)
    started: list[datetime] = [s.state.running.started_at for s in statuses
                               if s.state and s.state.running and s.state.running.started_at]
    if not statuses or len(started) < len(statuses):
        return None, restarts
    return round(min((now - at).total_seconds() for at in started), 1), restarts
