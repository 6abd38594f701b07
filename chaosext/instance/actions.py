"""Instance faults: kill a process or pod (its supervisor or controller must bring it back), or
stop replicas for a duration."""

from __future__ import annotations

import time
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext import kube
from chaosext.faults import engine, guardrails, markers
from chaosext.faults.markers import FaultMarker
from chaosext.target import target_of

__all__ = ["kill_instances", "restore_instances", "stop_instances"]

FAMILY = "instance"


def kill_instances(
    service: str,
    count: int = 1,
    signal: str = "SIGKILL",
    namespace: str | None = None,
    label_selector: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Kill ``count`` running instances of ``service`` (SIGKILL: ungraceful; SIGTERM: graceful).
    Locally the process of a supervisor program; on Kubernetes a pod (grace 0 for SIGKILL).
    Nothing is undone afterwards: the supervisor or the controller must replace it."""
    guardrails.check_count(count)
    if target_of(configuration) == "local":
        from chaosext.instance import local

        killed = local.kill(service, count, signal, configuration)
        return {"target": "local", "service": service, "killed": killed, "at": time.time()}
    from chaosext.instance import kubernetes as k8s

    if signal.upper() not in ("SIGKILL", "KILL", "SIGTERM", "TERM"):
        raise ActivityFailed(f"'signal' on Kubernetes must be SIGKILL or SIGTERM, got {signal!r}")
    grace = 0 if "KILL" in signal.upper() else None
    ns = kube.namespace_of(namespace, configuration)
    deleted = k8s.delete_pods(service, count, ns, label_selector, grace, configuration, secrets)
    return {"target": "kubernetes", "service": service, "namespace": ns, "killed": deleted, "at": time.time()}


def stop_instances(
    service: str,
    count: int = 1,
    duration: float = 30,
    kind: str = "deployment",
    namespace: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Stop ``count`` instances of ``service`` for ``duration`` seconds, then start them again.
    Locally: supervisor stop/start of replicas; on Kubernetes: scale the workload down by
    ``count`` and back."""
    guardrails.check_count(count)
    seconds = engine.check_duration(duration)
    fault_id = markers.new_id(FAMILY)
    if target_of(configuration) == "local":
        from chaosext.instance import local

        names = local.pick(service, count, configuration)
        marker = FaultMarker(
            id=fault_id, family=FAMILY, kind="stop", target=f"local/{service}", scope={"service": service},
            description=f"stopped {', '.join(names)} for {seconds:g}s",
            undo="instance.start", undo_args={"names": names},
            expires_at=time.time() + seconds,
        )

        def stop_local() -> dict[str, Any]:
            local.stop(names)
            return {"stopped": names}

        return engine.activate(marker, stop_local)
    from chaosext.instance import kubernetes as k8s

    ns = kube.namespace_of(namespace, configuration)
    pods = k8s.pods_of(service, ns, None, configuration, secrets)
    guardrails.check_replica_share(count, len(pods), f"pods of {service!r}", configuration)
    context = kube.current_context(secrets)

    def apply() -> dict[str, Any]:
        previous = k8s.scale(kind, service, ns, len(pods) - count, configuration=configuration, secrets=secrets)
        engine.record(marker, replicas=previous)
        return {"scaled_from": previous, "scaled_to": len(pods) - count}

    marker = FaultMarker(
        id=fault_id, family=FAMILY, kind="stop", target=f"{kind}/{ns}/{service}",
        scope={"service": service, "workload": f"{kind}/{service}", "namespace": ns},
        description=f"scaled {kind} {ns}/{service} down by {count} for {seconds:g}s",
        undo="instance.scale",
        undo_args={"kind": kind, "name": service, "namespace": ns, "replicas": len(pods), "context": context},
        expires_at=time.time() + seconds,
    )
    return engine.activate(marker, apply)


def restore_instances(
    service: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> list[dict[str, Any]]:
    """Rollback: start again every instance chaosext stopped (of ``service`` only, if given)."""
    return engine.undo_matching(FAMILY, scope={"service": service})
