"""Instance faults: kill a process or pod (its supervisor or controller must bring it back), or
stop replicas for a duration."""

from __future__ import annotations

from typing import Any

from chaoslib.types import Configuration, Secrets

from chaosext.faults import engine, guardrails
from chaosext.instance.driver import InstanceDriver
from chaosext.target import driver_for

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
    driver: InstanceDriver = driver_for(configuration, FAMILY)
    return driver.kill_instances(service, count, signal, namespace, label_selector, configuration, secrets)


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
    driver: InstanceDriver = driver_for(configuration, FAMILY)
    return driver.stop_instances(service, count, seconds, kind, namespace, configuration, secrets)


def restore_instances(
    service: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> list[dict[str, Any]]:
    """Rollback: start again every instance chaosext stopped (of ``service`` only, if given)."""
    return engine.undo_matching(FAMILY, scope={"service": service})
