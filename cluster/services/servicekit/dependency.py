"""Metrics about calls to upstream dependencies, and the circuit breaker state metric."""

from __future__ import annotations

import asyncio
import logging
import ssl

import aiohttp
from prometheus_client import Counter, Gauge, Histogram

from .breaker import BreakerState, RateBreaker
from .metrics import LATENCY_BUCKETS

log = logging.getLogger("dependency")

DEP_REQUESTS = Counter("dependency_requests", "Calls to upstream dependencies", ["dependency", "outcome"])
DEP_DURATION = Histogram(
    "dependency_request_duration_seconds", "Upstream call latency", ["dependency"], buckets=LATENCY_BUCKETS
)
BREAKER_STATE = Gauge(
    "circuit_breaker_state", "Circuit breaker state (0 closed, 1 open, 2 half-open)", ["dependency"]
)
BREAKER_WINDOW = Gauge(
    "circuit_breaker_window_calls", "Calls that ended within the breaker's window, by result", ["dependency", "result"]
)


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


def export_breaker(dependency: str, breaker: RateBreaker) -> None:
    """Logs every state change and exports the state and the window's counts as metrics."""

    def log_change(old: BreakerState, new: BreakerState, why: str) -> None:
        log.warning("circuit breaker %s: %s -> %s (%s)", dependency, old.name, new.name, why,
                    extra={"dependency": dependency, "breaker_state": new.name, "reason": why})

    breaker.add_listener(log_change)
    BREAKER_STATE.labels(dependency=dependency).set_function(lambda: float(breaker.state.value))
    BREAKER_WINDOW.labels(dependency=dependency, result="all").set_function(lambda: float(breaker.window()[0]))
    BREAKER_WINDOW.labels(dependency=dependency, result="failed").set_function(lambda: float(breaker.window()[1]))
