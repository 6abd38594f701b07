"""Kafka faults against the real local stack (3 KRaft brokers, the order-consumer), seen from the
victims' side: broker ports refuse connections, partitions lose their leader and ISR, the
consumer's process is stopped or frozen, its group's offsets move back, messages land in the DLQ.

Run with your own stack: CHAOSEXT_PORT_OFFSET=2000 CHAOSEXT_STATE_DIR=/tmp/kafka-state \
    .venv/bin/pytest -m stack tests/faults/test_kafka_faults.py
"""

from __future__ import annotations

import json
import re
import signal
import socket
import time
import uuid
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests
from chaoslib.exceptions import ActivityFailed
from e2e.helpers import produce_raw
from interrupt_support import assert_rollbacks_succeeded, cleanup_removes, interrupt_run, sigkilled_after
from stack_support import Stack
from support import wait_until

from chaosext.common import procs
from chaosext.faults import markers
from chaosext.kafka import actions, probes
from chaosext.stack.config import load_config
from chaosext.stack.supervisor import Supervisor

pytestmark = pytest.mark.stack

CFG: dict[str, Any] = {"target": "local"}


# ---- helpers ---------------------------------------------------------------------------------------
def _sup() -> Supervisor:
    return Supervisor(load_config())


def _state(program: str) -> dict[str, Any]:
    info: dict[str, Any] = _sup().processes()[program]
    return info


def _log_since(log: Path, size: int) -> str:
    """What the program wrote to ``log`` after it was ``size`` bytes long. supervisord rotates at
    20 MB (one backup, ``<log>.1``): after a rotation the rest of the old file is in the backup."""
    backup = log.with_name(log.name + ".1")
    current = log.read_bytes() if log.exists() else b""
    written = backup.read_bytes()[size:] + current if len(current) < size and backup.exists() else current[size:]
    return written.decode(errors="replace")


def _broker_port(broker: int) -> int:
    return load_config().kafka_ports[broker - 1]


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _healthy_cluster() -> None:
    """Every broker back, nothing under-replicated, the consumer running: the steady state."""
    wait_until(
        "every broker program RUNNING",
        lambda: all(_state(f"kafka-{i}")["statename"] == "RUNNING" for i in (1, 2, 3)),
        timeout=60,
    )
    assert probes.brokers_online(expected=3, timeout=90, configuration=CFG) == 3
    assert probes.under_replicated_partitions(timeout=120, configuration=CFG) == 0
    wait_until("order-consumer RUNNING", lambda: _state("order-consumer")["statename"] == "RUNNING", timeout=30)


@pytest.fixture(autouse=True)
def steady(stack: Stack) -> Any:
    _healthy_cluster()
    yield
    actions.restore_kafka(configuration=CFG)
    assert markers.list_markers(family="kafka") == []
    _healthy_cluster()


def _orders(stack: Stack, n: int) -> list[str]:
    """Publish ``n`` valid order events to ``orders`` (what checkout-api publishes)."""
    ids = []
    for _ in range(n):
        oid = f"kt-{uuid.uuid4().hex[:12]}"
        body = {"order_id": oid, "amount": 7.5, "currency": "EUR", "payment_id": f"pay_{oid}"}
        produce_raw(stack.endpoints["kafka_bootstrap"], "orders", oid.encode(), json.dumps(body).encode())
        ids.append(oid)
    return ids


