"""Server-side SLO probes on Prometheus. Each returns a number (use a steady-state ``tolerance`` to
set the threshold, e.g. ``{"type": "range", "range": [0, 500]}``) or, for the ``*_below`` /
``*_closed`` variants, a boolean against a threshold given as an argument.

Windows are PromQL durations (``"30s"``, ``"5m"``) or numbers of seconds. ``service`` is the scrape
job (the label named by the configuration key ``prometheus_service_label``, default ``job``).
"""

from __future__ import annotations

from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext.common import checks
from chaosext.slo import budget, queries
from chaosext.slo.prom import PrometheusClient, prometheus_url, scalar
from chaosext.target import setting

__all__ = [
    "circuit_breaker_closed",
    "circuit_breaker_state",
    "consumer_lag_below",
    "consumer_lag_messages",
    "consumer_lag_seconds",
    "dependency_error_ratio",
    "dependency_error_ratio_below",
    "error_budget_burn",
    "error_budget_burn_below",
    "error_ratio",
    "error_ratio_below",
    "latency_below",
    "latency_quantile_ms",
    "query_value",
]


def _label(configuration: Configuration) -> str:
    return str(setting(configuration, "prometheus_service_label", "job"))


def _value(promql: str, configuration: Configuration, empty: float | None = 0.0) -> float:
    value = scalar(PrometheusClient(prometheus_url(configuration)).query(promql), empty)
    if value is None:
        raise ActivityFailed(f"Prometheus has no data for {promql!r}")
    return round(value, 6)


def _threshold(value: Any, name: str = "threshold") -> float:
    return checks.number(name, value)


def query_value(query: str, configuration: Configuration = None, secrets: Secrets = None) -> float:
    """The number a PromQL ``query`` evaluates to now (its first sample); fails when it has no data."""
    if not isinstance(query, str) or not query.strip():
        raise ActivityFailed(f"'query' must be a PromQL expression, got {query!r}")
    return _value(query, configuration, empty=None)


def latency_quantile_ms(
    quantile: float = 0.99,
    service: str = "checkout-api",
    route: str | None = "/api/checkout",
    window: str | float = "30s",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> float:
    """Server-side latency quantile (ms; 0.5, 0.95, 0.99...) of ``service`` (all its API routes
    when ``route`` is null) over the last ``window``, from the http_request_duration_seconds
    histogram. 0 when there was no request."""
    return _value(
        queries.latency_quantile_ms(quantile, service, route, window, _label(configuration)), configuration
    )


def latency_below(
    threshold_ms: float,
    quantile: float = 0.99,
    service: str = "checkout-api",
    route: str | None = "/api/checkout",
    window: str | float = "30s",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> bool:
    """True when the server-side latency ``quantile`` is below ``threshold_ms``."""
    limit = _threshold(threshold_ms, "threshold_ms")
    return latency_quantile_ms(quantile, service, route, window, configuration) < limit


def error_ratio(
    service: str = "checkout-api",
    route: str | None = None,
    window: str | float = "30s",
    kind: str = "5xx",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> float:
    """Error ratio (0..1) of ``service`` over ``window``: ``kind`` ``5xx`` = share of 5xx answers;
    ``business`` = share of checkout orders not paid (declined, bulkhead full, publish failed...).
    0 when there was no request."""
    return _value(queries.error_ratio(service, route, window, kind, _label(configuration)), configuration)


def error_ratio_below(
    threshold: float,
    service: str = "checkout-api",
    route: str | None = None,
    window: str | float = "30s",
    kind: str = "5xx",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> bool:
    """True when ``error_ratio`` is below ``threshold`` (a fraction, e.g. 0.02)."""
    limit = _threshold(threshold)
    return error_ratio(service, route, window, kind, configuration) < limit


def dependency_error_ratio(
    dependency: str = "payment",
    service: str = "checkout-api",
    window: str | float = "30s",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> float:
    """Share (0..1) of ``service``'s calls to ``dependency`` that failed (timeouts, connection, TLS or
    DNS errors, 5xx, open circuit) over ``window``, from dependency_requests_total."""
    return _value(
        queries.dependency_error_ratio(dependency, service, window, _label(configuration)), configuration
    )


def dependency_error_ratio_below(
    threshold: float,
    dependency: str = "payment",
    service: str = "checkout-api",
    window: str | float = "30s",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> bool:
    """True when ``dependency_error_ratio`` is below ``threshold`` (a fraction, e.g. 0.05)."""
    limit = _threshold(threshold)
    return dependency_error_ratio(dependency, service, window, configuration) < limit


def consumer_lag_messages(
    service: str = "order-consumer",
    topic: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> float:
    """Messages the consumer has not processed yet (sum over partitions; kafka_consumer_lag)."""
    return _value(queries.consumer_lag_messages(service, topic, _label(configuration)), configuration)


def consumer_lag_seconds(
    service: str = "order-consumer",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> float:
    """Age (s) of the oldest message the consumer has not processed (kafka_consumer_lag_seconds)."""
    return _value(queries.consumer_lag_seconds(service, _label(configuration)), configuration)


def consumer_lag_below(
    threshold_s: float,
    service: str = "order-consumer",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> bool:
    """True when the consumer lag (seconds) is below ``threshold_s``."""
    limit = _threshold(threshold_s, "threshold_s")
    return consumer_lag_seconds(service, configuration) < limit


def circuit_breaker_state(
    dependency: str = "payment",
    service: str = "checkout-api",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> float:
    """The worst circuit-breaker state across ``service``'s replicas for ``dependency``:
    0 closed, 1 open, 2 half-open. Fails when no replica exports it."""
    return _value(
        queries.breaker_state(dependency, service, _label(configuration)), configuration, empty=None
    )


def circuit_breaker_closed(
    dependency: str = "payment",
    service: str = "checkout-api",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> bool:
    """True when every replica's circuit breaker for ``dependency`` is closed."""
    return circuit_breaker_state(dependency, service, configuration) == 0


def error_budget_burn(
    target: float = 0.999,
    window: str | float = "5m",
    period: str | float = "30d",
    service: str = "checkout-api",
    route: str | None = None,
    kind: str = "5xx",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> float:
    """Fraction of the SLO's error budget (``target`` e.g. 0.999 over ``period``) that the last
    ``window`` consumed: error_ratio / (1 - target) * window / period, with the window's error
    ratio from increase() of the ``kind`` (5xx | business) counters. 0.01 = 1 % of the budget."""
    slo = budget.check_target(target)
    window_s = queries.seconds(window)
    period_s = queries.seconds(period, "period")
    promql = queries.error_ratio(service, route, window, kind, _label(configuration), func="increase")
    ratio = _value(promql, configuration)
    return round(budget.budget_burn(ratio, slo, window_s, period_s), 8)


def error_budget_burn_below(
    threshold: float,
    target: float = 0.999,
    window: str | float = "5m",
    period: str | float = "30d",
    service: str = "checkout-api",
    route: str | None = None,
    kind: str = "5xx",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> bool:
    """True when ``error_budget_burn`` is below ``threshold`` (a fraction of the budget, e.g. 0.01)."""
    limit = _threshold(threshold)
    return error_budget_burn(target, window, period, service, route, kind, configuration) < limit
