"""Instance probes: how many replicas of a service are up and ready."""

from __future__ import annotations

from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext.instance.driver import InstanceDriver
from chaosext.target import driver_for

__all__ = ["instances_ready"]


def instances_ready(
    service: str,
    namespace: str | None = None,
    label_selector: str | None = None,
    running_for_s: float | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Replicas of ``service``: total, ready, and each one's state (pid or pod, ready or not, how
    long its process or container has been running, restarts on Kubernetes).

    ``running_for_s``: count a replica as ready only if its process (local) or every container of
    its pod (Kubernetes) has been running for at least that many seconds: a replica that was
    killed and restarted in place during a fault is Ready again soon, with the same pod, but its
    clock started again."""
    minimum = _seconds_or_none("running_for_s", running_for_s)
    driver: InstanceDriver = driver_for(configuration, "instance")
    return driver.instances_ready(service, namespace, label_selector, minimum, configuration, secrets)


def _seconds_or_none(name: str, value: Any) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ActivityFailed(f"'{name}' must be a number of seconds, got {value!r}") from None
    if seconds < 0:
        raise ActivityFailed(f"'{name}' must be 0 or more seconds, got {value!r}")
    return seconds