def _consumer_metric(stack: Stack, name: str) -> float:
    text = requests.get(f"{stack.url('order_consumer')}/metrics", timeout=5).text
    match = re.search(rf"^{name}(?:\{{[^}}]*\}})? ([0-9.e+-]+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


def _processed(stack: Stack) -> dict[str, Any]:
    body: dict[str, Any] = requests.get(f"{stack.url('order_consumer')}/processed", timeout=5).json()
    return body


def _caught_up() -> None:
    wait_until("the order-consumer lag to reach 0", lambda: probes.consumer_lag(configuration=CFG) == 0, timeout=90)


def _frozen_share(pid: int, seconds: float) -> float:
    """The share of samples over ``seconds`` in which the process was stopped (state T)."""
    proc = psutil.Process(pid)
    samples = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        samples.append(proc.status())
        time.sleep(0.013)
    return samples.count(psutil.STATUS_STOPPED) / len(samples)


# ---- broker loss -----------------------------------------------------------------------------------
def test_killing_the_leader_of_a_partition_makes_it_unreachable_and_rollback_restores(stack: Stack) -> None:
    tag = f"kill-{uuid.uuid4().hex[:8]}"
    before = actions.produce_canaries(tag, count=10, configuration=CFG)
    assert before["acknowledged"] == 10
    leader = probes.partition_leader("orders", 0, configuration=CFG)
    record = actions.lose_brokers(topic="orders", partition=0, mode="kill", duration=120, configuration=CFG)
    try:
        assert record["brokers"] == [leader] and record["kind"] == "broker-loss"
        assert record["changed"]["brokers"][0]["how"] == "SIGKILL (ungraceful)"
        # victim's side: the broker's port refuses connections and it stays down (no supervisor restart)
        assert not _accepts(_broker_port(leader))
        assert _state(f"kafka-{leader}")["statename"] == "STOPPED"
        # the cluster sees it: orders-0 gets another leader, partitions lose an in-sync replica
        wait_until(
            "orders-0 to elect a new leader",
            lambda: probes.partition_leader("orders", 0, configuration=CFG) != leader,
            timeout=60,
        )
        wait_until(
            "partitions to be under-replicated",
            lambda: probes.under_replicated_partitions(configuration=CFG) > 0,
            timeout=60,
        )
        wait_until("2 brokers online", lambda: probes.brokers_online(configuration=CFG) == 2, timeout=60)
        during = actions.produce_canaries(tag, count=10, interval_s=0.1, configuration=CFG)
        assert during["acknowledged"] == 10, during
        time.sleep(1.0)  # the fault is held: still down a while later
        assert not _accepts(_broker_port(leader))
    finally:
        removed = actions.restore_kafka(configuration=CFG)
    assert [r["id"] for r in removed] == [record["id"]]
    assert probes.brokers_online(expected=3, timeout=90, configuration=CFG) == 3
    assert _accepts(_broker_port(leader))
    assert probes.under_replicated_partitions(timeout=120, configuration=CFG) == 0
    assert probes.canaries_lost(tag, timeout=60, configuration=CFG) == 0


def test_graceful_stop_shuts_down_cleanly_and_expires_by_itself(stack: Stack) -> None:
    log = Path(_state("kafka-3")["stdout_logfile"])
    size = log.stat().st_size
    record = actions.lose_brokers(brokers=3, mode="stop", duration=8, configuration=CFG)
    assert record["changed"]["brokers"][0]["how"] == "SIGTERM (graceful)"
    assert not _accepts(_broker_port(3))
    assert _state("kafka-3")["statename"] == "STOPPED"
    # supervisord may still be writing the last lines, and may have rotated the log meanwhile
    wait_until(
        "a controlled shutdown in the broker's log",
        lambda: re.search(r"shut ?down complete", _log_since(log, size), re.I),
        timeout=15,
    )
    wait_until("kafka-3 restarted at expiry", lambda: _state("kafka-3")["statename"] == "RUNNING", timeout=8 + 20)
    assert time.time() - record["started_at"] < 8 + 20
    wait_until("kafka-3 accepting connections", lambda: _accepts(_broker_port(3)), timeout=60)
    wait_until("the reaper to drop the marker", lambda: markers.load(record["id"]) is None, timeout=5)


# ---- consumer lag ----------------------------------------------------------------------------------
def test_pausing_the_consumer_grows_lag_and_rollback_drains_it(stack: Stack) -> None:
    _caught_up()
    record = actions.pause_consumer("order-consumer", duration=120, configuration=CFG)
    try:
        assert _state("order-consumer")["statename"] == "STOPPED"
        assert not _accepts(int(stack.url("order_consumer").rsplit(":", 1)[1]))
        ids = _orders(stack, 6)
        assert probes.consumer_lag(configuration=CFG) == 6
        wait_until("time lag >= 2 s", lambda: probes.consumer_lag_seconds(configuration=CFG) >= 2.0, timeout=30)
    finally:
        removed = actions.restore_kafka("consumer-pause", configuration=CFG)
    assert [r["id"] for r in removed] == [record["id"]]
    _caught_up()
    assert probes.consumer_lag_seconds(configuration=CFG) == 0.0
    wait_until("every paused order processed", lambda: set(ids) <= set(_processed(stack)["orders"]), timeout=60)


def test_slowing_the_consumer_freezes_it_for_the_share_asked_and_rollback_continues_it(stack: Stack) -> None:
    pid = int(_state("order-consumer")["pid"])
    record = actions.slow_consumer(
        "order-consumer", duration=120, slowdown=0.7, period_s=0.5, configuration=CFG
    )
    throttle = record["changed"]["throttle_pid"]
    try:
        frozen = _frozen_share(pid, 5)
        assert 0.55 <= frozen <= 0.85, f"frozen {frozen:.0%} of the time for 70% asked"
    finally:
        actions.restore_kafka("consumer-slow", configuration=CFG)
    assert procs.live(throttle) is None
    assert _frozen_share(pid, 0.5) == 0.0
    assert int(_state("order-consumer")["pid"]) == pid  # the same process, continued, not restarted
    ids = _orders(stack, 2)
    wait_until("orders processed after the slow-down", lambda: set(ids) <= set(_processed(stack)["orders"]), timeout=60)


# ---- duplicate delivery ----------------------------------------------------------------------------
def test_rewinding_by_messages_redelivers_them_and_nothing_is_processed_twice(stack: Stack) -> None:
    _orders(stack, 9)
    _caught_up()
    pid = int(_state("order-consumer")["pid"])
    record = actions.rewind_consumer_group("order-consumer", "orders", messages=2, configuration=CFG)
    # the consumer was stopped for the rewind (a group's offsets can only be written with no member)
    # and started again: a new process, whose counters start at 0
    assert int(_state("order-consumer")["pid"]) != pid
    duplicates = 0.0
    assert record["group_state_while_rewinding"] == "Empty"
    moved = record["redelivered_total"]
    assert moved == sum(min(2, p["before"] - p["log_start"]) for p in record["partitions"]) and moved > 0
    # victim's side: the consumer gets those messages again (its duplicate counter), charges nothing twice
    wait_until(
        f"{moved} redelivered messages seen by the consumer",
        lambda: _consumer_metric(stack, "orders_duplicate_total") >= duplicates + moved,
        timeout=90,
    )
    _caught_up()
    assert _processed(stack)["processed_more_than_once"] == []
    assert markers.list_markers(family="kafka") == []


def test_rewinding_to_a_timestamp_redelivers_what_came_after_it(stack: Stack) -> None:
    _orders(stack, 3)
    _caught_up()
    time.sleep(0.05)
    since = time.time()
    later = _orders(stack, 4)
    _caught_up()
    record = actions.rewind_consumer_group(to_timestamp=since, configuration=CFG)
    duplicates = 0.0  # a new consumer process (see above)
    assert record["redelivered_total"] == len(later)
    wait_until(
        "the orders after the timestamp redelivered",
        lambda: _consumer_metric(stack, "orders_duplicate_total") >= duplicates + len(later),
        timeout=90,
    )


# ---- malformed event -------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["not_json", "bad_amount", "tombstone"])
def test_malformed_event_goes_to_the_dlq_without_a_crash_loop(stack: Stack, kind: str) -> None:
    pid = int(_state("order-consumer")["pid"])
    depth = probes.dlq_depth(configuration=CFG)
    record = actions.publish_malformed_event("orders", kind=kind, configuration=CFG)
    assert record["offset"] >= 0 and record["key"].startswith("chaosext-malformed-")
    assert probes.dlq_contains(record["key"], timeout=60, configuration=CFG)
    assert probes.dlq_depth(configuration=CFG) == depth + 1
    _caught_up()
    assert int(_state("order-consumer")["pid"]) == pid and _state("order-consumer")["statename"] == "RUNNING"
    ids = _orders(stack, 1)
    wait_until("the next good order processed", lambda: set(ids) <= set(_processed(stack)["orders"]), timeout=60)


# ---- bad arguments ---------------------------------------------------------------------------------
def _snapshot() -> tuple[Any, ...]:
    states = {
        n: (i["statename"], i["pid"])
        for n, i in _sup().processes().items()
        if n.startswith("kafka-") or n == "order-consumer"
    }
    return (len(markers.list_markers()), states)


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("lose_brokers", {"brokers": [9]}, "'brokers' \\[9\\]"),
    ("lose_brokers", {"brokers": [1], "duration": -5}, "'duration'"),
    ("lose_brokers", {"brokers": [1], "mode": "explode"}, "'mode'"),
    ("lose_brokers", {"brokers": [1, 2]}, "guardrails"),
    ("lose_brokers", {"brokers": "x"}, "'brokers'"),
    ("lose_brokers", {"topic": "no-such-topic"}, "'topic' 'no-such-topic'"),
    ("lose_brokers", {"topic": "orders", "partition": 7}, "'partition' 7"),
    ("pause_consumer", {"consumer": "no-such-consumer"}, "'consumer'"),
    ("pause_consumer", {"duration": 0}, "'duration'"),
    ("slow_consumer", {"slowdown": 1.5}, "'slowdown'"),
    ("slow_consumer", {"period_s": 0}, "'period_s'"),
    ("rewind_consumer_group", {"messages": 0}, "'messages'"),
    ("rewind_consumer_group", {}, "exactly one of 'messages' or 'to_timestamp'"),
    ("rewind_consumer_group", {"messages": 1, "to_timestamp": 5}, "exactly one"),
    ("rewind_consumer_group", {"to_timestamp": "yesterday"}, "'to_timestamp'"),
    ("rewind_consumer_group", {"messages": 1, "topic": "no-such-topic"}, "'topic'"),
    ("rewind_consumer_group", {"messages": 1, "group": "no-such-group"}, "'group'"),
    ("publish_malformed_event", {"kind": "weird"}, "'kind'"),
    ("publish_malformed_event", {"topic": "no-such-topic"}, "'topic'"),
    ("produce_canaries", {"tag": "bad tag!"}, "'tag'"),
    ("restore_kafka", {"kind": "everything"}, "'kind'"),
]


