"""Kafka probes: brokers online, under-replicated partitions, consumer-group lag (messages and
seconds), dead-letter depth, malformed events dead-lettered, end-to-end canary loss, active faults."""

from __future__ import annotations

import time
from typing import Any

from aiokafka.structs import TopicPartition
from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext.common.waiting import WaitTimeout, wait_until_async
from chaosext.faults import markers
from chaosext.kafka import admin, canary, checks
from chaosext.kafka.connection import Connection, connection, run

__all__ = [
    "brokers_online",
    "canaries_lost",
    "consumer_lag",
    "consumer_lag_seconds",
    "dlq_contains",
    "dlq_depth",
    "kafka_faults",
    "partition_leader",
    "under_replicated_partitions",
]


async def _poll(conn: Connection, read: Any, done: Any, timeout: float) -> Any:
    """Read once; if ``done`` is not satisfied, read again every 0.5 s until ``timeout``. At the
    timeout: the last value read, or the last error raised again (a broker may be restarting)."""

    async def once() -> Any:
        async with admin.session(conn) as s:
            return await read(s)

    try:
        return await wait_until_async("a Kafka reading", once, done=done, timeout_s=timeout, interval_s=0.5,
                                      retry_on=(Exception,))
    except WaitTimeout as exc:
        if isinstance(exc.last, Exception):
            raise exc.last from None
        return exc.last


