"""Metrics about calls to upstream dependencies, and the circuit breaker state metric."""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Any

import aiohttp
from aiobreaker import CircuitBreaker, CircuitBreakerListener, CircuitBreakerState
from prometheus_client import Counter, Gauge, Histogram

from .metrics import LATENCY_BUCKETS

log = logging.getLogger("dependency")

DEP_REQUESTS = Counter("dependency_requests", "Calls to upstream dependencies", ["dependency", "outcome"])
DEP_DURATION = Histogram(
    "dependency_request_duration_seconds", "Upstream call latency", ["dependency"], buckets=LATENCY_BUCKETS
)
BREAKER_STATE = Gauge(
    "circuit_breaker_state", "Circuit breaker state (0 closed, 1 open, 2 half-open)", ["dependency"]
)

_STATE_VALUE = {CircuitBreakerState.CLOSED: 0, CircuitBreakerState.OPEN: 1, CircuitBreakerState.HALF_OPEN: 2}


def classify_error(exc: BaseException) -> str:
    """A short outcome label for a failed upstream call."""
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "dns_error"
    if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError):
        return "tls_error"
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return "connect_timeout"
    if isinstance(exc, asyncio.TimeoutError):
        return "timeout"
    if isinstance(exc, aiohttp.ClientConnectionError):
        return "connect_error"
    return "error"


class _StateLogger(CircuitBreakerListener):
    def __init__(self, dependency: str) -> None:
        self.dependency = dependency

    def state_change(self, breaker: Any, old: Any, new: Any) -> None:
        old_name = old.state.name if old is not None else "-"
        log.warning(
            "circuit breaker %s: %s -> %s", self.dependency, old_name, new.state.name,
            extra={"dependency": self.dependency, "breaker_state": new.state.name},
        )



def breaker_state_value(breaker: CircuitBreaker) -> int:
    return _STATE_VALUE[breaker.current_state]


def export_breaker(dependency: str, breaker: CircuitBreaker) -> None:
    breaker.add_listener(_StateLogger(dependency))
    BREAKER_STATE.labels(dependency=dependency).set_function(lambda: float(breaker_state_value(breaker)))