@pytest.mark.parametrize(("action", "kwargs", "needle"), BAD, ids=[f"{a}-{n}" for a, _, n in BAD])
def test_bad_arguments_are_refused_and_change_nothing(
    stack: Stack, action: str, kwargs: dict[str, Any], needle: str
) -> None:
    before = _snapshot()
    offsets = probes.consumer_lag(configuration=CFG)
    with pytest.raises(ActivityFailed, match=needle):
        getattr(actions, action)(configuration=CFG, **kwargs)
    assert _snapshot() == before
    assert probes.consumer_lag(configuration=CFG) == offsets


def test_bad_probe_arguments_are_refused() -> None:
    with pytest.raises(ActivityFailed, match="'tag'"):
        probes.canaries_lost("never-produced-" + uuid.uuid4().hex[:6], configuration=CFG)
    with pytest.raises(ActivityFailed, match="'timeout'"):
        probes.brokers_online(expected=3, timeout=-1, configuration=CFG)
    with pytest.raises(ActivityFailed, match="'topic'"):
        probes.dlq_depth("no-such-topic", configuration=CFG)
    with pytest.raises(ActivityFailed, match="'kafka_bootstrap'"):
        probes.brokers_online(configuration={**CFG, "kafka_bootstrap": "nohostport"})
    with pytest.raises(ActivityFailed, match="'kafka_security_protocol'"):
        probes.brokers_online(configuration=CFG, secrets={"kafka_security_protocol": "CARRIER_PIGEON"})


