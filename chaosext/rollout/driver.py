"""What the rollout family's two drivers (``local``: supervisor replicas behind HAProxy,
``kubernetes``: Deployments and StatefulSets) implement under the same names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from chaoslib.types import Configuration, Secrets

__all__ = ["RolloutDriver"]


class RolloutDriver(Protocol):
    def restart_workload(self, name: str, kind: str, namespace: str | None, timeout: float, wait: bool,
                         configuration: Configuration, secrets: Secrets) -> dict[str, Any]:
        """Restart every replica, one at a time; wait for the rollout if ``wait``."""

    def wait_for_rollout(self, name: str, kind: str, namespace: str | None, timeout: float,
                         configuration: Configuration, secrets: Secrets) -> dict[str, Any]:
        """Wait until every replica runs the current release and is ready."""

    def rollout_status(self, name: str, kind: str, namespace: str | None, configuration: Configuration,
                       secrets: Secrets) -> dict[str, Any]:
        """Replicas, updated, ready, available; complete, stalled."""

    def start_failing_rollout(self, name: str, kind: str, namespace: str | None, seconds: float,
                              settle_timeout: float, configuration: Configuration,
                              secrets: Secrets) -> dict[str, Any]:
        """Record and start a release whose replicas fail readiness, for ``seconds``."""


if TYPE_CHECKING:  # mypy checks both drivers against the Protocol
    from chaosext.rollout import kubernetes, local

    _local: RolloutDriver = local
    _kubernetes: RolloutDriver = kubernetes
