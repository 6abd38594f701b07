"""SLO figures out of the evidence block, formatted the way the experiment log writes them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from chaosext.evidence.journal import Journal, evidence, parse_time

__all__ = [
    "Peak",
    "Series",
    "abort_figures",
    "fault_window",
    "fmt_ms",
    "fmt_offset",
    "fmt_rate",
    "phase_figures",
    "series",
    "summarize",
    "thresholds",
    "worst",
]

Series = list[tuple[float, float]]

# the known figures, in display order: key -> label
LABELS = {
    "client_p99_ms": "p99",
    "server_p99_ms": "server p99",
    "p99_ms": "p99",
    "error_rate": "5xx",
    "server_error_rate": "server 5xx",
}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def fmt_ms(value: float | None) -> str:
    """210 -> ``210 ms``; 1234 -> ``1.23 s``."""
    if value is None:
        return "n/a"
    if value >= 1000:
        return f"{value / 1000:.3g} s"
    return f"{value:.3g} ms" if value < 100 else f"{value:.0f} ms"


def fmt_offset(seconds: float) -> str:
    """Seconds from the fault's start, rounded: ``T+12 s``, ``T-3 s``; less than half a second
    either side is ``T+0 s`` (never ``T-0 s``)."""
    return f"T{seconds:+z.0f} s"


def fmt_rate(value: float | None) -> str:
    """A ratio (0.008) as a percentage (``0.8%``)."""
    if value is None:
        return "n/a"
    percent = value * 100
    if percent == 0:
        return "0%"
    return f"{percent:.2g}%" if percent < 1 else f"{percent:.3g}%"


def fmt_figure(key: str, value: float) -> str:
    if key == "error_rate" or key.endswith("_rate"):
        return fmt_rate(value)
    if key.endswith("_ms"):
        return fmt_ms(value)
    return f"{value:g}"


def phase_figures(journal: Journal, phase: str) -> dict[str, float]:
    """``slo.<phase>`` figures (before / during / after) as numbers; non-numbers are dropped.

    Two shapes are read: the flat one (``client_p99_ms``, ``server_p99_ms``, ``error_rate``) and
    the one the abort control records (``client.latency_ms.p99``, ``client.error_ratio``,
    ``server.p99_ms``, ``server.error_ratio``), which is flattened to the same names."""
    slo = evidence(journal).get("slo")
    block = slo.get(phase) if isinstance(slo, dict) else None
    if not isinstance(block, dict):
        return {}
    figures: dict[str, float] = {}
    for key, value in block.items():
        number = _number(value)
        if number is not None:
            figures[str(key)] = number
    client, server = block.get("client"), block.get("server")
    nested: dict[str, Any] = {}
    if isinstance(client, dict):
        latency = client.get("latency_ms")
        nested["client_p99_ms"] = latency.get("p99") if isinstance(latency, dict) else None
        nested["error_rate"] = client.get("error_ratio")
    if isinstance(server, dict):
        nested["server_p99_ms"] = server.get("p99_ms")
        nested["server_error_rate"] = server.get("error_ratio")
    for key, value in nested.items():
        number = _number(value)
        if number is not None and key not in figures:
            figures[key] = number
    return figures


def summarize(figures: dict[str, float]) -> str:
    """``p99 210 ms (server 180 ms), 5xx 0.02%``; empty string when there is nothing."""
    parts: list[str] = []
    p99 = figures.get("client_p99_ms", figures.get("p99_ms"))
    if p99 is not None:
        server = figures.get("server_p99_ms")
        parts.append(f"p99 {fmt_ms(p99)}" + (f" (server {fmt_ms(server)})" if server is not None else ""))
    elif "server_p99_ms" in figures:
        parts.append(f"server p99 {fmt_ms(figures['server_p99_ms'])}")
    if "error_rate" in figures:
        parts.append(f"5xx {fmt_rate(figures['error_rate'])}")
    for key, value in figures.items():
        if key not in LABELS:
            parts.append(f"{key} {fmt_figure(key, value)}")
    return ", ".join(parts)


def _timeline(journal: Journal) -> dict[str, Any]:
    block = evidence(journal).get("timeline")
    return block if isinstance(block, dict) else {}


def series(journal: Journal, name: str) -> Series:
    """One timeline series as sorted (unix_ts, value) pairs; malformed points are skipped."""
    raw = _timeline(journal).get("series")
    points = raw.get(name) if isinstance(raw, dict) else None
    if not isinstance(points, list):
        return []
    clean: Series = []
    for point in points:
        if isinstance(point, list | tuple) and len(point) == 2:
            ts, value = _number(point[0]), _number(point[1])
            if ts is not None and value is not None:
                clean.append((ts, value))
    return sorted(clean)


_SLO_PROBES = {"latency_quantile_ms": "p99_ms", "error_ratio": "error_rate"}


def _hypothesis_limits(journal: Journal) -> dict[str, float]:
    """The steady state's own limits: the upper bound of the range tolerance of its p99 and
    error-ratio probes (chaosext.slo.probes), i.e. the SLO the run was judged against."""
    limits: dict[str, float] = {}
    hypothesis = (journal.get("experiment") or {}).get("steady-state-hypothesis") or {}
    for probe in hypothesis.get("probes") or []:
        provider = probe.get("provider") or {} if isinstance(probe, dict) else {}
        key = _SLO_PROBES.get(str(provider.get("func")))
        tolerance = probe.get("tolerance") if isinstance(probe, dict) else None
        if key and isinstance(tolerance, dict) and tolerance.get("type") == "range":
            bounds = tolerance.get("range") or []
            if len(bounds) == 2 and (upper := _number(bounds[1])) is not None:
                limits.setdefault(key, upper)
    return limits


def _criteria_probes(block: dict[str, Any]) -> dict[str, str]:
    """Abort criterion name -> the SLO probe it reads, from what the abort control recorded."""
    probes: dict[str, str] = {}
    watch = block.get("abort_watch")
    abort = block.get("abort")
    declared = list(watch.get("criteria") or []) if isinstance(watch, dict) else []
    if isinstance(abort, dict):
        declared.append(abort.get("criterion"))
    for criterion in declared:
        if isinstance(criterion, dict) and criterion.get("name") and criterion.get("probe"):
            probes[str(criterion["name"])] = str(criterion["probe"])
    return probes


def abort_figures(journal: Journal) -> dict[str, float]:
    """The worst p99 (``p99_ms``) and 5xx ratio (``error_rate``) the abort control recorded when it
    halted the run: every criterion's value at the abort (``abort.figures.criteria``) and the
    samples of the criterion that fired (``abort.figures.samples``), server side (Prometheus).
    Empty when the run was not aborted by the control."""
    block = evidence(journal)
    abort = block.get("abort")
    recorded = abort.get("figures") if isinstance(abort, dict) else None
    if not isinstance(recorded, dict):
        return {}
    probes = _criteria_probes(block)
    values: list[tuple[str, float]] = []
    criteria = recorded.get("criteria")
    if isinstance(criteria, dict):
        for name, figure in criteria.items():
            value = _number(figure.get("value")) if isinstance(figure, dict) else None
            if value is not None and name in probes:
                values.append((probes[name], value))
    fired = abort.get("criterion") if isinstance(abort, dict) else None
    probe = fired.get("probe") if isinstance(fired, dict) else None
    if probe:
        candidates = [recorded.get("value")]
        samples = recorded.get("samples")
        if isinstance(samples, list):
            candidates += [s[1] for s in samples if isinstance(s, list | tuple) and len(s) == 2]
        values += [(str(probe), n) for v in candidates if (n := _number(v)) is not None]
    figures: dict[str, float] = {}
    for probe_name, value in values:
        key = _SLO_PROBES.get(probe_name)
        if key is not None:
            figures[key] = max(value, figures.get(key, value))
    return figures


def thresholds(journal: Journal) -> dict[str, float]:
    """Lines to draw: ``timeline.thresholds`` as numbers, else the steady-state limits, else the
    abort criteria the control recorded there (``{name: {probe, threshold, ...}}``)."""
    raw = _timeline(journal).get("thresholds")
    numbers = {str(k): n for k, v in raw.items() if (n := _number(v)) is not None} if isinstance(raw, dict) else {}
    if numbers:
        return numbers
    limits = _hypothesis_limits(journal)
    if isinstance(raw, dict):
        for criterion in raw.values():
            if isinstance(criterion, dict):
                key = _SLO_PROBES.get(str(criterion.get("probe")))
                value = _number(criterion.get("threshold"))
                if key and value is not None:
                    limits.setdefault(key, value)
    return limits


def fault_window(journal: Journal) -> tuple[float, float] | None:
    """The fault window as unix timestamps (start, end); end defaults to the journal's end.
    Read from ``chaosext.fault_window`` (ISO times) or the abort control's ``timeline.fault``
    ([start, end] unix times)."""
    window = evidence(journal).get("fault_window")
    recorded = _timeline(journal).get("fault")
    if not isinstance(window, dict) and isinstance(recorded, list | tuple) and len(recorded) == 2:
        start_ts, end_ts = _number(recorded[0]), _number(recorded[1])
        if start_ts is not None and end_ts is not None:
            return start_ts, max(start_ts, end_ts)
    if not isinstance(window, dict):
        return None
    start = parse_time(window.get("start"))
    end = parse_time(window.get("end")) or parse_time(journal.get("end"))
    if start is None or end is None:
        return None
    return start.timestamp(), max(end.timestamp(), start.timestamp())


@dataclass(frozen=True)
class Peak:
    value: float
    offset_s: float  # seconds after the fault start (or after the first sample)
    seconds_over: float  # how long the series stayed above the threshold (0 without a threshold)


def worst(points: Series, origin: float, threshold: float | None) -> Peak | None:
    """The peak of a series, when it happened relative to ``origin``, and the time spent over threshold."""
    if not points:
        return None
    ts, value = max(points, key=lambda p: p[1])
    over = 0.0
    if threshold is not None:
        for (t0, v0), (t1, _) in zip(points, points[1:], strict=False):
            if v0 > threshold:
                over += t1 - t0
        if points[-1][1] > threshold and len(points) > 1:
            over += (points[-1][0] - points[0][0]) / (len(points) - 1)
    return Peak(value=value, offset_s=ts - origin, seconds_over=over)
