"""Chaos Toolkit control: abort the experiment when an SLO breach has held for its duration.

Declare it in the experiment (top-level ``controls``)::

    {"name": "chaosext-abort", "provider": {"type": "python", "module": "chaosext.controls.abort",
     "arguments": {"criteria": [{"name": "checkout-p99", "probe": "latency_quantile_ms",
                                 "arguments": {"window": "10s"}, "operator": ">", "threshold": 2000,
                                 "for_seconds": 60}],
                   "interval_s": 1}}}

Once the method starts, a background thread evaluates every criterion each ``interval_s`` (the
Prometheus scrape interval). When one has been true for its ``for_seconds`` the control halts the run
the way chaoslib's ``exit_gracefully`` does (SIGUSR1 to itself: the current activity is interrupted
and the rollbacks run; run with ``--rollback-strategy always`` or ``"runtime": {"rollbacks":
{"strategy": "always"}}``, else the control undoes chaosext's faults itself). The journal gets
``status: "aborted"`` and ``chaosext.abort = {"reason", "at", "criterion", "figures"}`` (null when
no criterion fired), plus the run's ``chaosext.timeline`` and ``chaosext.slo`` (chaosext.slo.timeline).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from datetime import UTC, datetime
from typing import Any

from chaoslib.exceptions import InterruptExecution, InvalidActivity
from chaoslib.types import Configuration, Secrets

from chaosext.controls.criteria import BreachTracker, Criterion, parse_criteria
from chaosext.controls.watcher import AbortWatcher

__all__ = [
    "after_experiment_control",
    "after_method_control",
    "before_experiment_control",
    "before_method_control",
    "cleanup_control",
    "configure_control",
    "validate_control",
]

logger = logging.getLogger("chaostoolkit")


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.watcher: AbortWatcher | None = None
        self.criteria: list[Criterion] = []
        self.abort: dict[str, Any] | None = None
        self.method_open = False


_state = _State()


def _interval(value: Any) -> float:
    try:
        interval = float(value)
    except (TypeError, ValueError):
        raise InterruptExecution(
            f"abort control: 'interval_s' must be a number of seconds, got {value!r}"
        ) from None
    if not 0.1 <= interval <= 60:
        raise InterruptExecution(
            f"abort control: 'interval_s' must be between 0.1 and 60 seconds, got {value!r}"
        )
    return interval


def validate_control(control: dict[str, Any]) -> None:
    """Checked by ``chaos run``/``chaos validate`` before anything runs: bad criteria stop the run."""
    arguments = control.get("provider", {}).get("arguments", {}) or {}
    parse_criteria(arguments.get("criteria"), lenient=True)
    interval = arguments.get("interval_s", 1.0)
    if not (isinstance(interval, str) and interval.startswith("${")):
        try:
            _interval(interval)
        except InterruptExecution as exc:
            raise InvalidActivity(str(exc)) from None


def configure_control(**_: Any) -> None:
    global _state
    _state = _State()


def before_experiment_control(context: Any, **_: Any) -> None:
    with _state.lock:
        _state.abort = None


def _halt(tracker: BreachTracker, figures: dict[str, Any]) -> None:
    """Called by the watcher thread: record why, then interrupt the main thread (rollbacks follow)."""
    criterion = tracker.criterion
    now = time.time()
    with _state.lock:
        if not _state.method_open or _state.abort is not None:
            return
        since = tracker.since or now
        _state.abort = {
            "reason": (
                f"abort criterion {criterion.name!r} breached: {criterion.text()} "
                f"(value {tracker.last_value:g}, true for {now - since:.1f}s)"
            ),
            "at": now,
            "at_iso": datetime.fromtimestamp(now, UTC).isoformat(),
            "criterion": criterion.to_json(),
            "figures": {
                "value": tracker.last_value,
                "breach_started_at": since,
                "breach_duration_s": round(now - since, 3),
                "samples": tracker.samples[-120:],
                "criteria": figures,
            },
        }
        logger.critical(
            "chaosext abort: %s; halting the experiment, rollbacks follow", _state.abort["reason"]
        )
        os.kill(
            os.getpid(), signal.SIGUSR1
        )  # chaoslib: SystemExit(20) in the main thread, rollbacks still run


def before_method_control(
    context: Any,
    criteria: list[dict[str, Any]] | None = None,
    interval_s: float = 1.0,
    configuration: Configuration = None,
    secrets: Secrets = None,
    **_: Any,
) -> None:
    try:
        parsed = parse_criteria(criteria)
    except Exception as exc:
        raise InterruptExecution(str(exc)) from None
    interval = _interval(interval_s)
    watcher = AbortWatcher(parsed, configuration, interval, _halt)
    with _state.lock:
        _state.criteria = parsed
        _state.watcher = watcher
        _state.method_open = True
    logger.info("abort control: watching %s every %gs", "; ".join(c.text() for c in parsed), interval)
    watcher.start()


def _stop_watching() -> None:
    with _state.lock:
        _state.method_open = False
        watcher = _state.watcher
    if watcher is not None:
        watcher.stop()


def after_method_control(context: Any, **_: Any) -> None:
    _stop_watching()


def _undo_leftovers(journal: dict[str, Any]) -> None:
    """The run was halted and no rollback ran (strategy not 'always'): undo chaosext's faults here."""
    from chaosext.faults import engine

    undone = engine.undo_matching()
    journal.setdefault("chaosext", {})["abort_undone"] = {u["id"]: u["removed_at"] for u in undone}
    logger.warning("abort control: no rollback ran; undid %d chaosext fault(s) itself", len(undone))


def after_experiment_control(
    context: Any,
    state: dict[str, Any] | None = None,
    slo: dict[str, Any] | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
    **_: Any,
) -> None:
    _stop_watching()
    if not isinstance(state, dict):
        return
    journal = state
    section = journal.setdefault("chaosext", {})
    watcher = _state.watcher
    section["abort"] = _state.abort
    section["abort_watch"] = {
        "criteria": [c.to_json() for c in _state.criteria],
        "evaluations": watcher.evaluations if watcher else 0,
        "last": watcher.figures() if watcher else {},
    }
    if _state.abort is not None:
        journal["status"] = "aborted"
        if not journal.get("rollbacks"):
            _undo_leftovers(journal)
    _record_timeline(journal, slo or {}, configuration)


def _record_timeline(journal: dict[str, Any], slo: dict[str, Any], configuration: Configuration) -> None:
    from chaosext.slo import queries, timeline
    from chaosext.slo.prom import prometheus_url

    thresholds = {c.name: c.to_json() for c in _state.criteria}
    try:
        timeline.record(
            journal,
            prometheus_url(configuration),
            thresholds,
            service=str(slo.get("service", "checkout-api")),
            route=slo.get("route", "/api/checkout"),
            target=float(slo.get("target", 0.999)),
            period_s=queries.seconds(slo.get("period", "30d")),
        )
    except Exception as exc:  # the report is best effort; the run's outcome stands
        journal.setdefault("chaosext", {})["timeline_error"] = str(exc)
        logger.warning("abort control: could not record the timeline: %s", exc)


def cleanup_control(**_: Any) -> None:
    _stop_watching()
