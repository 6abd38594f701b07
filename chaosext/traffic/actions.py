"""Start and stop background load: Vegeta at a constant arrival rate (open model)."""

from __future__ import annotations

import time
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext.common import checks
from chaosext.faults import engine, markers
from chaosext.faults.markers import FaultMarker
from chaosext.faults.undoers import undoer
from chaosext.target import driver_for
from chaosext.traffic import stats, vegeta
from chaosext.traffic.driver import TrafficDriver
from chaosext.traffic.runs import LoadRun, load_run
from chaosext.traffic.targets import SCENARIOS, write_targets

__all__ = ["start_load", "stop_load"]

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
