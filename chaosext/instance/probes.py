"""Instance probes: how many replicas of a service are up and ready."""

from __future__ import annotations

from typing import Any

from chaoslib.types import Configuration, Secrets

from chaosext.common import checks
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
    minimum = None if running_for_s is None else checks.seconds("running_for_s", running_for_s, zero_ok=True)
    driver: InstanceDriver = driver_for(configuration, "instance")
    return driver.instances_ready(service, namespace, label_selector, minimum, configuration, secrets)

