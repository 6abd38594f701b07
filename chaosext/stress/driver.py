"""What the stress family's two drivers (``local``: the replica and stress-ng in a cgroup with
its container's limits, ``kubernetes``: stress-ng exec'd into the container) implement under
the same names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from chaoslib.types import Configuration, Secrets

from chaosext.stress.stressor import Stress

__all__ = ["StressDriver", "StressRequest"]


@dataclass(frozen=True)
class StressRequest:
    """One stress fault as the actions ask for it; each driver uses the fields of its target."""

    service: str
    count: int
    stress: Stress
    cpu_limit: Any
    memory_limit: Any
    instances: list[str] | None
    namespace: str | None
    label_selector: str | None
    container: str | None

    def describe(self) -> str:
        return (f"{self.stress.describe()} in {self.count} replica(s) of {self.service} "
                f"for {self.stress.seconds:g}s")


class StressDriver(Protocol):
    def stress_replicas(self, request: StressRequest, configuration: Configuration,
                        secrets: Secrets) -> dict[str, Any]:
        """Record and start the stress in ``request.count`` replicas for ``request.stress.seconds``."""


if TYPE_CHECKING:  # mypy checks both drivers against the Protocol
    from chaosext.stress import kubernetes, local

    _local: StressDriver = local
    _kubernetes: StressDriver = kubernetes
