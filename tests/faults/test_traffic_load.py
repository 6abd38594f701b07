"""Background load (Vegeta, constant arrival rate) against the real local stack, seen from the client."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from chaoslib.exceptions import ActivityFailed
from interrupt_support import assert_rollbacks_succeeded, cleanup_removes, interrupt_run, sigkilled_after
from stack_support import Stack
from support import free_port, wait_until

from chaosext.dependency import actions as dependency
from chaosext.faults import markers
from chaosext.traffic import actions, probes, vegeta
from chaosext.traffic.install import install_traffic_tools
from chaosext.traffic.runs import list_runs, load_run

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module", autouse=True)
def _vegeta() -> None:
    install_traffic_tools(lambda line: print(line, file=sys.stderr))


@contextmanager
def toxic_path(stack: Stack, toxic: dict[str, Any] | None) -> Iterator[str]:
    """A temporary Toxiproxy path to the checkout frontend, with ``toxic`` on it; yields its URL."""
    api = stack.url("toxiproxy")
    name, port = f"test-traffic-{os.getpid()}-{time.monotonic_ns()}", free_port()
    upstream = stack.url("checkout").removeprefix("http://")
    resp = requests.post(
        f"{api}/proxies", timeout=5, json={"name": name, "listen": f"127.0.0.1:{port}", "upstream": upstream}
    )
    resp.raise_for_status()
    try:
        if toxic:
            requests.post(
                f"{api}/proxies/{name}/toxics", json={"name": "t", "toxicity": 1.0, **toxic}, timeout=5
            ).raise_for_status()
        yield f"http://127.0.0.1:{port}"
    finally:
        requests.delete(f"{api}/proxies/{name}", timeout=5)


def _finished(run_id: str, timeout: float) -> dict[str, Any]:
    run = load_run(run_id)
    wait_until(f"load run {run_id} to end", lambda: not vegeta.alive(run.pid), timeout=timeout, interval=0.2)
    return probes.load_report(run_id)


def _vegeta_pids() -> set[int]:
    out = subprocess.run(["pgrep", "-f", "vegeta attack"], capture_output=True, text=True).stdout
    return {int(p) for p in out.split()}


def test_constant_rate_is_held_and_every_outcome_recorded(stack: Stack) -> None:
    record = actions.start_load(rate=25, duration=4, scenario="checkout")
    report = _finished(record["run_id"], timeout=30)
    assert report["requests"] == 100, report
    assert abs(report["offered_rate"] - 25) / 25 <= 0.02, report
    # every request has an outcome; checkouts really happened (the stack may shed some under load)
    assert sum(report["outcomes"].values()) == 100, report
    assert report["outcomes"].get("ok", 0) >= 50 and report["status_codes"].get("201", 0) >= 50, report
    assert set(report["status_codes"]) <= {"201", "503"}, report
    expected = 1 - report["outcomes"].get("ok", 0) / 100
    assert probes.client_error_ratio(run_id=record["run_id"]) == pytest.approx(expected)
    assert 0 < probes.client_latency_ms(0.5, run_id=record["run_id"]) <= probes.client_latency_ms(0.99)
    # the run's end stops it by itself; stop_load then only clears the marker
    stopped = actions.stop_load(record["run_id"])
    assert [s["run_id"] for s in stopped] == [record["run_id"]]
    assert markers.load(record["run_id"]) is None


def test_open_model_offered_rate_holds_when_every_answer_takes_3s(stack: Stack) -> None:
    # 100/s with 3 s answers = ~300 requests in flight: a closed-model tool would slow down
    with toxic_path(
        stack, {"type": "latency", "stream": "downstream", "attributes": {"latency": 3000}}
    ) as url:
        record = actions.start_load(rate=100, duration=6, scenario="catalog", base_url=url)
        report = _finished(record["run_id"], timeout=40)
    assert report["requests"] == 600, report
    assert abs(report["offered_rate"] - 100) / 100 <= 0.02, report
    assert report["latency_ms"]["p50"] >= 3000, report
    actions.stop_load(record["run_id"])


def test_measured_latency_is_within_5_percent_of_the_injected_latency(stack: Stack) -> None:
    with toxic_path(stack, None) as url:
        base = _finished(
            actions.start_load(rate=20, duration=4, scenario="catalog", base_url=url)["run_id"], 30
        )
    with toxic_path(
        stack, {"type": "latency", "stream": "downstream", "attributes": {"latency": 400}}
    ) as url:
        slow = _finished(
            actions.start_load(rate=20, duration=4, scenario="catalog", base_url=url)["run_id"], 30
        )
    added = slow["latency_ms"]["p50"] - base["latency_ms"]["p50"]
    assert abs(added - 400) / 400 <= 0.05, (base["latency_ms"], slow["latency_ms"])
    actions.stop_load()


def test_timeouts_and_refused_connections_count_as_errors(stack: Stack) -> None:
    hang = {"type": "timeout", "stream": "downstream", "attributes": {"timeout": 0}}
    with toxic_path(stack, hang) as url:
        hung = _finished(
            actions.start_load(rate=10, duration=2, scenario="catalog", base_url=url, timeout_s=1)["run_id"],
            30,
        )
    assert hung["outcomes"] == {"timeout": 20}, hung
    refused_run = actions.start_load(
        rate=10, duration=2, scenario="catalog", base_url=f"http://127.0.0.1:{free_port()}"
    )
    refused = _finished(refused_run["run_id"], 30)
    assert refused["outcomes"] == {"refused": 20}, refused
    assert probes.client_error_ratio(run_id=refused_run["run_id"]) == 1.0
    assert probes.client_error_ratio_below(0.02, run_id=refused_run["run_id"]) is False
    actions.stop_load()


def _remove_toxics(stack: Stack, url: str) -> None:
    """Take the toxics off the temporary path that serves ``url``."""
    api = stack.url("toxiproxy")
    listen = url.removeprefix("http://")
    (name,) = [n for n, p in requests.get(f"{api}/proxies", timeout=5).json().items() if p["listen"] == listen]
    requests.delete(f"{api}/proxies/{name}/toxics/t", timeout=5).raise_for_status()


def test_waiting_for_steady_load_holds_until_the_last_window_meets_the_baseline(stack: Stack) -> None:
    slow = {"type": "latency", "stream": "downstream", "attributes": {"latency": 400}}
    with toxic_path(stack, slow) as url:
        run_id = actions.start_load(rate=20, duration=120, scenario="catalog", base_url=url)["run_id"]
        try:
            # every answer takes 400 ms more: never steady against a 200 ms baseline
            with pytest.raises(ActivityFailed, match=r"not steady within 'timeout' 4 s: last 2 s: \d+ requests, "
                                                     r"p99 4\d\d(\.\d+)? ms, error ratio 0\.0; want p99 at most 200 ms"):
                actions.wait_for_steady_load(latency_at_most_ms=200, window_s=2, timeout=4, run_id=run_id)
            _remove_toxics(stack, url)
            steady = actions.wait_for_steady_load(latency_at_most_ms=200, window_s=2, timeout=30, run_id=run_id)
        finally:
            actions.stop_load(run_id)
    # it waited for a whole window without the toxic: its figures are the fast answers only
    assert steady["run_id"] == run_id and steady["waited_s"] > 0, steady
    assert steady["latency_ms_q"] <= 200 and steady["latency_ms"]["max"] < 400, steady
    assert steady["error_ratio"] == 0 and steady["requests"] >= 30, steady


def test_waiting_for_steady_load_fails_at_once_when_the_load_has_stopped(stack: Stack) -> None:
    refused = actions.start_load(rate=10, duration=2, scenario="catalog", base_url=f"http://127.0.0.1:{free_port()}")
    _finished(refused["run_id"], 30)
    started = time.monotonic()
    with pytest.raises(ActivityFailed, match=r"stopped before it was steady; last 60 s: 20 requests, p99 [\d.]+ "
                                             r"ms, error ratio 1\.0"):
        actions.wait_for_steady_load(latency_at_most_ms=800, window_s=60, timeout=300, run_id=refused["run_id"])
    assert time.monotonic() - started < 60, "it waited for the timeout instead of failing when the load stopped"
    actions.stop_load()


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"rate": -1}, "rate"),
        ({"rate": "fast"}, "rate"),
        ({"duration": 0}, "duration"),
        ({"scenario": "browse"}, "scenario"),
        ({"timeout_s": "soon"}, "timeout_s"),
        ({"max_workers": 0}, "max_workers"),
        ({"base_url": "ftp://example"}, "base_url"),
    ],
)
def test_bad_arguments_are_refused_and_start_nothing(
    stack: Stack, kwargs: dict[str, Any], needle: str
) -> None:
    before = (len(markers.list_markers()), len(list_runs()), _vegeta_pids())
    with pytest.raises(ActivityFailed, match=needle):
        actions.start_load(**{"duration": 5, **kwargs})
    assert (len(markers.list_markers()), len(list_runs()), _vegeta_pids()) == before


def test_probe_arguments_are_checked(stack: Stack) -> None:
    with pytest.raises(ActivityFailed, match="quantile"):
        probes.client_latency_ms(quantile=99)
    with pytest.raises(ActivityFailed, match="window_s"):
        probes.client_error_ratio(window_s=-3)
    with pytest.raises(ActivityFailed, match="run_id"):
        probes.load_report(run_id="traffic-nope")


def test_stop_load_stops_a_running_attack_at_once(stack: Stack) -> None:
    record = actions.start_load(rate=20, duration=300, scenario="catalog")
    pid = record["run"]["pid"]
    wait_until("some load", lambda: probes.load_report(record["run_id"])["requests"] >= 20, timeout=20)
    started = time.monotonic()
    stopped = actions.stop_load()
    assert time.monotonic() - started < 6
    assert not vegeta.alive(pid)
    assert [s["run_id"] for s in stopped] == [record["run_id"]]
    assert stopped[0]["summary"]["requests"] >= 20
    assert markers.list_markers(family="traffic") == []


def _experiment(tmp_path: Path) -> Path:
    exp = {
        "title": "load held while interrupted",
        "description": "signal test",
        "method": [
            {
                "type": "action",
                "name": "load",
                "provider": {
                    "type": "python",
                    "module": "chaosext.traffic.actions",
                    "func": "start_load",
                    "arguments": {"rate": 20, "duration": 300, "scenario": "catalog"},
                },
            },
            {
                "type": "action",
                "name": "latency",
                "provider": {
                    "type": "python",
                    "module": "chaosext.dependency.actions",
                    "func": "add_latency",
                    "arguments": {"latency_ms": 100, "duration": 300},
                },
            },
            {
                "type": "probe",
                "name": "wait",
                "provider": {"type": "process", "path": "sleep", "arguments": "120"},
            },
        ],
        "rollbacks": [
            {
                "type": "action",
                "name": "remove",
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


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_mid_load_runs_the_rollback(stack: Stack, tmp_path: Path, sig: signal.Signals) -> None:
    seen: dict[str, int] = {}

    def active() -> bool:  # load and latency are both on; remember the attack's pid
        if len(markers.list_markers()) != 2:
            return False
        seen["vegeta"] = load_run(markers.list_markers(family="traffic")[0].id).pid
        return vegeta.alive(seen["vegeta"])

    journal, out = interrupt_run(_experiment(tmp_path), tmp_path / "j.json", sig, ready=active,
                                 what="load and latency to be active")
    assert markers.list_markers() == [], out[-2000:]
    assert not vegeta.alive(seen["vegeta"])
    assert_rollbacks_succeeded(journal, count=2)
    assert dependency_toxics(stack) == []


def dependency_toxics(stack: Stack) -> list[dict[str, Any]]:
    from chaosext.dependency import probes as dep_probes

    toxics: list[dict[str, Any]] = dep_probes.dependency_faults("payment")["toxics"]
    return toxics


def test_sigkill_leaves_a_marker_that_cleanup_removes(stack: Stack) -> None:
    proc = sigkilled_after("import os, signal; from chaosext.traffic import actions; "
                           "r = actions.start_load(rate=10, duration=600, scenario='catalog'); "
                           "print(r['run']['pid'], flush=True); os.kill(os.getpid(), signal.SIGKILL)")
    pid = int(proc.stdout.split()[0])
    assert vegeta.alive(pid) and [m.id for m in markers.list_markers(family="traffic")] == [
        m.id for m in markers.list_markers(family="traffic") if load_run(m.id).pid == pid
    ]
    cleanup_removes(1)
    wait_until("the orphaned attack to stop", lambda: not vegeta.alive(pid), timeout=10)
    assert markers.list_markers(family="traffic") == []


def test_load_ends_by_itself_and_the_reaper_clears_its_marker(stack: Stack) -> None:
    record = actions.start_load(rate=10, duration=1, scenario="catalog")
    _finished(record["run_id"], timeout=20)
    expires = record["expires_at"]
    assert expires - record["started_at"] <= 1 + actions.STOP_GRACE_S + 1
    wait_until(
        "the reaper to clear the finished run's marker",
        lambda: markers.load(record["run_id"]) is None,
        timeout=actions.STOP_GRACE_S + 10,
        interval=0.5,
    )
    assert dependency.remove_dependency_faults() == []


def test_kubernetes_target_needs_a_checkout_url_and_starts_nothing_without_it() -> None:
    before = (len(markers.list_markers()), len(list_runs()))
    with pytest.raises(ActivityFailed, match="checkout_url"):
        actions.start_load(rate=5, duration=5, configuration={"target": "kubernetes"})
    with pytest.raises(ActivityFailed, match="checkout_url"):
        actions.start_load(
            rate=5, duration=5, configuration={"target": "kubernetes", "checkout_url": "tcp://x"}
        )
    assert (len(markers.list_markers()), len(list_runs())) == before
