"""Start and stop background load: Vegeta at a constant arrival rate (open model)."""

from __future__ import annotations

import time
from typing import Any, cast

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext.common import checks
from chaosext.common.waiting import WaitTimeout, wait_until
from chaosext.faults import engine, markers
from chaosext.faults.markers import FaultMarker
from chaosext.faults.undoers import undoer
from chaosext.target import driver_for
from chaosext.traffic import stats, vegeta
from chaosext.traffic.driver import TrafficDriver
from chaosext.traffic.runs import LoadRun, latest_run, load_run
from chaosext.traffic.targets import SCENARIOS, write_targets

__all__ = ["start_load", "stop_load", "wait_for_steady_load"]

FAMILY = "traffic"
MAX_RATE = 20_000.0
MAX_DURATION = 3 * 3600.0
STOP_GRACE_S = 15.0  # the reaper stops an attack this long after its planned end if it is still running


def _base_url(base_url: str | None, configuration: Configuration) -> str:
    if base_url:
        if not str(base_url).startswith(("http://", "https://")):
            raise ActivityFailed(f"'base_url' must be an http(s) URL, got {base_url!r}")
        return str(base_url).rstrip("/")
    driver: TrafficDriver = driver_for(configuration, FAMILY)
    return driver.base_url(configuration)


