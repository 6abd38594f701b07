"""Consumer-side faults: pause or slow a consumer group's processing for a duration, and rewind
its committed offsets (which needs the group paused while the offsets are written).

Locally the consumer is a supervisor program (``order-consumer``): a pause stops it (it leaves
the group), a slow-down freezes it with SIGSTOP for a share of every period. On Kubernetes the
consumer is a Deployment: a pause scales it to 0, a slow-down scales it down to fewer replicas.
"""

from __future__ import annotations

import time
from typing import Any

import requests
from aiokafka.structs import TopicPartition
from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext.common.waiting import WaitTimeout, wait_until_async
from chaosext.faults import engine, markers
from chaosext.kafka import admin
from chaosext.kafka.connection import Connection, connection, run
from chaosext.kafka.driver import FAMILY, PAUSE, REWIND, SLOW, ConsumerSlowdown, KafkaDriver
from chaosext.target import driver_for

__all__ = ["PAUSE", "REWIND", "SLOW", "pause", "rewind", "slow"]



def _driver(configuration: Configuration) -> KafkaDriver:
    driver: KafkaDriver = driver_for(configuration, FAMILY)
    return driver


def _busy(consumer: str) -> None:
    for m in markers.list_markers(family=FAMILY, scope={"consumer": consumer}):
        if m.kind in (PAUSE, SLOW, REWIND):
            raise ActivityFailed(
                f"'consumer' {consumer!r} is already under Kafka fault {m.id} ({m.kind}); nothing changed"
            )


def pause(
    consumer: str, duration: float, namespace: str | None, configuration: Configuration, secrets: Secrets
) -> dict[str, Any]:
    seconds = engine.check_duration(duration)
    _busy(consumer)
    marker, apply = _driver(configuration).pause_marker(
        PAUSE,
        consumer,
        seconds,
        namespace,
        configuration,
        secrets,
        f"paused consumer {consumer!r} for {seconds:g}s",
    )
    return engine.activate(marker, apply)


def slow(
    consumer: str,
    duration: float,
    slowdown: float,
    period_s: float,
    replicas: int | None,
    namespace: str | None,
    configuration: Configuration,
    secrets: Secrets,
) -> dict[str, Any]:
    seconds = engine.check_duration(duration)
    try:
        share, period = float(slowdown), float(period_s)
    except (TypeError, ValueError):
        raise ActivityFailed(
            f"'slowdown' and 'period_s' must be numbers, got {slowdown!r}, {period_s!r}"
        ) from None
    if not 0 < share < 1:
        raise ActivityFailed(
            f"'slowdown' (share of each period the consumer is frozen) must be in (0, 1), got {slowdown!r}"
        )
    if not 0.05 <= period <= 10:
        raise ActivityFailed(f"'period_s' must be between 0.05 and 10 seconds, got {period_s!r}")
    _busy(consumer)
    request = ConsumerSlowdown(consumer, seconds, share, period, replicas, namespace)
    return _driver(configuration).slow_consumer(request, configuration, secrets)


# ---- rewind ----------------------------------------------------------------------------------------
async def _plan(
    conn: Connection, group: str, topic: str, messages: int | None, at_ms: int | None
) -> dict[TopicPartition, dict[str, int]]:
    async with admin.session(conn) as s:
        tps = await admin.topic_partitions(s, topic)
        committed = await admin.committed_offsets(s, group, tps)
        if all(off < 0 for off in committed.values()):
            raise ActivityFailed(f"'group' {group!r} has no committed offsets on topic {topic!r}")
        marks = await admin.watermarks(s, tps)
        targets = await admin.offsets_at(s, tps, at_ms) if at_ms is not None else {}
    plan: dict[TopicPartition, dict[str, int]] = {}
    for tp in tps:
        begin, end = marks[tp]
        before = committed[tp] if committed[tp] >= 0 else begin
        after = (
            max(begin, before - messages) if messages is not None else max(begin, min(targets[tp], before))
        )
        plan[tp] = {"before": before, "after": after, "log_start": begin, "log_end": end}
    return plan


