"""Instance faults: kill a process or pod (its supervisor or controller must bring it back), or
stop replicas for a duration."""

from __future__ import annotations

import time
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext.common import checks
from chaosext.common.waiting import WaitTimeout, wait_until
from chaosext.faults import engine, guardrails
from chaosext.instance.driver import InstanceDriver
from chaosext.target import driver_for

__all__ = ["kill_instances", "restore_instances", "stop_instances", "wait_for_instances"]

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


def wait_for_instances(
    service: str,
    replicas: int | None = None,
    running_for_s: float = 0,
    timeout: float = 120,
    namespace: str | None = None,
    label_selector: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Wait until ``service`` has settled: exactly ``replicas`` instances (default: as many as there
    are, at least one), every one ready and running for at least ``running_for_s`` seconds. A fault
    injected into a fleet that is still rolling out, or whose replicas have just started, measures
    the rollout rather than the fault: experiments wait for this before they inject. Returns the
    last ``instances_ready`` report with ``waited_s``; fails after ``timeout`` seconds naming what
    was missing."""
    if replicas is not None:
        replicas = checks.positive_int("replicas", replicas)
    minimum = checks.seconds("running_for_s", running_for_s, zero_ok=True)
    limit = checks.seconds("timeout", timeout)
    driver: InstanceDriver = driver_for(configuration, FAMILY)

    def settled(report: dict[str, Any]) -> bool:
        # every instance counted is ready and has run long enough; none left over from a rollout
        want = report["total"] if replicas is None else replicas
        return 0 < report["total"] == want == report["ready"]

    started = time.monotonic()
    try:
        report = wait_until(
            f"{service} to settle",
            lambda: driver.instances_ready(service, namespace, label_selector, minimum, configuration, secrets),
            done=settled, timeout_s=limit, interval_s=1)
    except WaitTimeout as exc:
        last = exc.last if isinstance(exc.last, dict) else {}
        want = last.get("total") if replicas is None else replicas
        raise ActivityFailed(
            f"{service} did not settle within 'timeout' {limit:g} s: {last.get('ready')} of "
            f"{last.get('total')} instance(s) (want {want}) ready and running for {minimum:g} s; "
            f"instances: {last.get('instances')}") from None
    return {**report, "waited_s": round(time.monotonic() - started, 1)}