def start_load(
    rate: float = 50,
    duration: float = 60,
    scenario: str = "checkout",
    timeout_s: float = 10,
    max_workers: int = 10_000,
    base_url: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Start background load at a constant arrival rate of ``rate`` requests/s for ``duration`` seconds
    (an open model: slow answers do not lower the offered rate; up to ``max_workers`` requests in
    flight). ``scenario``: ``checkout`` (POST /api/checkout, a unique order id per request) or
    ``catalog`` (GET /api/catalog). Each request gives up after ``timeout_s``. Returns the run record
    (``run_id``, results file); ``stop_load`` or the end of ``duration`` stops it."""
    rate = checks.in_range("rate", rate, 0, MAX_RATE)
    duration = checks.in_range("duration", duration, 0, MAX_DURATION)
    timeout_s = checks.in_range("timeout_s", timeout_s, 0, 600)
    workers = int(checks.in_range("max_workers", max_workers, 0, 1_000_000))
    checks.choice("scenario", scenario, SCENARIOS)
    url = _base_url(base_url, configuration)
    vegeta.binary()  # not installed: clear error before anything starts

    run_id = markers.new_id(FAMILY)
    run = LoadRun(
        id=run_id,
        scenario=scenario,
        url=url,
        rate=rate,
        duration=duration,
        timeout_s=timeout_s,
        started_at=time.time(),
    )
    run.dir.mkdir(parents=True, exist_ok=True)
    run.targets_count = write_targets(run.targets, scenario, url, run_id, int(rate * duration) + 1)
    run.command = vegeta.attack_command(run.targets, run.results, rate, duration, timeout_s, workers)
    marker = FaultMarker(
        id=run_id,
        family=FAMILY,
        kind="load",
        target=url,
        description=f"{scenario} load at {rate:g} req/s for {duration:g}s on {url}",
        undo="traffic.stop_load",
        undo_args={"run_id": run_id},
        expires_at=time.time() + duration + STOP_GRACE_S,
    )

    def apply() -> dict[str, Any]:
        run.started_at = time.time()
        run.pid = vegeta.start(run.command, run.log)
        run.save()
        return {"pid": run.pid}

    record = engine.activate(marker, apply)
    return {**record, "run_id": run_id, "run": run.to_json()}


@undoer("traffic.stop_load")
def _undo(run_id: str) -> None:
    try:
        run = load_run(run_id)
    except ActivityFailed:
        return
    vegeta.stop(run.pid)


def stop_load(
    run_id: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> list[dict[str, Any]]:
    """Rollback: stop the background load chaosext started (only ``run_id``, if given). Returns each
    stopped run with its client-side summary (requests, offered rate, outcomes, latency quantiles)."""
    if run_id is not None:
        load_run(run_id)  # unknown id: clear error
    stopped: list[dict[str, Any]] = []
    for done in engine.undo_matching(FAMILY, where=lambda m: not run_id or m.id == run_id):
        if done:
            run = load_run(done["id"])
            stopped.append(
                {
                    "run_id": run.id,
                    "removed_at": done["removed_at"],
                    "summary": stats.summarize(vegeta.read_results(run.results)),
                }
            )
    return stopped


def _baseline(run: LoadRun, window_s: float, quantile: float) -> dict[str, Any]:
    """The client-side figures of the requests run sent in its last ``window_s`` seconds, the
    ``quantile`` latency as ``latency_ms_q``, and whether the run has lasted that long."""
    results = vegeta.read_results(run.results)
    now = time.time()
    recent = stats.window(results, since=now - window_s)
    summary = stats.summarize(recent) if recent else {"requests": 0, "error_ratio": None}
    latency = stats.quantile([r.latency_ms for r in recent], quantile)
    return {
        **summary,
        "latency_ms_q": None if latency is None else round(latency, 2),
        "lasted": bool(results) and results[0].ts <= now - window_s,
    }


def wait_for_steady_load(
    latency_at_most_ms: float,
    quantile: float = 0.99,
    error_ratio_below: float = 0.005,
    window_s: float = 10,
    timeout: float = 120,
    run_id: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Wait until load run ``run_id`` (default: the latest) has run for ``window_s`` seconds and the
    requests sent in its last ``window_s`` seconds meet the baseline: latency ``quantile`` at most
    ``latency_at_most_ms`` and error ratio below ``error_ratio_below``. A fault injected while the
    service is not yet steady under the load (cold pools and caches, a node still busy with a
    previous rollout) measures that and not the fault: experiments wait for this between starting
    the load and injecting. Returns the baseline window's client-side summary with ``waited_s``;
    fails after ``timeout`` seconds, or as soon as the load has stopped, naming the last figures."""
    limit_ms = checks.positive("latency_at_most_ms", latency_at_most_ms, "milliseconds")
    q = stats.check_quantile(quantile)
    max_ratio = checks.fraction("error_ratio_below", error_ratio_below, example="0.005")
    window = checks.seconds("window_s", window_s)
    limit = checks.seconds("timeout", timeout)
    run = load_run(run_id) if run_id is not None else latest_run()
    want = f"p{q * 100:g} at most {limit_ms:g} ms and error ratio below {max_ratio:g}"

    def steady(b: dict[str, Any]) -> bool:
        return bool(b["lasted"] and b["latency_ms_q"] is not None and b["latency_ms_q"] <= limit_ms
                    and b["error_ratio"] is not None and b["error_ratio"] < max_ratio)

    def figures(b: dict[str, Any]) -> str:
        return (f"{b['requests']} requests, p{q * 100:g} {b['latency_ms_q']} ms, "
                f"error ratio {b['error_ratio']}")

    def baseline() -> dict[str, Any]:
        b = _baseline(run, window, q)
        if not steady(b) and not vegeta.alive(run.pid):
            raise ActivityFailed(f"load run {run.id} stopped before it was steady; last {window:g} s: "
                                 f"{figures(b)}; want {want} (see {run.log})")
        return b

    started = time.monotonic()
    try:
        found = wait_until(f"load run {run.id} to be steady", baseline, done=steady, timeout_s=limit,
                           interval_s=1)
    except WaitTimeout as exc:
        # the probe runs at once and returns a dict or raises: the last value is always a baseline
        last = cast(dict[str, Any], exc.last)
        raise ActivityFailed(f"load run {run.id} was not steady within 'timeout' {limit:g} s: last "
                             f"{window:g} s: {figures(last)}; want {want}") from None
    found.pop("lasted")
    return {"run_id": run.id, "window_s": window, "waited_s": round(time.monotonic() - started, 1), **found}
