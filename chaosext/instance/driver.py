"""What the instance family's two drivers (``local``: supervisor programs, ``kubernetes``: pods
and their workload) implement under the same names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from chaoslib.types import Configuration, Secrets

__all__ = ["InstanceDriver", "long_enough"]


class InstanceDriver(Protocol):
    def kill_instances(self, service: str, count: int, signal: str, namespace: str | None,
                       label_selector: str | None, configuration: Configuration, secrets: Secrets) -> dict[str, Any]:
        """Kill ``count`` running replicas; nothing is undone (their supervisor or controller
        replaces them)."""

    def stop_instances(self, service: str, count: int, seconds: float, kind: str, namespace: str | None,
                       configuration: Configuration, secrets: Secrets) -> dict[str, Any]:
        """Record and stop ``count`` replicas for ``seconds``."""

    def instances_ready(self, service: str, namespace: str | None, label_selector: str | None,
                        running_for_s: float | None, configuration: Configuration, secrets: Secrets) -> dict[str, Any]:
        """Replicas: total, ready (running for at least ``running_for_s`` when given), and each
        one's state, with how long its process or containers have been running."""


def long_enough(running_s: float | None, minimum_s: float | None) -> bool:
    """A replica running for ``running_s`` (None: not running) counts when no minimum is asked or
    it has run at least ``minimum_s``."""
    return minimum_s is None or (running_s is not None and running_s >= minimum_s)


if TYPE_CHECKING:  # mypy checks both drivers against the Protocol
    from chaosext.instance import kubernetes, local

    _local: InstanceDriver = local
    _kubernetes: InstanceDriver = kubernetes