# ---- interruptions ---------------------------------------------------------------------------------
def _experiment(tmp_path: Path, method: dict[str, Any]) -> Path:
    exp = {
        "title": "kafka fault held while interrupted",
        "description": "signal test",
        "configuration": CFG,
        "method": [
            method,
            {
                "type": "probe",
                "name": "wait",
                "provider": {"type": "process", "path": "sleep", "arguments": "120"},
            },
        ],
        "rollbacks": [
            {
                "type": "action",
                "name": "restore",
                "provider": {"type": "python", "module": "chaosext.kafka.actions", "func": "restore_kafka"},
            }
        ],
    }
    path = tmp_path / "exp.json"
    path.write_text(json.dumps(exp))
    return path


KILL_BROKER = {
    "type": "action",
    "name": "kill-broker",
    "provider": {
        "type": "python",
        "module": "chaosext.kafka.actions",
        "func": "lose_brokers",
        "arguments": {"brokers": [2], "mode": "kill", "duration": 300},
    },
}
SLOW = {
    "type": "action",
    "name": "slow-consumer",
    "provider": {
        "type": "python",
        "module": "chaosext.kafka.actions",
        "func": "slow_consumer",
        "arguments": {"duration": 300, "slowdown": 0.5},
    },
}


def _active(method: dict[str, Any]) -> bool:
    """The fault is fully applied: the broker is down, or the throttler runs."""
    found = markers.list_markers(family="kafka")
    if method is KILL_BROKER:
        return bool(found) and _state("kafka-2")["statename"] == "STOPPED"
    return bool(found) and bool(found[0].undo_args.get("throttle_pid"))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("method", [KILL_BROKER, SLOW], ids=["broker-loss", "consumer-slow"])
