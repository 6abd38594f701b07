"""Client-side probes over a load run's results: what the users saw, including timeouts and refused
connections that server metrics never record."""

from __future__ import annotations

import time
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext.common import checks
from chaosext.traffic import stats, vegeta
from chaosext.traffic.runs import LoadRun, latest_run, load_run

__all__ = [
    "client_error_ratio",
    "client_error_ratio_below",
    "client_latency_ms",
    "client_latency_below",
    "load_report",
]


def _run(run_id: str | None) -> LoadRun:
    return load_run(run_id) if run_id else latest_run()


def _results(run_id: str | None, window_s: float | None) -> list[vegeta.Result]:
    if window_s is not None:
        checks.seconds("window_s", window_s)
    run = _run(run_id)
    results = vegeta.read_results(run.results)
    if window_s is not None:
        results = stats.window(results, since=time.time() - float(window_s))
    if not results:
        where = f"in the last {window_s}s" if window_s is not None else "yet"
        raise ActivityFailed(f"load run {run.id} has no results {where} (is the load running? see {run.log})")
    return results


def client_latency_ms(
    quantile: float = 0.99,
    window_s: float | None = None,
    run_id: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> float:
    """Client-side latency quantile (ms; ``quantile`` 0.5/0.95/0.99...) of the requests sent in the
    last ``window_s`` seconds (all of the run if unset) of load run ``run_id`` (default: the latest).
    Failed requests count with the time they took (a timeout counts as the timeout)."""
    q = stats.check_quantile(quantile)
    value = stats.quantile([r.latency_ms for r in _results(run_id, window_s)], q)
    return round(value or 0.0, 2)


def client_latency_below(
    threshold_ms: float,
    quantile: float = 0.99,
    window_s: float | None = None,
    run_id: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> bool:
    """True when the client-side latency ``quantile`` is below ``threshold_ms``."""
    try:
        limit = float(threshold_ms)
    except (TypeError, ValueError):
        raise ActivityFailed(f"'threshold_ms' must be a number, got {threshold_ms!r}") from None
    return client_latency_ms(quantile, window_s, run_id) < limit


def client_error_ratio(
    window_s: float | None = None,
    include_4xx: bool = False,
    run_id: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> float:
    """Fraction (0..1) of the requests that failed as the client saw it: 5xx, timeouts, refused or
    reset connections (and 4xx if ``include_4xx``), over the last ``window_s`` seconds."""
    value = stats.error_ratio(_results(run_id, window_s), include_4xx=bool(include_4xx))
    return round(value or 0.0, 5)


def client_error_ratio_below(
    threshold: float,
    window_s: float | None = None,
    include_4xx: bool = False,
    run_id: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> bool:
    """True when the client-side error ratio is below ``threshold`` (a fraction, e.g. 0.02)."""
    try:
        limit = float(threshold)
    except (TypeError, ValueError):
        raise ActivityFailed(f"'threshold' must be a fraction between 0 and 1, got {threshold!r}") from None
    return client_error_ratio(window_s, include_4xx, run_id) < limit


def load_report(
    run_id: str | None = None,
    window_s: float | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """A load run's client-side summary: requests, offered rate, outcomes (timeouts, refused...),
    status codes, error ratio, latency p50/p95/p99/max, and whether the attack still runs."""
    run = _run(run_id)
    results = _results(run.id, window_s)
    return {
        "run_id": run.id,
        "scenario": run.scenario,
        "url": run.url,
        "target_rate": run.rate,
        "running": vegeta.alive(run.pid),
        **stats.summarize(results),
    }
