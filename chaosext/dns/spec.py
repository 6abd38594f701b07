"""What a DNS fault asks of the DNS server: validated before anything changes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chaoslib.exceptions import ActivityFailed

from chaosext.common import checks

__all__ = ["FAILURES", "MAX_DELAY_MS", "DnsFaultSpec", "delay_spec", "failure_spec"]

MAX_DELAY_MS = 120_000
# the user-facing fault names -> the DNS server's fault kinds
FAILURES = {"servfail": "servfail", "nxdomain": "nxdomain", "no_answer": "drop", "drop": "drop"}


@dataclass(frozen=True)
class DnsFaultSpec:
    name: str
    kind: str
    delay_ms: int = 0
    jitter_ms: int = 0

    def body(self, expires_at: float) -> dict[str, Any]:
        """The fault as the DNS server's control API and faults file take it."""
        return {
            "kind": self.kind,
            "delay_ms": self.delay_ms,
            "jitter_ms": self.jitter_ms,
            "expires_at": round(expires_at, 3),
        }

    def describe(self) -> str:
        if self.kind == "delay":
            jitter = f" +/- {self.jitter_ms} ms" if self.jitter_ms else ""
            return f"DNS answers for {self.name} delayed by {self.delay_ms} ms{jitter}"
        answer = "no answer" if self.kind == "drop" else self.kind.upper()
        return f"DNS queries for {self.name} answered with {answer}"


def _ms(value: Any, argument: str) -> int:
    return round(checks.milliseconds(argument, value, maximum=MAX_DELAY_MS))


def delay_spec(name: str, delay_ms: Any, jitter_ms: Any) -> DnsFaultSpec:
    delay = _ms(delay_ms, "delay_ms")
    jitter = _ms(jitter_ms, "jitter_ms")
    if delay == 0:
        raise ActivityFailed("'delay_ms' must be greater than 0")
    if jitter > delay:
        raise ActivityFailed(f"'jitter_ms' ({jitter}) must not exceed 'delay_ms' ({delay})")
    return DnsFaultSpec(name, "delay", delay, jitter)


def failure_spec(name: str, failure: Any) -> DnsFaultSpec:
    kind = FAILURES.get(str(failure).lower()) if isinstance(failure, str) else None
    if kind is None:
        raise ActivityFailed(f"'failure' must be one of servfail, nxdomain, no_answer, got {failure!r}")
    return DnsFaultSpec(name, kind)
