"""Dependency faults through the real Toxiproxy of the local stack, seen from the client's side."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from chaoslib.exceptions import ActivityFailed
from interrupt_support import assert_rollbacks_succeeded, cleanup_removes, interrupt_run, sigkilled_after
from stack_support import Stack
from support import wait_until

from chaosext.dependency import actions, probes
from chaosext.errors import ToolUnreachable
from chaosext.faults import markers

pytestmark = pytest.mark.stack


def _cfg(stack: Stack) -> dict[str, Any]:
    return {"target": "local", "toxiproxy_url": stack.url("toxiproxy")}


def _rtt(stack: Stack) -> float:
    # straight to the Toxiproxy listener of the payment path, TLS verified against the stack CA
    port = stack.endpoints["payment_via_toxiproxy"].rsplit(":", 1)[1]
    return probes.http_round_trip_ms(f"https://127.0.0.1:{port}/healthz", samples=5,
                                     ca_file=stack.endpoints["ca_file"])


def _toxics(stack: Stack) -> list[dict[str, Any]]:
    toxics: list[dict[str, Any]] = probes.dependency_faults("payment", configuration=_cfg(stack))["toxics"]
    return toxics


def test_latency_is_seen_by_the_client_within_5_percent_and_rollback_restores(stack: Stack) -> None:
    baseline = _rtt(stack)
    record = actions.add_latency("payment", latency_ms=500, duration=60, configuration=_cfg(stack))
    try:
        assert record["family"] == "dependency" and record["changed"]["toxic"]["type"] == "latency"
        injected = _rtt(stack) - baseline
        assert abs(injected - 500) <= 25, f"client saw {injected:.1f} ms extra for 500 ms injected"
    finally:
        removed = actions.remove_dependency_faults("payment", configuration=_cfg(stack))
    assert [r["id"] for r in removed] == [record["id"]]
    assert _toxics(stack) == []
    assert _rtt(stack) < baseline + 50
    assert markers.load(record["id"]) is None


def test_take_down_refuses_connections_then_expires_by_itself(stack: Stack) -> None:
    record = actions.take_dependency_down("payment", duration=2, configuration=_cfg(stack))
    port = int(stack.endpoints["payment_via_toxiproxy"].rsplit(":", 1)[1])
    with pytest.raises(requests.RequestException):
        requests.get(f"https://127.0.0.1:{port}/healthz", timeout=2, verify=stack.endpoints["ca_file"])
    started = record["started_at"]
    wait_until(
        "the proxy to be re-enabled when the fault expires",
        lambda: probes.dependency_faults("payment", configuration=_cfg(stack))["enabled"],
        timeout=6,
        interval=0.1,
    )
    assert time.time() - started < 2 + 2.5
    # the reaper re-enables the proxy first and drops its marker after
    wait_until("the reaper to drop the marker", lambda: markers.load(record["id"]) is None, timeout=5)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"proxy": "no-such-proxy"}, "no-such-proxy"),
        ({"duration": -5}, "duration"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"stream": "sideways"}, "stream"),
    ],
)
def test_bad_arguments_are_refused_and_change_nothing(stack: Stack, kwargs: dict[str, Any], needle: str) -> None:
    before = (len(markers.list_markers()), _toxics(stack))
    with pytest.raises(ActivityFailed, match=needle):
        actions.add_latency(configuration=_cfg(stack), **{"duration": 30, **kwargs})
    assert (len(markers.list_markers()), _toxics(stack)) == before


def _proxies(stack: Stack) -> dict[str, Any]:
    proxies: dict[str, Any] = requests.get(f"{stack.url('toxiproxy')}/proxies", timeout=5).json()
    return proxies


@pytest.mark.parametrize("proxy", ["no-such-proxy", "", "payment/../capture", "capture?x", "."])
@pytest.mark.parametrize("action", [actions.add_latency, actions.take_dependency_down])
def test_an_unknown_proxy_is_named_and_nothing_changes(stack: Stack, proxy: str, action: Any) -> None:
    """The fault's one request is refused by Toxiproxy; the error still names the argument and the
    proxies there, no marker is left, and a name that Toxiproxy's paths would clean into another
    proxy's ('payment/../capture') touches no proxy."""
    before = (markers.list_markers(), _proxies(stack))
    with pytest.raises(ActivityFailed, match=r"'proxy' .* does not exist on Toxiproxy .*\(known: capture, payment\)"):
        action(proxy, duration=30, configuration=_cfg(stack))
    assert (markers.list_markers(), _proxies(stack)) == before


def test_an_unreachable_toxiproxy_is_a_tooling_error_and_leaves_no_marker(stack: Stack) -> None:
    before = markers.list_markers()
    with pytest.raises(ToolUnreachable, match=r"Toxiproxy at http://127.0.0.1:9 is unreachable"):
        actions.add_latency("payment", duration=30, configuration={"toxiproxy_url": "http://127.0.0.1:9"})
    assert markers.list_markers() == before


def _experiment(tmp_path: Path, stack: Stack) -> Path:
    exp = {
        "title": "latency held while interrupted",
        "description": "signal test",
        "configuration": _cfg(stack),
        "method": [
            {"type": "action", "name": "add-latency",
             "provider": {"type": "python", "module": "chaosext.dependency.actions", "func": "add_latency",
                          "arguments": {"proxy": "payment", "latency_ms": 200, "duration": 300}}},
            {"type": "probe", "name": "wait", "provider": {"type": "process", "path": "sleep", "arguments": "120"}},
        ],
        "rollbacks": [
            {"type": "action", "name": "remove",
             "provider": {"type": "python", "module": "chaosext.dependency.actions",
                          "func": "remove_dependency_faults"}},
        ],
    }
    path = tmp_path / "exp.json"
    path.write_text(json.dumps(exp))
    return path


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_mid_fault_runs_the_rollback(stack: Stack, tmp_path: Path, sig: signal.Signals) -> None:
    journal, out = interrupt_run(_experiment(tmp_path, stack), tmp_path / "j.json", sig,
                                 ready=lambda: _toxics(stack), what="the latency toxic to be active")
    assert _toxics(stack) == [], out[-2000:]
    assert markers.list_markers(family="dependency") == []
    assert_rollbacks_succeeded(journal)


def test_sigkill_leaves_a_marker_that_cleanup_removes(stack: Stack) -> None:
    sigkilled_after("import os, signal; from chaosext.dependency import actions; "
                    f"actions.add_latency('payment', latency_ms=300, duration=600, configuration={_cfg(stack)!r}); "
                    "os.kill(os.getpid(), signal.SIGKILL)")
    assert len(_toxics(stack)) == 1 and len(markers.list_markers(family="dependency")) == 1
    cleanup_removes(1)
    assert _toxics(stack) == []
    assert markers.list_markers(family="dependency") == []