async def _wait_empty(conn: Connection, group: str, timeout: float) -> str:
    async with admin.session(conn) as s:

        async def state() -> str:
            return str((await admin.group_state(s, group))["state"])

        try:
            return await wait_until_async(f"group {group!r} to have no members", state,
                                          done=lambda st: st in ("Empty", "Dead"), timeout_s=timeout,
                                          interval_s=0.25)
        except WaitTimeout as exc:
            raise ActivityFailed(
                f"group {group!r} still has active members {timeout:g}s after its consumer was paused "
                f"(state {exc.last}): is 'consumer' the right consumer of this group?"
            ) from None


async def _commit(conn: Connection, group: str, plan: dict[TopicPartition, dict[str, int]]) -> None:
    async with admin.session(conn) as s:
        await admin.commit_offsets(s, group, {tp: p["after"] for tp, p in plan.items()})


def rewind(
    group: str,
    topic: str,
    messages: int | None,
    at_ms: int | None,
    consumer: str,
    namespace: str | None,
    timeout: float,
    configuration: Configuration,
    secrets: Secrets,
    ready_url: str | None = None,
) -> dict[str, Any]:
    conn = connection(configuration, secrets)
    _busy(consumer)
    plan = run(
        f"reading the offsets of group {group!r} on {topic!r}",
        lambda: _plan(conn, group, topic, messages, at_ms),
    )
    # pause the group's consumer (recorded, time-bounded: it is resumed even if this process dies)
    marker, apply = _driver(configuration).pause_marker(
        REWIND,
        consumer,
        timeout + 60,
        namespace,
        configuration,
        secrets,
        f"consumer {consumer!r} paused to rewind group {group!r} on {topic!r}",
    )
    started = time.time()
    paused = engine.activate(marker, apply)
    try:
        _driver(configuration).wait_consumer_stopped(consumer, marker, timeout, configuration, secrets)
        state = run(
            f"waiting for group {group!r} to be empty",
            lambda: _wait_empty(conn, group, timeout),
            timeout=timeout + 10,
        )
        # the consumer may have committed more while it was stopping: re-read and rebase the plan
        fresh = run(
            f"reading the offsets of group {group!r}", lambda: _plan(conn, group, topic, messages, at_ms)
        )
        run(f"committing the rewound offsets of group {group!r}", lambda: _commit(conn, group, fresh))
    finally:
        engine.undo(paused["id"])
    back = _driver(configuration).wait_consumer_back(consumer, marker, timeout, configuration, secrets)
    reachable = _wait_ready_url(ready_url, timeout) if ready_url else None
    rows = [
        {"partition": tp.partition, **p, "redelivered": p["before"] - p["after"]}
        for tp, p in sorted(fresh.items(), key=lambda kv: kv[0].partition)
    ]
    return {
        "family": FAMILY,
        "kind": "rewind",
        "group": group,
        "topic": topic,
        "consumer": consumer,
        "group_state_while_rewinding": state,
        "partitions": rows,
        "redelivered_total": sum(r["redelivered"] for r in rows),
        "planned_before_pause": {tp.partition: p["after"] for tp, p in plan.items()},
        "consumer_paused_s": round(time.time() - started, 2),
        **({"consumer_back": back} if back is not None else {}),
        **({"ready_url": reachable} if reachable is not None else {}),
        "at": time.time(),
    }


def _wait_ready_url(url: str, timeout: float) -> dict[str, Any]:
    """Until ``url`` answers 2xx (within ``timeout`` seconds): the consumer serving again where the
    experiment looks at it. ActivityFailed with the last answer at the deadline."""
    started = time.monotonic()
    last = "no answer yet"
    while True:
        try:
            resp = requests.get(url, timeout=2)
            if resp.ok:
                return {"url": url, "status": resp.status_code, "seconds": round(time.monotonic() - started, 2)}
            last = f"HTTP {resp.status_code}"
        except requests.RequestException as exc:
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() - started > timeout:
            raise ActivityFailed(f"'ready_url' {url} did not answer 2xx within {timeout:g}s after the rewind: {last}")
        time.sleep(0.25)
