"""Each dependency fault is a small self-contained type behind one interface (as Toxiproxy's
toxics are): it validates its own arguments and says what Toxiproxy must be told."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from chaoslib.exceptions import ActivityFailed

from chaosext.common import checks

__all__ = ["Down", "Hang", "Latency", "Reset", "Toxic"]


def _non_negative(name: str, value: float) -> int:
    return int(checks.milliseconds(name, value))


class Toxic(Protocol):
    kind: str

    def toxic(self) -> dict[str, Any] | None:
        """The Toxiproxy toxic to add, or None when the fault disables the proxy instead."""


@dataclass
class Latency:
    latency_ms: float
    jitter_ms: float = 0
    stream: str = "downstream"
    kind: str = "latency"

    def toxic(self) -> dict[str, Any]:
        if self.stream not in ("downstream", "upstream"):
            raise ActivityFailed(f"'stream' must be 'downstream' or 'upstream', got {self.stream!r}")
        return {"type": "latency", "stream": self.stream, "toxicity": 1.0,
                "attributes": {"latency": _non_negative("latency_ms", self.latency_ms),
                               "jitter": _non_negative("jitter_ms", self.jitter_ms)}}


@dataclass
class Reset:
    after_ms: float = 0
    kind: str = "reset"

    def toxic(self) -> dict[str, Any]:
        return {"type": "reset_peer", "stream": "downstream", "toxicity": 1.0,
                "attributes": {"timeout": _non_negative("after_ms", self.after_ms)}}


@dataclass
class Hang:
    """Connections accept but no data flows (Toxiproxy's ``timeout`` toxic with 0 = forever)."""

    close_after_ms: float = 0
    kind: str = "hang"

    def toxic(self) -> dict[str, Any]:
        return {"type": "timeout", "stream": "downstream", "toxicity": 1.0,
                "attributes": {"timeout": _non_negative("close_after_ms", self.close_after_ms)}}


@dataclass
class Down:
    kind: str = "down"

    def toxic(self) -> None:
        return None
