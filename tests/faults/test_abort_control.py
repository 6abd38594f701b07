"""The abort control halts a real `chaos run` on an SLO breach, on time, and the rollback follows."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from e2e.helpers import checkout, new_order_id
from stack_support import REPO, Stack
from support import wait_until

from chaosext.dependency import probes as dep_probes
from chaosext.faults import markers
from chaosext.slo import probes as slo_probes
from chaosext.slo import queries
from chaosext.slo.prom import PrometheusClient, prometheus_url
from chaosext.traffic import vegeta
from chaosext.traffic.install import install_traffic_tools
from chaosext.traffic.runs import load_run

pytestmark = pytest.mark.stack

SCRAPE_INTERVAL_S = 1.0
FOR_SECONDS = 5.0
THRESHOLD_MS = 400.0
WINDOW = "5s"


@pytest.fixture(scope="module", autouse=True)
def _vegeta() -> None:
    install_traffic_tools(lambda line: print(line, file=sys.stderr))


def _experiment(tmp_path: Path, criteria: list[dict[str, Any]], pause_s: int = 60) -> Path:
    exp = {
        "title": "abort on checkout p99",
        "description": "a latency toxic breaches the p99 criterion; the control halts the run",
        "configuration": {"target": "local"},
        "controls": [
            {
                "name": "chaosext-abort",
                "provider": {
                    "type": "python",
                    "module": "chaosext.controls.abort",
                    "arguments": {"interval_s": SCRAPE_INTERVAL_S, "criteria": criteria},
                },
            }
        ],
        "method": [
            {
                "type": "action",
                "name": "load",
                "pauses": {"after": 5},
                "provider": {
                    "type": "python",
                    "module": "chaosext.traffic.actions",
                    "func": "start_load",
                    "arguments": {"rate": 20, "duration": 120, "scenario": "checkout"},
                },
            },
            {
                "type": "action",
                "name": "latency",
                "pauses": {"after": pause_s},
                "provider": {
                    "type": "python",
                    "module": "chaosext.dependency.actions",
                    "func": "add_latency",
                    "arguments": {"proxy": "payment", "latency_ms": 250, "duration": 90},
                },
            },
        ],
        "rollbacks": [
            {
                "type": "action",
                "name": "remove-latency",
                "provider": {
                    "type": "python",
                    "module": "chaosext.dependency.actions",
                    "func": "remove_dependency_faults",
                },
            },
            {
                "type": "action",
                "name": "stop-load",
                "provider": {"type": "python", "module": "chaosext.traffic.actions", "func": "stop_load"},
            },
        ],
    }
    path = tmp_path / "exp.json"
    path.write_text(json.dumps(exp))
    return path


P99_CRITERION = {
    "name": "checkout-p99",
    "probe": "latency_quantile_ms",
    "arguments": {"quantile": 0.99, "window": WINDOW},
    "operator": ">",
    "threshold": THRESHOLD_MS,
    "for_seconds": FOR_SECONDS,
}


class ToxicWatch:
    """Polls Toxiproxy from the outside: when the latency toxic appeared and disappeared."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.added: float | None = None
        self.removed: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            toxics = dep_probes.dependency_faults("payment")["toxics"]
            now = time.time()
            if toxics and self.added is None:
                self.added = now
            if not toxics and self.added is not None and self.removed is None:
                self.removed = now
            self._stop.wait(0.05)

    def __enter__(self) -> ToxicWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def _chaos_run(
    tmp_path: Path, exp: Path, timeout: float = 300
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    chaos = str(Path(sys.executable).parent / "chaos")
    journal_path = tmp_path / "journal.json"
    proc = subprocess.run(
        [chaos, "run", "--rollback-strategy", "always", "--journal-path", str(journal_path), str(exp)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    journal = json.loads(journal_path.read_text()) if journal_path.exists() else {}
    return proc, journal


def _condition_start(start: float, end: float) -> float:
    """When the criterion's condition first became true, independently, from Prometheus's own data."""
    promql = queries.latency_quantile_ms(0.99, "checkout-api", "/api/checkout", WINDOW)
    series = PrometheusClient(prometheus_url(None)).query_range(promql, start, end, step=0.25)
    assert series, f"no data for {promql}"
    for ts, value in series[0]["values"]:
        if value not in ("NaN", "+Inf") and float(value) > THRESHOLD_MS:
            return float(ts)
    raise AssertionError(f"the condition never held between {start} and {end}: {series[0]['values']}")


def _breakers_closed(stack: Stack) -> None:
    """A breaker leaves the open state only on a call: send a few checkouts until both are closed."""

    def closed() -> bool:
        for _ in range(4):
            checkout(stack.url("checkout"), new_order_id("abort-warmup"))
        return slo_probes.circuit_breaker_closed()

    wait_until("closed payment breakers before the run", closed, timeout=60, interval=1)


def test_breach_halts_the_run_on_time_and_the_rollback_removes_the_fault_within_2s(
    stack: Stack, tmp_path: Path
) -> None:
    _breakers_closed(stack)
    started = time.time()
    with ToxicWatch(stack) as toxic:
        proc, journal = _chaos_run(tmp_path, _experiment(tmp_path, [P99_CRITERION]))
    output = proc.stdout + proc.stderr
    assert journal.get("status") == "aborted", output[-3000:]
    assert proc.returncode == 1  # an aborted run is not a success
    abort = journal["chaosext"]["abort"]
    assert abort["criterion"]["name"] == "checkout-p99" and "checkout-p99" in abort["reason"]
    assert abort["figures"]["value"] > THRESHOLD_MS
    assert "chaosext abort" in output
    halted = abort["at"]

    # the halt: after the condition held for its duration, within one scrape interval + 2 s of that
    condition_start = _condition_start(started, halted)
    late = halted - condition_start - FOR_SECONDS
    assert -SCRAPE_INTERVAL_S <= late <= SCRAPE_INTERVAL_S + 2, (condition_start, halted, late)
    assert toxic.added is not None and condition_start > toxic.added

    # the rollback: the toxic is gone within 2 s of the halt, seen from Toxiproxy itself
    assert toxic.removed is not None, "the latency toxic was never removed"
    assert 0 <= toxic.removed - halted <= 2.0, (halted, toxic.removed)
    print(f"abort measurement: condition true at {condition_start:.3f} (Prometheus), halted "
          f"{halted - condition_start:.2f}s later (for_seconds {FOR_SECONDS:g}, allowed up to "
          f"{FOR_SECONDS + SCRAPE_INTERVAL_S + 2:g}), toxic gone {toxic.removed - halted:.2f}s after halt")
    assert [r["status"] for r in journal["rollbacks"]] == ["succeeded", "succeeded"]
    assert dep_probes.dependency_faults("payment")["toxics"] == []
    assert markers.list_markers() == []
    run_id = journal["run"][0]["output"]["run_id"]
    assert not vegeta.alive(load_run(run_id).pid)

    # the journal carries the run's timeline and SLO phases for the report
    timeline = journal["chaosext"]["timeline"]
    assert timeline["thresholds"]["checkout-p99"]["threshold"] == THRESHOLD_MS
    assert timeline["series"]["client_p99_ms"] and timeline["series"]["server_p99_ms"]
    assert timeline["fault"][1] - timeline["fault"][0] < 30
    slo = journal["chaosext"]["slo"]
    assert slo["during"]["client"]["latency_ms"]["p50"] > slo["before"]["client"]["latency_ms"]["p50"] + 300


def test_no_breach_no_abort(stack: Stack, tmp_path: Path) -> None:
    relaxed = {**P99_CRITERION, "threshold": 60_000}
    lag = {
        "name": "consumer-lag",
        "query": "max(kafka_consumer_lag_seconds)",
        "operator": ">",
        "threshold": 600,
        "for_seconds": 0,
    }
    _breakers_closed(stack)
    proc, journal = _chaos_run(tmp_path, _experiment(tmp_path, [relaxed, lag], pause_s=4))
    assert journal.get("status") == "completed", (proc.stdout + proc.stderr)[-3000:]
    assert journal["chaosext"]["abort"] is None
    watch = journal["chaosext"]["abort_watch"]
    assert watch["evaluations"] >= 3
    assert watch["last"]["consumer-lag"]["value"] is not None
    assert markers.list_markers() == []


def test_bad_criteria_stop_the_run_before_anything_changes(stack: Stack, tmp_path: Path) -> None:
    bad = {**P99_CRITERION, "operator": "=>"}
    proc, journal = _chaos_run(tmp_path, _experiment(tmp_path, [bad], pause_s=4), timeout=60)
    assert proc.returncode != 0
    assert "'operator'" in proc.stdout + proc.stderr
    assert journal == {}  # validation failed: no run at all
    assert markers.list_markers() == []
    assert dep_probes.dependency_faults("payment")["toxics"] == []
