"""Client-side figures from load results: quantiles, outcomes, error ratio, offered rate, series."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from chaosext.common import checks
from chaosext.traffic.vegeta import Result

__all__ = ["check_quantile", "error_ratio", "outcome", "quantile", "series", "summarize", "window"]

ERROR_OUTCOMES = ("server_error", "timeout", "refused", "reset", "connection_error")


def check_quantile(q: float, name: str = "quantile") -> float:
    return checks.fraction(name, q)


def outcome(result: Result) -> str:
    """ok (2xx/3xx), client_error (4xx), server_error (5xx), or why no HTTP answer came back."""
    if result.status >= 500:
        return "server_error"
    if result.status >= 400:
        return "client_error"
    if result.status > 0:
        return "ok"
    err = result.error.lower()
    if "timeout" in err or "deadline exceeded" in err:
        return "timeout"
    if "connection refused" in err:
        return "refused"
    if "reset by peer" in err or "broken pipe" in err or "eof" in err:
        return "reset"
    return "connection_error"


def quantile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None without values."""
    if not values:
        return None
    data = sorted(values)
    pos = (len(data) - 1) * q
    low, high = math.floor(pos), math.ceil(pos)
    return data[low] + (data[high] - data[low]) * (pos - low)


def window(results: Iterable[Result], since: float | None = None, until: float | None = None) -> list[Result]:
    """The results of the requests sent in [since, until)."""
    return [r for r in results if (since is None or r.ts >= since) and (until is None or r.ts < until)]


def error_ratio(results: Sequence[Result], include_4xx: bool = False) -> float | None:
    if not results:
        return None
    bad = ERROR_OUTCOMES + (("client_error",) if include_4xx else ())
    return sum(1 for r in results if outcome(r) in bad) / len(results)


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def summarize(results: Sequence[Result]) -> dict[str, Any]:
    """Requests, offered rate (sends per second between the first and last send), outcomes, quantiles."""
    latencies = [r.latency_ms for r in results]
    span = results[-1].ts - results[0].ts if len(results) > 1 else 0.0
    ratio = error_ratio(results)
    return {
        "requests": len(results),
        "first_sent": results[0].ts if results else None,
        "last_sent": results[-1].ts if results else None,
        "offered_rate": _round((len(results) - 1) / span, 3) if span > 0 else None,
        "outcomes": dict(Counter(outcome(r) for r in results)),
        "status_codes": {str(k): v for k, v in sorted(Counter(r.status for r in results).items())},
        "error_ratio": _round(ratio, 5),
        "latency_ms": {
            name: _round(quantile(latencies, q))
            for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))
        },
    }


def series(
    results: Sequence[Result], start: float, end: float, step: float = 1.0, span: float = 5.0
) -> dict[str, list[list[float]]]:
    """Per ``step``: p99 latency (ms), error ratio and rate of the requests sent in the last ``span`` s."""
    p99: list[list[float]] = []
    errors: list[list[float]] = []
    rate: list[list[float]] = []
    ordered = sorted(results, key=lambda r: r.ts)
    t = start + step
    lo = 0
    while t <= end + 1e-9:
        while lo < len(ordered) and ordered[lo].ts < t - span:
            lo += 1
        hi = lo
        while hi < len(ordered) and ordered[hi].ts < t:
            hi += 1
        chunk = ordered[lo:hi]
        if chunk:
            p = quantile([r.latency_ms for r in chunk], 0.99)
            e = error_ratio(chunk)
            p99.append([round(t, 3), round(p or 0.0, 2)])
            errors.append([round(t, 3), round(e or 0.0, 5)])
        rate.append([round(t, 3), round(len(chunk) / span, 3)])
        t += step
    return {"p99_ms": p99, "error_ratio": errors, "rate": rate}
