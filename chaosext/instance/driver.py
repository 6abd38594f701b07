"""What the instance family's two drivers (``local``: supervisor programs, ``kubernetes``: pods
and their workload) implement under the same names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from chaoslib.types import Configuration, Secrets

__all__ = ["InstanceDriver"]


class InstanceDriver(Protocol):
    def kill_instances(self, service: str, count: int, signal: str, namespace: str | None,
                       label_selector: str | None, configuration: Configuration, secrets: Secrets) -> dict[str, Any]:
        """Kill ``count`` running replicas; nothing is undone (their supervisor or controller
        replaces them)."""

    def stop_instances(self, service: str, count: int, seconds: float, kind: str, namespace: str | None,
                       configuration: Configuration, secrets: Secrets) -> dict[str, Any]:
        """Record and stop ``count`` replicas for ``seconds``."""

    def instances_ready(self, service: str, namespace: str | None, label_selector: str | None,
                        configuration: Configuration, secrets: Secrets) -> dict[str, Any]:
        """Replicas: total, ready, and each one's state."""


if TYPE_CHECKING:  # mypy checks both drivers against the Protocol
    from chaosext.instance import kubernetes, local

    _local: InstanceDriver = local
    _kubernetes: InstanceDriver = kubernetes
