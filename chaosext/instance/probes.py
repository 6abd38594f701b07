"""Instance probes: how many replicas of a service are up and ready."""

from __future__ import annotations

from typing import Any

from chaoslib.types import Configuration, Secrets

from chaosext.instance.driver import InstanceDriver
from chaosext.target import driver_for

__all__ = ["instances_ready"]


def instances_ready(
    service: str,
    namespace: str | None = None,
    label_selector: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Replicas of ``service``: total, ready, and each one's state (pid or pod, ready or not)."""
    driver: InstanceDriver = driver_for(configuration, "instance")
    return driver.instances_ready(service, namespace, label_selector, configuration, secrets)
