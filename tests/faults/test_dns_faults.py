"""DNS faults through the real DNS server of the local stack, seen from the client's side."""

from __future__ import annotations

import json
import signal
import statistics
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from chaoslib.exceptions import ActivityFailed
from e2e.helpers import checkout, new_order_id
from interrupt_support import assert_rollbacks_succeeded, cleanup_removes, interrupt_run, sigkilled_after
from stack_support import Stack
from support import wait_until

from chaosext.dns import actions, probes
from chaosext.errors import ToolUnreachable
from chaosext.faults import markers

pytestmark = pytest.mark.stack
NAME = "payment.chaosext.test"


def _cfg(stack: Stack) -> dict[str, Any]:
    return {
        "target": "local",
        "dns_control_url": stack.url("dns_control"),
        "dns_server": stack.endpoints["dns"],
    }


def _server_faults(stack: Stack) -> dict[str, Any]:
    faults: dict[str, Any] = requests.get(f"{stack.url('dns_control')}/faults", timeout=5).json()["faults"]
    return faults


def _checkout_ms(stack: Stack, samples: int = 7) -> float:
    timings = []
    for _ in range(samples):
        start = time.perf_counter()
        resp = checkout(stack.url("checkout"), new_order_id("dns"))
        timings.append((time.perf_counter() - start) * 1000)
        assert resp.status_code == 201, resp.text
    return statistics.median(timings)


@pytest.fixture(autouse=True)
def _no_leftovers(stack: Stack) -> Any:
    yield
    actions.remove_dns_faults(configuration=_cfg(stack))
    assert _server_faults(stack) == {}


def test_delay_is_seen_within_5_percent_by_the_resolver_and_the_client_and_rollback_restores(
    stack: Stack,
) -> None:
    cfg = _cfg(stack)
    base_resolve = probes.resolve(NAME, samples=5, configuration=cfg)
    base_checkout = _checkout_ms(stack)
    assert base_resolve["rcode"] == "NOERROR" and base_resolve["answers"] == ["127.0.0.1"]
    record = actions.delay_dns(NAME, delay_ms=400, duration=60, configuration=cfg)
    try:
        assert record["family"] == "dns" and record["changed"]["fault"]["delay_ms"] == 400
        assert _server_faults(stack)[NAME]["kind"] == "delay"
        seen = probes.resolve(NAME, samples=5, configuration=cfg)
        injected = seen["latency_ms"] - base_resolve["latency_ms"]
        assert abs(injected - 400) <= 20, (
            f"resolver answered {injected:.1f} ms later for 400 ms injected: {seen}"
        )
        assert seen["answers"] == ["127.0.0.1"]
        # the victim: checkout-api resolves the payment name at every new connection
        extra = _checkout_ms(stack) - base_checkout
        assert abs(extra - 400) <= 20, f"checkout took {extra:.1f} ms longer for 400 ms of DNS delay"
    finally:
        removed = actions.remove_dns_faults(NAME, configuration=cfg)
    assert [r["id"] for r in removed] == [record["id"]]
    assert _server_faults(stack) == {}
    assert probes.resolve(NAME, samples=3, configuration=cfg)["latency_ms"] < base_resolve["latency_ms"] + 20
    assert _checkout_ms(stack) < base_checkout + 40
    assert markers.load(record["id"]) is None


def test_jitter_stays_within_its_bounds(stack: Stack) -> None:
    cfg = _cfg(stack)
    actions.delay_dns(NAME, delay_ms=300, jitter_ms=100, duration=60, configuration=cfg)
    seen = probes.resolve(NAME, samples=12, configuration=cfg)["samples_ms"]
    assert all(195 <= ms <= 460 for ms in seen), seen  # 300 +/- 100 ms, plus a loaded machine's overhead
    assert max(seen) - min(seen) > 20, f"no jitter visible: {seen}"


