"""Per-run timeline and SLO figures for the report, recorded in the journal by the abort control.

``journal["chaosext"]["timeline"]`` = {"series": {"client_p99_ms", "server_p99_ms", "error_rate",
"server_error_rate", "client_rate": [[ts, value], ...]}, "thresholds": {...}, "start", "end",
"fault": [start, end] | null, "load_runs": [...]}

``journal["chaosext"]["slo"]`` = {"before" | "during" | "after": {"window": [a, b], "client": {...},
"server": {...}}, "budget": {...}}: before = experiment start -> fault start, during = the fault
window, after = fault end -> experiment end (the whole run is "during" when there is no fault).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chaosext.slo import budget, queries
from chaosext.slo.prom import PrometheusClient, scalar
from chaosext.traffic import stats
from chaosext.traffic.vegeta import Result

__all__ = ["build_slo", "build_timeline", "fault_window", "load_run_ids", "record"]

SERIES_SPAN_S = 5.0


def _ts(iso: str | None) -> float | None:
    return datetime.fromisoformat(iso).timestamp() if iso else None


def _outputs(runs: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for run in runs or []:
        output = run.get("output")
        for item in output if isinstance(output, list) else [output]:
            if isinstance(item, dict):
                out.append(item)
    return out


def fault_window(journal: dict[str, Any]) -> tuple[float, float] | None:
    """From the first fault applied in the method to the last one removed (rollback, expiry or abort)."""
    faults = [
        o
        for o in _outputs(journal.get("run"))
        if "started_at" in o and o.get("family") not in (None, "traffic")
    ]
    if not faults:
        return None
    # a fault ends when it is removed: by an action of the method itself, a rollback, or expiry
    removed = {
        o["id"]: float(o["removed_at"])
        for o in [*_outputs(journal.get("run")), *_outputs(journal.get("rollbacks"))]
        if "removed_at" in o and "id" in o
    }
    removed.update(journal.get("chaosext", {}).get("abort_undone", {}))
    start = min(float(f["started_at"]) for f in faults)
    ends = []
    for fault in faults:
        ends.append(
            min(removed.get(fault["id"], float("inf")), float(fault.get("expires_at") or float("inf")))
        )
    end = max(ends)
    return (start, end) if end != float("inf") else (start, _ts(journal.get("end")) or start)


def load_run_ids(journal: dict[str, Any]) -> list[str]:
    return [
        str(o["run_id"])
        for o in _outputs(journal.get("run"))
        if o.get("family") == "traffic" and "run_id" in o
    ]


def _points(samples: list[dict[str, Any]], scale: float = 1.0) -> list[list[float]]:
    if not samples:
        return []
    return [
        [float(t), round(float(v) * scale, 5)] for t, v in samples[0]["values"] if v not in ("NaN", "+Inf")
    ]


def build_timeline(
    prom: PrometheusClient,
    results: list[Result],
    start: float,
    end: float,
    fault: tuple[float, float] | None,
    thresholds: dict[str, Any],
    service: str = "checkout-api",
    route: str | None = "/api/checkout",
    step: float = 1.0,
) -> dict[str, Any]:
    client = stats.series(results, start, end, step, SERIES_SPAN_S)
    span = f"{int(SERIES_SPAN_S)}s"
    series: dict[str, Any] = {
        "client_p99_ms": client["p99_ms"],
        "error_rate": client["error_ratio"],
        "client_rate": client["rate"],
    }
    errors: dict[str, str] = {}
    for name, promql in (
        ("server_p99_ms", queries.latency_quantile_ms(0.99, service, route, span)),
        ("server_error_rate", queries.error_ratio(service, route, span)),
    ):
        try:
            series[name] = _points(prom.query_range(promql, start, end, step))
        except Exception as exc:  # the report still gets the client side
            series[name], errors[name] = [], str(exc)
    return {
        "start": start,
        "end": end,
        "fault": list(fault) if fault else None,
        "step_s": step,
        "series": series,
        "thresholds": thresholds,
        **({"errors": errors} if errors else {}),
    }


def _server(prom: PrometheusClient, a: float, b: float, service: str, route: str | None) -> dict[str, Any]:
    if b - a < 2:
        return {}
    window = f"{int(b - a)}s"
    p99 = queries.latency_quantile_ms(0.99, service, route, window).replace("rate(", "increase(")
    ratio = queries.error_ratio(service, route, window, func="increase")
    try:
        return {"p99_ms": scalar(prom.query(p99, at=b)), "error_ratio": scalar(prom.query(ratio, at=b))}
    except Exception as exc:
        return {"error": str(exc)}


def build_slo(
    prom: PrometheusClient,
    results: list[Result],
    start: float,
    end: float,
    fault: tuple[float, float] | None,
    service: str = "checkout-api",
    route: str | None = "/api/checkout",
    target: float = 0.999,
    period_s: float = 30 * 86400,
) -> dict[str, Any]:
    phases = (
        {"during": (start, end)}
        if fault is None
        else {"before": (start, fault[0]), "during": (fault[0], fault[1]), "after": (fault[1], end)}
    )
    out: dict[str, Any] = {}
    for name, (a, b) in phases.items():
        chunk = stats.window(results, a, b)
        out[name] = {
            "window": [a, b],
            "client": stats.summarize(chunk) if chunk else {},
            "server": _server(prom, a, b, service, route),
        }
    whole = _server(prom, start, end, service, route)
    ratio = whole.get("error_ratio")
    if isinstance(ratio, float):
        out["budget"] = {
            "target": target,
            "period_s": period_s,
            "window_s": round(end - start, 3),
            "error_ratio": ratio,
            "burn_rate": round(budget.burn_rate(ratio, target), 6),
            "budget_burn": round(budget.budget_burn(ratio, target, end - start, period_s), 8),
        }
    return out


def record(
    journal: dict[str, Any],
    prometheus: str,
    thresholds: dict[str, Any],
    service: str = "checkout-api",
    route: str | None = "/api/checkout",
    target: float = 0.999,
    period_s: float = 30 * 86400,
) -> None:
    """Fill journal["chaosext"]["timeline"] and journal["chaosext"]["slo"] for this run."""
    from chaosext.traffic import vegeta
    from chaosext.traffic.runs import load_run

    start = _ts(journal.get("start"))
    end = _ts(journal.get("end"))
    if start is None or end is None:
        return
    results: list[Result] = []
    for run_id in load_run_ids(journal):
        try:
            results.extend(vegeta.read_results(load_run(run_id).results))
        except Exception:
            continue
    results.sort(key=lambda r: r.ts)
    prom = PrometheusClient(prometheus)
    fault = fault_window(journal)
    section = journal.setdefault("chaosext", {})
    section["timeline"] = build_timeline(prom, results, start, end, fault, thresholds, service, route)
    section["timeline"]["load_runs"] = load_run_ids(journal)
    section["slo"] = build_slo(prom, results, start, end, fault, service, route, target, period_s)
