"""PromQL for the SLO probes, over the metrics the sample services export (docs/slo.md lists them).

Every builder validates its arguments (label values, quantile, window) and names the bad one.
"""

from __future__ import annotations

import re
from typing import Any

from chaoslib.exceptions import ActivityFailed

from chaosext.common import checks

__all__ = [
    "breaker_state",
    "consumer_lag_messages",
    "consumer_lag_seconds",
    "dependency_error_ratio",
    "duration",
    "error_ratio",
    "latency_quantile_ms",
    "seconds",
    "selector",
]

_DURATION = re.compile(r"^(\d+)(ms|s|m|h|d|w|y)$")
_UNIT_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
INFRA_ROUTES = "/metrics|/healthz|/readyz"
KINDS = ("5xx", "business")


def duration(value: Any, name: str = "window") -> str:
    """A PromQL range: ``"30s"``, ``"5m"``... or a number of seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value <= 0:
            raise ActivityFailed(f"'{name}' must be a positive duration, got {value!r}")
        return f"{max(1, round(float(value) * 1000))}ms"
    text = str(value).strip()
    if not _DURATION.match(text) or int(_DURATION.match(text).group(1)) == 0:  # type: ignore[union-attr]
        raise ActivityFailed(
            f"'{name}' must be a duration like '30s', '5m', '1h' or a number of seconds, got {value!r}"
        )
    return text


def seconds(value: Any, name: str = "window") -> float:
    text = duration(value, name)
    match = _DURATION.match(text)
    assert match is not None
    return int(match.group(1)) * _UNIT_S[match.group(2)]


def _label(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value or any(c in value for c in '"\\\n'):
        raise ActivityFailed(
            f"'{name}' must be a non-empty label value without quotes or backslashes, got {value!r}"
        )
    return value


def selector(service: str, route: str | None = None, service_label: str = "job", **extra: str) -> str:
    """``{job="checkout-api",route="/api/checkout",...}``; without ``route``, health and metrics
    endpoints are left out. ``extra`` values are exact matches unless they start with ``=~``/``!=``/``!~``."""
    parts = [f'{service_label}="{_label("service", service)}"']
    if route:
        parts.append(f'route="{_label("route", route)}"')
    else:
        parts.append(f'route!~"{INFRA_ROUTES}"')
    for key, value in extra.items():
        op = "="
        for prefix in ("=~", "!=", "!~"):
            if value.startswith(prefix):
                op, value = prefix, value[len(prefix) :]
                break
        parts.append(f'{key}{op}"{_label(key, value)}"')
    return "{" + ",".join(parts) + "}"


def latency_quantile_ms(
    q: float, service: str, route: str | None, window: Any, service_label: str = "job"
) -> str:
    qv = checks.fraction("quantile", q)
    sel = selector(service, route, service_label)
    return (
        f"histogram_quantile({qv:g}, sum by (le) "
        f"(rate(http_request_duration_seconds_bucket{sel}[{duration(window)}]))) * 1000"
    )


def _ratio(metric: str, bad: str, all_: str, window: str, func: str = "rate") -> str:
    return f"(sum({func}({metric}{bad}[{window}])) or vector(0)) / sum({func}({metric}{all_}[{window}]))"


def error_ratio(
    service: str,
    route: str | None,
    window: Any,
    kind: str = "5xx",
    service_label: str = "job",
    func: str = "rate",
) -> str:
    """5xx: share of HTTP answers with a 5xx status; business: share of checkout orders not paid
    (``checkout_orders_total{outcome!="paid"}``: declined, bulkhead full, publish failed...)."""
    w = duration(window)
    if kind == "5xx":
        return _ratio(
            "http_requests_total",
            selector(service, route, service_label, status="=~5.."),
            selector(service, route, service_label),
            w,
            func,
        )
    if kind == "business":
        svc = f'{{{service_label}="{_label("service", service)}"'
        return _ratio("checkout_orders_total", svc + ',outcome!="paid"}', svc + "}", w, func)
    raise ActivityFailed(f"'kind' must be one of {', '.join(KINDS)}, got {kind!r}")


def dependency_error_ratio(dependency: str, service: str, window: Any, service_label: str = "job") -> str:
    """Share of calls to ``dependency`` that failed: anything but ok, a 4xx answer, or a request
    the caller cancelled because its hedge answered first (``hedge_lost``: not a failure, and
    not counted in the calls either, since its hedge is)."""
    base = f'{service_label}="{_label("service", service)}",dependency="{_label("dependency", dependency)}"'
    bad = "{" + base + ',outcome!~"ok|client_error|hedge_lost"}'
    every = "{" + base + ',outcome!="hedge_lost"}'
    return _ratio("dependency_requests_total", bad, every, duration(window))


def consumer_lag_messages(service: str, topic: str | None = None, service_label: str = "job") -> str:
    sel = f'{service_label}="{_label("service", service)}"'
    if topic:
        sel += f',topic="{_label("topic", topic)}"'
    return f"sum(kafka_consumer_lag{{{sel}}})"


def consumer_lag_seconds(service: str, service_label: str = "job") -> str:
    return f'max(kafka_consumer_lag_seconds{{{service_label}="{_label("service", service)}"}})'


def breaker_state(dependency: str, service: str, service_label: str = "job") -> str:
    return (
        f'max(circuit_breaker_state{{{service_label}="{_label("service", service)}",'
        f'dependency="{_label("dependency", dependency)}"}})'
    )