@pytest.mark.parametrize(
    ("failure", "rcode"), [("servfail", "SERVFAIL"), ("nxdomain", "NXDOMAIN"), ("no_answer", "TIMEOUT")]
)
def test_failures_make_clients_fail_safely_and_rollback_recovers(
    stack: Stack, failure: str, rcode: str
) -> None:
    cfg = _cfg(stack)
    record = actions.fail_dns(NAME, failure=failure, duration=60, configuration=cfg)
    assert record["kind"] == {"no_answer": "drop"}.get(failure, failure)
    seen = probes.resolve(NAME, samples=1, timeout=1.0, configuration=cfg)
    assert seen["rcode"] == rcode and seen["answers"] == [] and not seen["resolved"]
    start = time.monotonic()
    resp = checkout(stack.url("checkout"), new_order_id("dnsfail"), timeout=15)
    took = time.monotonic() - start
    # fails safely and visibly: a structured 503 within the checkout budget, not a hang
    assert resp.status_code == 503, resp.text
    assert resp.json()["error"] in ("payment_unavailable", "payment_timeout", "circuit_open"), resp.text
    assert took < 5, f"checkout took {took:.1f}s under {failure}"
    actions.remove_dns_faults(NAME, configuration=cfg)
    assert probes.resolve(NAME, samples=1, configuration=cfg)["rcode"] == "NOERROR"
    wait_until(
        "checkout to recover after the DNS fault was removed",
        lambda: checkout(stack.url("checkout"), new_order_id("dnsback")).status_code == 201,
        timeout=30,
        interval=0.5,
    )


def test_fault_expires_by_itself(stack: Stack) -> None:
    cfg = _cfg(stack)
    record = actions.fail_dns(NAME, failure="servfail", duration=2, configuration=cfg)
    assert probes.resolve(NAME, samples=1, configuration=cfg)["rcode"] == "SERVFAIL"
    wait_until(
        "the DNS fault to expire",
        lambda: probes.resolve(NAME, samples=1, configuration=cfg)["rcode"] == "NOERROR",
        timeout=6,
        interval=0.1,
    )
    wait_until("the reaper to drop the marker", lambda: markers.load(record["id"]) is None, timeout=6)
    assert time.time() - record["started_at"] < 2 + 4


@pytest.mark.parametrize(
    ("call", "kwargs", "needle"),
    [
        ("delay_dns", {"name": "bad name!.test"}, "'name'"),
        ("delay_dns", {"name": ""}, "'name'"),
        ("delay_dns", {"duration": -5}, "duration"),
        ("delay_dns", {"delay_ms": -1}, "delay_ms"),
        ("delay_dns", {"delay_ms": 100, "jitter_ms": 200}, "jitter_ms"),
        ("fail_dns", {"failure": "refused-ish"}, "failure"),
        ("fail_dns", {"name": "a..b"}, "'name'"),
    ],
)
def test_bad_arguments_are_refused_and_change_nothing(
    stack: Stack, call: str, kwargs: dict[str, Any], needle: str
) -> None:
    before = (len(markers.list_markers()), _server_faults(stack))
    with pytest.raises(ActivityFailed, match=needle):
        getattr(actions, call)(configuration=_cfg(stack), **{"duration": 30, **kwargs})
    assert (len(markers.list_markers()), _server_faults(stack)) == before


def test_second_fault_on_the_same_name_is_refused(stack: Stack) -> None:
    cfg = _cfg(stack)
    first = actions.delay_dns(NAME, delay_ms=100, duration=30, configuration=cfg)
    held = _server_faults(stack)[NAME]
    with pytest.raises(ActivityFailed, match=r"'name' .* already has a DNS fault .*\(delay\).*nothing changed"):
        actions.fail_dns(NAME, duration=30, configuration=cfg)
    assert _server_faults(stack)[NAME] == held, "the first fault is left as it was"
    assert [m.id for m in markers.list_markers(family="dns")] == [first["id"]]


