"""Instance faults (process kill / stop) on the real local stack, seen from the client's side."""

from __future__ import annotations

import threading
import time
import xmlrpc.client
from typing import Any

import pytest
from chaoslib.exceptions import ActivityFailed
from e2e.helpers import checkout, new_order_id, wait_checkout_healthy
from stack_support import Stack
from support import wait_until

from chaosext.faults import markers
from chaosext.instance import actions, probes
from chaosext.stack.config import load_config
from chaosext.stack.supervisor import Supervisor

pytestmark = pytest.mark.stack
LOCAL: dict[str, Any] = {"target": "local"}


class CheckoutStream:
    """Checkouts in a background thread while a fault happens; collects status codes."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.codes: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.codes.append(checkout(self.base, new_order_id("stream"), timeout=10).status_code)
            except Exception:
                self.codes.append(0)
            time.sleep(0.05)

    def __enter__(self) -> CheckoutStream:
        wait_checkout_healthy(self.base)  # judge the fault, not what an earlier test left behind
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    @property
    def failures(self) -> list[int]:
        return [c for c in self.codes if c // 100 != 2]


def _pids(service: str) -> dict[str, int]:
    return {r["instance"]: r["pid"] for r in probes.instances_ready(service, configuration=LOCAL)["instances"]}


def test_kill_one_payment_instance_is_replaced_and_traffic_holds(stack: Stack) -> None:
    before = _pids("payment-service")
    with CheckoutStream(stack.url("checkout")) as stream:
        result = actions.kill_instances("payment-service", count=1, configuration=LOCAL)
        victim = result["killed"][0]
        assert victim["pid"] == before[victim["instance"]] and victim["signal"] == "SIGKILL"
        wait_until(
            "the supervisor to restart the killed instance",
            lambda: _pids("payment-service")[victim["instance"]] not in (0, victim["pid"]),
            timeout=30,
        )
        wait_until("30 checkouts during the kill", lambda: len(stream.codes) >= 30, timeout=30)
    assert not stream.failures, f"{len(stream.failures)} of {len(stream.codes)} checkouts failed"
    # restarted in place, the replica is ready again but its clock started again
    report = probes.instances_ready("payment-service", running_for_s=30, configuration=LOCAL)
    clocks = {r["instance"]: r["running_for_s"] for r in report["instances"]}
    assert clocks[victim["instance"]] < 30, report
    assert report["ready"] == sum(1 for clock in clocks.values() if clock >= 30) < len(clocks), report
    assert probes.instances_ready("payment-service", configuration=LOCAL)["ready"] == len(clocks)


def test_waiting_for_instances_holds_until_a_restarted_replica_has_run_long_enough(stack: Stack) -> None:
    """wait_for_instances, which experiments run before they inject, does not return while a
    replica that supervisor just restarted is younger than ``running_for_s``, and fails naming the
    service when it does not settle in time."""
    (victim,) = actions.kill_instances("payment-service", count=1, configuration=LOCAL)["killed"]
    wait_until("the supervisor to restart the killed instance",
               lambda: _pids("payment-service")[victim["instance"]] not in (0, victim["pid"]), timeout=30)
    with pytest.raises(ActivityFailed, match=r"payment-service did not settle within 'timeout' 1 s: [01] of 2 "):
        actions.wait_for_instances("payment-service", replicas=2, running_for_s=60, timeout=1, configuration=LOCAL)
    with pytest.raises(ActivityFailed, match=r"\(want 3\)"):
        actions.wait_for_instances("payment-service", replicas=3, timeout=1, configuration=LOCAL)
    settled = actions.wait_for_instances("payment-service", replicas=2, running_for_s=3, timeout=30,
                                         configuration=LOCAL)
    clocks = {r["instance"]: r["running_for_s"] for r in settled["instances"]}
    assert settled["ready"] == settled["total"] == 2 and min(clocks.values()) >= 3, settled
    assert settled["waited_s"] > 0, settled  # the restarted replica was younger than 3 s when asked


def test_stop_instance_for_a_duration_comes_back_by_itself(stack: Stack) -> None:
    record = actions.stop_instances("checkout-api", count=1, duration=3, configuration=LOCAL)
    stopped = record["changed"]["stopped"][0]
    states = {r["instance"]: r["state"] for r in probes.instances_ready("checkout-api", configuration=LOCAL)["instances"]}
    assert states[stopped] == "STOPPED"
    assert checkout(stack.url("checkout"), new_order_id("one-down")).status_code // 100 == 2
    wait_until(
        "the stopped instance to be started when the fault expires",
        lambda: probes.instances_ready("checkout-api", configuration=LOCAL)["ready"] == 2,
        timeout=10,
    )
    # the reaper undoes the fault first and drops its marker after: the marker goes a moment later
    wait_until("the reaper to drop the marker", lambda: markers.load(record["id"]) is None, timeout=5)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"service": "payment-service", "count": 2}, "guardrails"),
        ({"service": "order-consumer", "count": 1}, "guardrails"),
        ({"service": "no-such-service", "count": 1}, "no-such-service"),
        ({"service": "payment-service", "count": 0}, "count"),
        ({"service": "payment-service", "count": 1, "signal": "SIGNOPE"}, "signal"),
    ],
)
def test_bad_kill_arguments_change_nothing(stack: Stack, kwargs: dict[str, Any], needle: str) -> None:
    before = _pids("payment-service")
    with pytest.raises(ActivityFailed, match=needle):
        actions.kill_instances(configuration=LOCAL, **kwargs)
    assert _pids("payment-service") == before


def test_supervisords_answers_decode_as_xmlrpc_client_decodes_them(stack: Stack) -> None:
    """The stack's supervisor client decodes answers with ElementTree: the same values as
    xmlrpc.client, for the listing, one program, several at once and a fault."""
    from supervisor.xmlrpc import SupervisorTransport

    sup = Supervisor(load_config())
    plain = xmlrpc.client.ServerProxy(
        "http://127.0.0.1", transport=SupervisorTransport(None, None, f"unix://{sup.config.supervisor_socket}"))
    mine, theirs = sup.rpc.getAllProcessInfo(), plain.supervisor.getAllProcessInfo()
    assert [(p["name"], p["pid"], p["statename"]) for p in mine] == [(p["name"], p["pid"], p["statename"]) for p in theirs]
    assert {p["name"] for p in mine} >= {"payment-service-1", "payment-service-2", "checkout-api-1"}
    assert sup.rpc.getState() == plain.supervisor.getState()
    names = ["payment-service-1", "no-such-program"]
    assert [a.get("name", a.get("faultString")) for a in sup.infos_of(names)] == ["payment-service-1",
                                                                                  "BAD_NAME: no-such-program"]
    with pytest.raises(xmlrpc.client.Fault, match="BAD_NAME"):
        sup.rpc.getProcessInfo("no-such-program")
