"""Imported by the `chaos run` subprocesses of these tests (PYTHONPATH=tests/evidence).

* ``run_load``: a real HTTP load generator against the test's checkout-like server; it returns
  client and server p99 and the error rate per time bucket.
* ``fail``: an action that raises (chaoslib marks it failed).
* ``after_experiment_control``: a Chaos Toolkit control that records the chaosext evidence block
  (fault window, SLO figures, timeline, log) from the run, as the real experiments' controls do.
"""

from __future__ import annotations

import math
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chaosext.evidence.journal import parse_time

BUCKET_S = 0.5


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def _one(url: str) -> tuple[float, float, float | None, bool]:
    started = time.time()
    server_ms: float | None = None
    error = False
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            response.read()
            server_ms = float(response.headers.get("X-Server-Time-Ms", "nan"))
    except urllib.error.HTTPError as exc:
        error = exc.code >= 500
        server_ms = float(exc.headers.get("X-Server-Time-Ms", "nan"))
    except OSError:
        error = True
    return started, (time.time() - started) * 1000, server_ms, error


def run_load(url: str, seconds: float = 5.0, workers: int = 4, pause_s: float = 0.01) -> dict[str, Any]:
    """Send requests from ``workers`` threads for ``seconds``; return per-bucket [ts, value] series."""
    samples: list[tuple[float, float, float | None, bool]] = []
    deadline = time.time() + seconds

    def worker() -> None:
        while time.time() < deadline:
            samples.append(_one(url))
            time.sleep(pause_s)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(worker) for _ in range(workers)]:
            future.result()
    buckets: dict[int, list[tuple[float, float, float | None, bool]]] = {}
    for sample in samples:
        buckets.setdefault(int(sample[0] // BUCKET_S), []).append(sample)
    series: dict[str, list[list[float]]] = {"client_p99_ms": [], "server_p99_ms": [], "error_rate": []}
    for key in sorted(buckets):
        rows = buckets[key]
        ts = key * BUCKET_S + BUCKET_S / 2
        series["client_p99_ms"].append([ts, _p99([r[1] for r in rows])])
        server = [r[2] for r in rows if r[2] is not None and not math.isnan(r[2])]
        if server:
            series["server_p99_ms"].append([ts, _p99(server)])
        series["error_rate"].append([ts, sum(1 for r in rows if r[3]) / len(rows)])
    return {"series": series, "requests": len(samples)}


def fail(message: str = "payment-service refused the kill") -> None:
    raise RuntimeError(message)


def _window(state: dict[str, Any], start_action: str, end_action: str) -> tuple[str, str] | None:
    runs = {r["activity"]["name"]: r for r in state.get("run") or [] if isinstance(r, dict)}
    if start_action in runs and end_action in runs:
        return runs[start_action]["start"], runs[end_action]["end"]
    return None


def _phase(series: dict[str, list[list[float]]], lo: float, hi: float) -> dict[str, float]:
    """The worst value of the buckets that lie wholly inside [lo, hi): a bucket straddling the
    fault's start holds requests from both sides and belongs to neither phase."""
    out: dict[str, float] = {}
    half = BUCKET_S / 2
    for key in ("client_p99_ms", "server_p99_ms", "error_rate"):
        values = [v for t, v in series.get(key, []) if lo <= t - half and t + half <= hi]
        if values:
            out[key] = max(values)  # the worst value of the phase
    return out


def after_experiment_control(
    context: Any,
    state: dict[str, Any],
    start_action: str = "inject-fault",
    end_action: str = "remove-fault",
    p99_ms: float = 150.0,
    error_rate: float = 0.005,
    root_cause: str = "",
    fix: str = "",
    abort_reason: str = "",
    **kwargs: Any,
) -> None:
    block: dict[str, Any] = state.setdefault("chaosext", {})
    if abort_reason:
        block["abort"] = {"reason": abort_reason, "at": state.get("end"), "figures": {"p99_ms": 999.0}}
    load = next((r for r in state.get("run") or [] if r.get("activity", {}).get("name") == "load"), None)
    window = _window(state, start_action, end_action)
    if window is not None:
        block["fault_window"] = {"start": window[0], "end": window[1]}
    if load and isinstance(load.get("output"), dict) and window is not None:
        series = load["output"]["series"]
        start = parse_time(window[0])
        end = parse_time(window[1])
        assert start is not None and end is not None
        lo, hi = start.timestamp(), end.timestamp()
        block["slo"] = {
            "before": _phase(series, 0, lo),
            "during": _phase(series, lo, hi),
            "after": _phase(series, hi, math.inf),
        }
        block["timeline"] = {"series": series, "thresholds": {"p99_ms": p99_ms, "error_rate": error_rate}}
    if root_cause or fix:
        block["log"] = {"root_cause": root_cause, "fix": fix}