def test_the_server_sets_a_fault_only_where_none_is_when_asked_if_none_match(stack: Stack) -> None:
    """``If-None-Match: *``: one request sets the fault only if the name has none, else 412 with
    the fault there, unchanged; an expired fault does not count. Without it a PUT replaces."""
    url = f"{stack.url('dns_control')}/faults/only-once.chaosext.test"
    first = {"kind": "delay", "delay_ms": 100, "expires_at": time.time() + 30}
    second = {"kind": "servfail", "expires_at": time.time() + 30}
    try:
        assert requests.put(url, json=first, headers={"If-None-Match": "*"}, timeout=5).status_code == 200
        refused = requests.put(url, json=second, headers={"If-None-Match": "*"}, timeout=5)
        assert refused.status_code == 412, refused.text
        assert refused.json()["fault"]["kind"] == "delay" and "already has a fault" in refused.json()["error"]
        assert _server_faults(stack)["only-once.chaosext.test"]["kind"] == "delay"
        assert requests.put(url, json=second, timeout=5).status_code == 200
        assert _server_faults(stack)["only-once.chaosext.test"]["kind"] == "servfail"
        requests.put(url, json={"kind": "nxdomain", "expires_at": time.time() + 0.3}, timeout=5)
        time.sleep(0.5)
        assert requests.put(url, json=first, headers={"If-None-Match": "*"}, timeout=5).status_code == 200
    finally:
        requests.delete(url, timeout=5)


def test_an_unreachable_control_api_is_a_tooling_error_and_leaves_no_marker(stack: Stack) -> None:
    before = markers.list_markers()
    with pytest.raises(ToolUnreachable, match=r"the DNS server's control API http://127.0.0.1:9 is unreachable"):
        actions.delay_dns(NAME, duration=30, configuration={**_cfg(stack), "dns_control_url": "http://127.0.0.1:9"})
    assert markers.list_markers() == before


def test_probe_refuses_bad_arguments(stack: Stack) -> None:
    with pytest.raises(ActivityFailed, match="'name'"):
        probes.resolve("*.chaosext.test", configuration=_cfg(stack))
    with pytest.raises(ActivityFailed, match="'record_type'"):
        probes.resolve(NAME, record_type="NOPE", configuration=_cfg(stack))
    with pytest.raises(ActivityFailed, match="'server'"):
        probes.resolve(NAME, server="127.0.0.1:notaport", configuration=_cfg(stack))


def _experiment(tmp_path: Path, stack: Stack) -> Path:
    exp = {
        "title": "DNS delay held while interrupted",
        "description": "signal test",
        "configuration": _cfg(stack),
        "method": [
            {
                "type": "action",
                "name": "delay-dns",
                "provider": {
                    "type": "python",
                    "module": "chaosext.dns.actions",
                    "func": "delay_dns",
                    "arguments": {"name": NAME, "delay_ms": 200, "duration": 300},
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
                "provider": {"type": "python", "module": "chaosext.dns.actions", "func": "remove_dns_faults"},
            },
        ],
    }
    path = tmp_path / "exp.json"
    path.write_text(json.dumps(exp))
    return path


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_mid_fault_runs_the_rollback(stack: Stack, tmp_path: Path, sig: signal.Signals) -> None:
    journal, out = interrupt_run(_experiment(tmp_path, stack), tmp_path / "j.json", sig,
                                 ready=lambda: _server_faults(stack), what="the DNS delay to be active",
                                 at_wait_step=True)
    assert _server_faults(stack) == {}, out[-2000:]
    assert markers.list_markers(family="dns") == []
    assert_rollbacks_succeeded(journal)


def test_sigkill_leaves_a_marker_that_cleanup_removes(stack: Stack) -> None:
    sigkilled_after("import os, signal; from chaosext.dns import actions; "
                    f"actions.delay_dns({NAME!r}, delay_ms=300, duration=600, configuration={_cfg(stack)!r}); "
                    "os.kill(os.getpid(), signal.SIGKILL)")
    assert NAME in _server_faults(stack) and len(markers.list_markers(family="dns")) == 1
    cleanup_removes(1)
    assert _server_faults(stack) == {}
    assert markers.list_markers(family="dns") == []
