"""Rolling-update faults: restart or update a workload under traffic, a rollout whose new
replicas fail readiness (it must stall with the old replicas serving), and undo.

Kubernetes: Deployments and StatefulSets. Local stack: one replica at a time through the load
balancer (drain in HAProxy, restart under the supervisor, wait ready, put back).
"""

from __future__ import annotations

from typing import Any

from chaoslib.types import Configuration, Secrets

from chaosext.faults import engine
from chaosext.rollout.driver import RolloutDriver
from chaosext.target import driver_for

__all__ = ["restart_workload", "start_failing_rollout", "undo_failing_rollout", "wait_for_rollout"]

FAMILY = "rollout"


def restart_workload(
    name: str,
    kind: str = "deployment",
    namespace: str | None = None,
    timeout: float = 300,
    wait: bool = True,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Restart every replica of a workload (a rolling restart) and, if ``wait``, wait until the
    rollout completes (observedGeneration, updatedReplicas and availableReplicas), at most
    ``timeout`` seconds."""
    driver: RolloutDriver = driver_for(configuration, FAMILY)
    return driver.restart_workload(name, kind, namespace, timeout, wait, configuration, secrets)


def wait_for_rollout(
    name: str,
    kind: str = "deployment",
    namespace: str | None = None,
    timeout: float = 300,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Wait until a workload's rollout is complete; fails after ``timeout`` seconds."""
    driver: RolloutDriver = driver_for(configuration, FAMILY)
    return driver.wait_for_rollout(name, kind, namespace, timeout, configuration, secrets)


def start_failing_rollout(
    name: str,
    kind: str = "deployment",
    namespace: str | None = None,
    duration: float = 120,
    settle_timeout: float = 60,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Start a rollout whose new replicas fail readiness, for ``duration`` seconds, and return
    once it is seen stalled (new replicas not ready, old ones still available); undone by
    :func:`undo_failing_rollout` (or when ``duration`` ends)."""
    seconds = engine.check_duration(duration)
    driver: RolloutDriver = driver_for(configuration, FAMILY)
    return driver.start_failing_rollout(name, kind, namespace, seconds, settle_timeout, configuration, secrets)


def undo_failing_rollout(
    name: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> list[dict[str, Any]]:
    """Rollback: undo every failing rollout chaosext started (of workload ``name`` only, if given)."""
    return engine.undo_matching(FAMILY, scope={"name": name})
