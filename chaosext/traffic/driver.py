"""What the traffic family's two drivers implement under the same names: where the load goes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

__all__ = ["TrafficDriver"]


class TrafficDriver(Protocol):
    def base_url(self, configuration: dict[str, Any] | None) -> str:
        """The checkout URL the load is sent to."""


if TYPE_CHECKING:  # mypy checks both drivers against the Protocol
    from chaosext.traffic import kubernetes, local

    _local: TrafficDriver = local
    _kubernetes: TrafficDriver = kubernetes