def brokers_online(
    expected: int | None = None,
    timeout: float = 0,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> int:
    """How many brokers the cluster metadata lists as alive. With ``expected``, waits up to
    ``timeout`` seconds for that many (returns the last count seen)."""
    wait = checks.seconds("timeout", timeout, zero_ok=True)
    want = checks.positive_int("expected", expected) if expected is not None else None
    conn = connection(configuration, secrets)
    ids = run(
        "counting brokers",
        lambda: _poll(conn, admin.brokers, lambda v: want is None or len(v) >= want, wait),
        timeout=wait + 30,
    )
    return len(ids)


def under_replicated_partitions(
    topic: str | None = None,
    timeout: float = 0,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> int:
    """Partitions (of ``topic``, or of every non-internal topic) whose in-sync replica set is smaller
    than their replica set. With ``timeout``, waits up to that long for the count to reach 0."""
    wait = checks.seconds("timeout", timeout, zero_ok=True)
    conn = connection(configuration, secrets)
    topics = [topic] if topic else None

    async def read(s: admin.Session) -> int:
        return sum(1 for p in await admin.partitions(s, topics) if p.under_replicated)

    return int(
        run(
            "counting under-replicated partitions",
            lambda: _poll(conn, read, lambda v: v == 0, wait),
            timeout=wait + 30,
        )
    )


def partition_leader(
    topic: str = "orders", partition: int = 0, configuration: Configuration = None, secrets: Secrets = None
) -> int:
    """The broker id leading ``topic``-``partition`` now."""
    part = checks.whole("partition", partition)
    conn = connection(configuration, secrets)

    async def read() -> int:
        async with admin.session(conn) as s:
            return await admin.partition_leader(s, topic, part)

    return run(f"finding the leader of {topic}-{partition}", read)


async def _lag(s: admin.Session, group: str, topic: str) -> dict[TopicPartition, dict[str, int]]:
    tps = await admin.topic_partitions(s, topic)
    committed = await admin.committed_offsets(s, group, tps)
    marks = await admin.watermarks(s, tps)
    rows = {}
    for tp in tps:
        begin, end = marks[tp]
        position = committed[tp] if committed[tp] >= 0 else begin
        rows[tp] = {
            "committed": committed[tp],
            "position": max(position, begin),
            "end": end,
            "lag": max(0, end - max(position, begin)),
        }
    return rows


def consumer_lag(
    group: str = "order-consumer",
    topic: str = "orders",
    timeout: float = 0,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> int:
    """Messages ``group`` has not processed yet on ``topic``: the sum over partitions of the log end
    offset minus the group's committed offset (from the log start when it has none). With
    ``timeout``, waits up to that long for it to reach 0 (returns the last value seen)."""
    wait = checks.seconds("timeout", timeout, zero_ok=True)
    conn = connection(configuration, secrets)

    async def read(s: admin.Session) -> int:
        return sum(r["lag"] for r in (await _lag(s, group, topic)).values())

    return int(
        run(
            f"reading the lag of group {group!r}",
            lambda: _poll(conn, read, lambda v: v == 0, wait),
            timeout=wait + 30,
        )
    )


def consumer_lag_seconds(
    group: str = "order-consumer",
    topic: str = "orders",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> float:
    """How far behind ``group`` is in time on ``topic``: the age of the oldest message it has not
    processed (its first uncommitted record's timestamp, read from the log); 0 when caught up."""
    conn = connection(configuration, secrets)

    async def read() -> float:
        async with admin.session(conn) as s:
            rows = await _lag(s, group, topic)
            behind = {tp: r["position"] for tp, r in rows.items() if r["lag"] > 0}
            stamps = await admin.record_timestamps(s, behind)
        if not behind:
            return 0.0
        now = time.time()
        return round(max((now - ts for ts in stamps.values()), default=0.0), 3)

    return run(f"reading the time lag of group {group!r}", read)


def dlq_depth(topic: str = "orders.dlq", configuration: Configuration = None, secrets: Secrets = None) -> int:
    """Messages in the dead-letter topic (sum over partitions of log end minus log start)."""
    conn = connection(configuration, secrets)

    async def read() -> int:
        async with admin.session(conn) as s:
            marks = await admin.watermarks(s, await admin.topic_partitions(s, topic))
        return sum(end - begin for begin, end in marks.values())

    return run(f"reading the depth of {topic!r}", read)


def dlq_contains(
    key: str,
    topic: str = "orders.dlq",
    timeout: float = 30,
    newer_than_s: float | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> bool:
    """Whether a message with ``key`` (e.g. a malformed event's) reaches the dead-letter topic within
    ``timeout`` seconds (only messages written in the last ``newer_than_s`` seconds count, if given)."""
    checks.non_empty("key", key)
    wait = checks.seconds("timeout", timeout, zero_ok=True)
    conn = connection(configuration, secrets)
    return run(
        f"looking for {key!r} in {topic!r}",
        lambda: canary.find_key(conn, topic, key.encode(), wait),
        timeout=wait + 30,
    )


def canaries_lost(
    tag: str,
    timeout: float = 30,
    topic: str = canary.CANARY_TOPIC,
    missing_ok: bool = False,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> int:
    """End-to-end loss check: how many canaries tagged ``tag`` that Kafka acknowledged cannot be read
    back from the canary topic (a group-less consumer reads it to its end, within ``timeout``).
    0 means none was lost. ``missing_ok``: 0 when no canary was recorded yet (a steady-state check
    that runs before the first canaries)."""
    canary.check_tag(tag)
    wait = checks.seconds("timeout", timeout, zero_ok=True)
    if not canary.recorded(tag):
        if missing_ok:
            return 0
        raise ActivityFailed(
            f"'tag' {tag!r}: no acknowledged canaries were recorded (run produce_canaries first)"
        )
    conn = connection(configuration, secrets)
    cluster = run("reading the Kafka cluster id", lambda: canary.cluster_id(conn), timeout=30)
    if not canary.recorded(tag, cluster):
        if missing_ok:
            return 0
        raise ActivityFailed(
            f"'tag' {tag!r}: the acknowledged canaries were produced to another Kafka cluster, "
            f"none to this one ({cluster}); run produce_canaries first"
        )
    report = run(f"reading canaries {tag!r}", lambda: canary.lost(conn, tag, topic, wait, cluster), timeout=wait + 30)
    if not report["read_to_end"]:
        raise ActivityFailed(f"could not read {topic!r} to its end within {wait:g}s: {report}")
    return int(report["lost"])


def kafka_faults(configuration: Configuration = None, secrets: Secrets = None) -> list[dict[str, Any]]:
    """The Kafka faults chaosext has active now (what each changed, when it ends)."""
    return [
        {
            "id": m.id,
            "kind": m.kind,
            "target": m.target,
            "description": m.description,
            "expires_at": m.expires_at,
        }
        for m in markers.list_markers(family="kafka")
    ]
