"""Rollout probes: state, ready and unavailable replicas."""

from __future__ import annotations

from typing import Any

from chaoslib.types import Configuration, Secrets

from chaosext.rollout.driver import RolloutDriver
from chaosext.target import driver_for

__all__ = ["rollout_complete", "rollout_status"]


def rollout_status(
    name: str,
    kind: str = "deployment",
    namespace: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """The rollout's state: generation vs observedGeneration, replicas, updated, ready,
    available and unavailable replicas, complete, stalled."""
    driver: RolloutDriver = driver_for(configuration, "rollout")
    return driver.rollout_status(name, kind, namespace, configuration, secrets)


def rollout_complete(
    name: str,
    kind: str = "deployment",
    namespace: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> bool:
    """True when every replica runs the current template and is available."""
    return bool(rollout_status(name, kind, namespace, configuration, secrets)["complete"])
