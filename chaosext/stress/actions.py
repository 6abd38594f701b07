"""Resource stress: burn CPU or hold memory inside one replica's own limits for a duration
(the guide's "Memory / CPU stress"), then stop. Shows whether the service keeps its SLO when a
replica is throttled or near its memory limit, whether health checks take a starved replica
out and whether an OOM kill is recovered from.

Locally the replica runs in a cgroup with the CPU quota and memory limit of its container
(``cpu_limit``, ``memory_limit``) and stress-ng joins it; on Kubernetes stress-ng is started
in the container (pods/exec) and the container's own limits apply.
"""

from __future__ import annotations

from typing import Any

from chaoslib.types import Configuration, Secrets

from chaosext.faults import engine, guardrails
from chaosext.stress.driver import StressDriver, StressRequest
from chaosext.stress.stressor import Stress, cpu_stress, memory_stress
from chaosext.target import driver_for

__all__ = ["remove_stress", "stress_cpu", "stress_memory"]

FAMILY = "stress"


def _stress(service: str, count: int, stress: Stress, cpu_limit: Any, memory_limit: Any,
            instances: list[str] | None, namespace: str | None, label_selector: str | None,
            container: str | None, configuration: Configuration, secrets: Secrets) -> dict[str, Any]:
    guardrails.check_count(count)
    request = StressRequest(service, count, stress, cpu_limit, memory_limit, instances, namespace, label_selector,
                            container)
    driver: StressDriver = driver_for(configuration, FAMILY)
    return driver.stress_replicas(request, configuration, secrets)


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