def test_signal_mid_fault_runs_the_rollback(
    stack: Stack, tmp_path: Path, sig: signal.Signals, method: dict[str, Any]
) -> None:
    journal, out = interrupt_run(_experiment(tmp_path, method), tmp_path / "j.json", sig,
                                 ready=lambda: _active(method), what="the Kafka fault to be active",
                                 chaos_args=("--no-log-file",))
    assert markers.list_markers(family="kafka") == [], out[-2000:]
    assert_rollbacks_succeeded(journal)
    if method is KILL_BROKER:
        wait_until("broker 2 back", lambda: _accepts(_broker_port(2)), timeout=60)
    else:
        pid = int(_state("order-consumer")["pid"])
        assert _frozen_share(pid, 0.5) == 0.0


@pytest.mark.parametrize("method", [KILL_BROKER, SLOW], ids=["broker-loss", "consumer-slow"])
def test_sigkill_leaves_a_marker_that_cleanup_removes(stack: Stack, method: dict[str, Any]) -> None:
    provider = method["provider"]
    sigkilled_after("import os, signal; from chaosext.kafka import actions; "
                    f"actions.{provider['func']}(configuration={CFG!r}, **{provider['arguments']!r}); "
                    "os.kill(os.getpid(), signal.SIGKILL)")
    assert len(markers.list_markers(family="kafka")) == 1
    if method is KILL_BROKER:
        assert not _accepts(_broker_port(2))  # still down: nobody rolled back
    cleanup_removes(1)
    assert markers.list_markers(family="kafka") == []
    if method is KILL_BROKER:
        wait_until("broker 2 back after cleanup", lambda: _accepts(_broker_port(2)), timeout=60)
    else:
        pid = int(_state("order-consumer")["pid"])
        assert _frozen_share(pid, 0.5) == 0.0
