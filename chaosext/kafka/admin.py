"""Read and change cluster state through Kafka's own protocol (aiokafka): brokers, partitions and
their ISR, consumer groups, offsets. Every function is async and takes an open :class:`Session`."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import OffsetAndMetadata, TopicPartition
from chaoslib.exceptions import ActivityFailed

from chaosext.kafka.connection import Connection

__all__ = [
    "PartitionInfo",
    "Session",
    "brokers",
    "commit_offsets",
    "committed_offsets",
    "group_state",
    "partition_leader",
    "partitions",
    "session",
    "watermarks",
]


@dataclass
class Session:
    conn: Connection
    admin: AIOKafkaAdminClient
    reader: AIOKafkaConsumer  # group-less: offsets and records, never commits


@asynccontextmanager
async def session(conn: Connection) -> AsyncIterator[Session]:
    admin = AIOKafkaAdminClient(**conn.kwargs())
    reader = AIOKafkaConsumer(**conn.kwargs(group_id=None, enable_auto_commit=False))
    await admin.start()
    try:
        await reader.start()
        try:
            yield Session(conn, admin, reader)
        finally:
            await reader.stop()
    finally:
        await admin.close()


@dataclass(frozen=True)
class PartitionInfo:
    topic: str
    partition: int
    leader: int
    replicas: list[int]
    isr: list[int]

    @property
    def under_replicated(self) -> bool:
        return len(self.isr) < len(self.replicas)


async def brokers(s: Session) -> list[int]:
    """Ids of the brokers the cluster's metadata lists as alive."""
    cluster = await s.admin.describe_cluster()
    return sorted(int(b["node_id"]) for b in cluster.get("brokers", []))


async def partitions(s: Session, topics: list[str] | None = None) -> list[PartitionInfo]:
    """Every partition of ``topics`` (all non-internal topics if None) with leader, replicas, ISR."""
    out: list[PartitionInfo] = []
    for t in await s.admin.describe_topics(topics):
        if t.get("error_code"):
            raise ActivityFailed(
                f"'topic' {t.get('topic')!r} cannot be described (Kafka error code {t['error_code']})"
            )
        if topics is None and (t.get("is_internal") or str(t["topic"]).startswith("__")):
            continue
        for p in t["partitions"]:
            out.append(
                PartitionInfo(
                    t["topic"],
                    int(p["partition"]),
                    int(p["leader"]),
                    [int(r) for r in p["replicas"]],
                    [int(r) for r in p["isr"]],
                )
            )
    return sorted(out, key=lambda p: (p.topic, p.partition))


async def topic_partitions(s: Session, topic: str) -> list[TopicPartition]:
    existing = set(await s.admin.list_topics())
    if topic not in existing:
        raise ActivityFailed(
            f"'topic' {topic!r} does not exist (known: {', '.join(sorted(existing)) or 'none'})"
        )
    return [TopicPartition(p.topic, p.partition) for p in await partitions(s, [topic])]


async def partition_leader(s: Session, topic: str, partition: int) -> int:
    infos = [p for p in await partitions(s, [topic]) if p.partition == partition]
    if not infos:
        raise ActivityFailed(f"'partition' {partition} does not exist in topic {topic!r}")
    if infos[0].leader < 0:
        raise ActivityFailed(f"{topic}-{partition} has no leader right now")
    return infos[0].leader


async def group_state(s: Session, group: str) -> dict[str, Any]:
    """The group's state (Stable, Empty, Dead, ...) and member client ids."""
    described = (await s.admin.describe_consumer_groups([group]))[0].to_object()["groups"][0]
    return {
        "group": group,
        "state": described["state"],
        "members": sorted(m["client_id"] for m in described["members"]),
    }


async def committed_offsets(s: Session, group: str, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
    """The group's committed offset per partition (-1 when it has none)."""
    found = await s.admin.list_consumer_group_offsets(group, partitions=tps)
    return {tp: (found[tp].offset if tp in found else -1) for tp in tps}


async def watermarks(s: Session, tps: list[TopicPartition]) -> dict[TopicPartition, tuple[int, int]]:
    """(log start, log end) offsets per partition."""
    begin = await s.reader.beginning_offsets(tps)
    end = await s.reader.end_offsets(tps)
    return {tp: (int(begin[tp]), int(end[tp])) for tp in tps}


async def offsets_at(s: Session, tps: list[TopicPartition], timestamp_ms: int) -> dict[TopicPartition, int]:
    """The first offset at or after ``timestamp_ms`` per partition (log end when there is none)."""
    found = await s.reader.offsets_for_times({tp: timestamp_ms for tp in tps})
    ends = await s.reader.end_offsets(tps)
    return {tp: (int(found[tp].offset) if found.get(tp) is not None else int(ends[tp])) for tp in tps}


async def record_timestamps(
    s: Session, wanted: dict[TopicPartition, int], timeout: float = 10.0
) -> dict[TopicPartition, float]:
    """The timestamp (s) of the record at ``wanted[tp]`` for each partition, read by a group-less consumer."""
    if not wanted:
        return {}
    consumer = AIOKafkaConsumer(**s.conn.kwargs(group_id=None, enable_auto_commit=False))
    await consumer.start()
    try:
        consumer.assign(list(wanted))
        for tp, offset in wanted.items():
            consumer.seek(tp, offset)
        found: dict[TopicPartition, float] = {}
        deadline = time.monotonic() + timeout
        while len(found) < len(wanted) and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500, max_records=len(wanted) * 2)
            for tp, records in batch.items():
                if tp not in found and records:
                    found[tp] = records[0].timestamp / 1000.0
                    consumer.pause(tp)
        return found
    finally:
        await consumer.stop()


async def commit_offsets(s: Session, group: str, offsets: dict[TopicPartition, int]) -> None:
    """Commit ``offsets`` for ``group`` as a member-less client (the group must have no active members)."""
    consumer = AIOKafkaConsumer(**s.conn.kwargs(group_id=group, enable_auto_commit=False))
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit({tp: OffsetAndMetadata(off, "chaosext rewind") for tp, off in offsets.items()})
    finally:
        await consumer.stop()
