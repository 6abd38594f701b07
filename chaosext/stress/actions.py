"""Resource stress: burn CPU or hold memory inside one replica's own limits for a duration
(the guide's "Memory / CPU stress"), then stop. Shows whether the service keeps its SLO when a
replica is throttled or near its memory limit, whether health checks take a starved replica
out and whether an OOM kill is recovered from.

Locally the replica runs in a cgroup with the CPU quota and memory limit of its container
(``cpu_limit``, ``memory_limit``) and stress-ng joins it; on Kubernetes stress-ng is started
in the container (pods/exec) and the container's own limits apply.
"""

from __future__ import annotations

import time
from typing import Any

from chaoslib.types import Configuration, Secrets

from chaosext import kube
from chaosext.faults import engine, guardrails, markers
from chaosext.faults.markers import FaultMarker
from chaosext.stress.stressor import Stress, cpu_stress, memory_stress, parse_bytes, parse_cpus
from chaosext.target import target_of

__all__ = ["remove_stress", "stress_cpu", "stress_memory"]

FAMILY = "stress"


def _stress(service: str, count: int, stress: Stress, cpu_limit: Any, memory_limit: Any,
            instances: list[str] | None, namespace: str | None, label_selector: str | None,
            container: str | None, configuration: Configuration, secrets: Secrets) -> dict[str, Any]:
    guardrails.check_count(count)
    fault_id = markers.new_id(FAMILY)
    expires_at = time.time() + stress.seconds
    what = f"{stress.describe()} in {count} replica(s) of {service} for {stress.seconds:g}s"
    if target_of(configuration) == "local":
        from chaosext.stress import local

        cpus = parse_cpus(cpu_limit, "cpu_limit")
        memory = parse_bytes(memory_limit, "memory_limit") if memory_limit is not None else None
        limits = f"cpu_limit={cpus if cpus is not None else 'none'}, memory_limit={memory_limit or 'none'}"
        marker = FaultMarker(id=fault_id, family=FAMILY, kind=stress.kind, target=f"local/{service}",
                             scope={"service": service}, description=f"{what} ({limits})", undo="stress.local",
                             undo_args={"replicas": [], "stressors": []}, expires_at=expires_at)

        def apply_local() -> dict[str, Any]:
            done = local.apply(service, count, instances, stress, cpus, memory, fault_id, configuration,
                               record=lambda args: engine.record(marker, **args))
            return {"target": "local", "stress": stress.to_json(), "cpu_limit": cpus, "memory_limit": memory,
                    "replicas": done["replicas"]}

        return engine.activate(marker, apply_local)
    from chaosext.stress import kubernetes as k8s

    # cpu_limit / memory_limit are checked but not used here: the container's own limits apply
    parse_cpus(cpu_limit, "cpu_limit")
    if memory_limit is not None:
        parse_bytes(memory_limit, "memory_limit")
    ns = kube.namespace_of(namespace, configuration)
    marker = FaultMarker(id=fault_id, family=FAMILY, kind=stress.kind, target=f"pods/{ns}/{service}",
                         scope={"service": service, "namespace": ns}, description=what, undo="stress.pods",
                         undo_args={"namespace": ns, "pods": []}, expires_at=expires_at)

    def apply() -> dict[str, Any]:
        done = k8s.apply(service, count, ns, label_selector, container, stress, fault_id,
                         kube.expiry_annotations(fault_id, expires_at), configuration, secrets,
                         record=lambda args: engine.record(marker, **args))
        return {"target": "kubernetes", "namespace": ns, "stress": stress.to_json(),
                "limits": "the container's own (resources.limits)", **done}

    return engine.activate(marker, apply)


def stress_cpu(
    service: str,
    workers: int = 2,
    load: int = 100,
    duration: float = 60,
    count: int = 1,
    cpu_limit: float | str | None = 0.5,
    instances: list[str] | None = None,
    namespace: str | None = None,
    label_selector: str | None = None,
    container: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Burn CPU in ``count`` replicas of ``service``: ``workers`` stress-ng CPU workers at
    ``load`` percent each, for ``duration`` seconds, competing with the service for its limit.
    Locally ``cpu_limit`` (CPUs, e.g. 0.5 or "500m"; null for none) is the replica's quota while
    stressed, like its container's; ``instances`` picks replicas by name (e.g. payment-service-1).
    On Kubernetes ``container`` picks the container (default: the first)."""
    stress = cpu_stress(workers, load, engine.check_duration(duration))
    return _stress(service, count, stress, cpu_limit, None, instances, namespace, label_selector, container,
                   configuration, secrets)


def stress_memory(
    service: str,
    size: str = "128Mi",
    workers: int = 1,
    duration: float = 60,
    count: int = 1,
    memory_limit: str | None = "256Mi",
    instances: list[str] | None = None,
    namespace: str | None = None,
    label_selector: str | None = None,
    container: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Hold memory in ``count`` replicas of ``service``: ``workers`` stress-ng workers each
    keeping ``size`` (e.g. "128Mi") resident and dirty, for ``duration`` seconds. Locally
    ``memory_limit`` is the replica's limit while stressed (its container's, e.g. "256Mi"):
    past it the kernel reclaims and, at worst, OOM-kills inside the group (stress-ng's workers
    first, as stress-ng makes them the preferred victims)."""
    stress = memory_stress(workers, size, engine.check_duration(duration))
    return _stress(service, count, stress, None, memory_limit, instances, namespace, label_selector, container,
                   configuration, secrets)


def remove_stress(
    service: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> list[dict[str, Any]]:
    """Rollback: stop every stressor chaosext started (of ``service`` only, if given)."""
    return engine.undo_matching(FAMILY, scope={"service": service})
