"""End-to-end loss check with canary events.

Canaries go to a dedicated topic (default ``chaosext.canary``, created on first use with 3
partitions, replication factor 3 and ``min.insync.replicas=2``, like ``orders``), so the
order-consumer never sees them. Each canary is a JSON object ``{"canary": tag, "seq": n, "id": ...}``
produced with ``acks=all`` by an idempotent producer; the ids Kafka acknowledged are recorded in
``$CHAOSEXT_STATE_DIR/kafka-canaries/<tag>.json``. After the fault, a group-less consumer reads the
whole topic and counts the acknowledged canaries it cannot find: those are lost.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import NewTopic
from aiokafka.errors import KafkaError
from chaoslib.exceptions import ActivityFailed

from chaosext.common.settings import state_root
from chaosext.kafka import admin
from chaosext.kafka.connection import Connection

__all__ = ["CANARY_TOPIC", "check_tag", "cluster_id", "find_key", "forget", "lost", "produce", "recorded"]

CANARY_TOPIC = "chaosext.canary"
_TAG = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def check_tag(tag: str) -> str:
    if not isinstance(tag, str) or not _TAG.match(tag):
        raise ActivityFailed(f"'tag' must be 1-64 letters, digits, '.', '_' or '-', got {tag!r}")
    return tag


def _record_file(tag: str) -> Path:
    folder = state_root() / "kafka-canaries"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{tag}.json"


def recorded(tag: str, cluster: str | None = None) -> list[str]:
    """The canaries tagged ``tag`` that Kafka acknowledged; with ``cluster``, only if they were
    produced to that Kafka cluster (a record from another cluster, e.g. the local stack's before a
    run on kind at the same addresses, is no evidence about this one)."""
    path = _record_file(tag)
    if not path.exists():
        return []
    data = json.loads(path.read_text())
    if cluster is not None and data.get("cluster_id") != cluster:
        return []
    return list(data.get("acked", []))


def forget(tag: str) -> None:
    _record_file(tag).unlink(missing_ok=True)


def _append(tag: str, ids: list[str], cluster: str) -> None:
    path = _record_file(tag)
    acked = recorded(tag, cluster) + ids
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"tag": tag, "cluster_id": cluster, "acked": acked}))
    tmp.replace(path)


async def cluster_id(conn: Connection) -> str:
    """The Kafka cluster's id, from its metadata."""
    async with admin.session(conn) as s:
        return await _cluster_of(s)


async def _cluster_of(s: admin.Session) -> str:
    return str((await s.admin.describe_cluster())["cluster_id"])


async def ensure_topic(conn: Connection, topic: str) -> str:
    """Create ``topic`` if it is missing; returns the Kafka cluster's id."""
    async with admin.session(conn) as s:
        cluster = await _cluster_of(s)
        if topic in await s.admin.list_topics():
            return cluster
        response = await s.admin.create_topics(
            [NewTopic(topic, 3, 3, topic_configs={"min.insync.replicas": "2"})], timeout_ms=15000
        )
        for item in response.to_object().get("topics", []):
            if item.get("error_code", 0) not in (0, 36):  # 36: already exists
                raise ActivityFailed(
                    f"creating the canary topic {topic!r} failed: error {item.get('error_code')} "
                    f"{item.get('error_message') or ''}"
                )
        return cluster


async def produce(conn: Connection, tag: str, count: int, interval_s: float, topic: str) -> dict[str, Any]:
    """Produce ``count`` canaries ``interval_s`` apart; record and report the acknowledged ones."""
    cluster = await ensure_topic(conn, topic)
    producer = AIOKafkaProducer(**conn.kwargs(acks="all", enable_idempotence=True, linger_ms=0))
    await producer.start()
    acked: list[str] = []
    failures: list[str] = []
    started = time.time()
    try:
        for seq in range(count):
            canary_id = f"{tag}-{uuid.uuid4().hex[:12]}"
            body = json.dumps({"canary": tag, "seq": seq, "id": canary_id, "at": time.time()}).encode()
            try:
                async with asyncio.timeout(15):
                    await producer.send_and_wait(
                        topic, value=body, key=canary_id.encode(), headers=[("chaosext-canary", tag.encode())]
                    )
                acked.append(canary_id)
            except (KafkaError, TimeoutError) as exc:
                failures.append(f"{canary_id}: {exc!r}")
            if interval_s > 0 and seq + 1 < count:
                await asyncio.sleep(interval_s)
    finally:
        await producer.stop()
        _append(tag, acked, cluster)
    return {
        "tag": tag,
        "topic": topic,
        "attempted": count,
        "acknowledged": len(acked),
        "not_acknowledged": len(failures),
        "errors": failures[:5],
        "seconds": round(time.time() - started, 2),
    }


async def lost(conn: Connection, tag: str, topic: str, timeout: float, cluster: str) -> dict[str, Any]:
    """Read ``topic`` from the start to its current end; report the canaries acknowledged by Kafka
    cluster ``cluster`` that are missing."""
    wanted = set(recorded(tag, cluster))
    seen: set[str] = set()
    consumer = AIOKafkaConsumer(
        **conn.kwargs(group_id=None, enable_auto_commit=False, auto_offset_reset="earliest")
    )
    await consumer.start()
    try:
        tps = await _partitions(conn, topic)
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await _at_end(consumer, ends):
                break
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            for records in batch.values():
                for rec in records:
                    try:
                        data = json.loads(rec.value or b"{}")
                    except ValueError:
                        continue
                    if isinstance(data, dict) and data.get("canary") == tag:
                        seen.add(str(data.get("id")))
        complete = await _at_end(consumer, ends)
    finally:
        await consumer.stop()
    missing = sorted(wanted - seen)
    return {
        "tag": tag,
        "topic": topic,
        "acknowledged": len(wanted),
        "found": len(wanted & seen),
        "lost": len(missing),
        "missing": missing[:20],
        "read_to_end": complete,
    }


async def _at_end(consumer: AIOKafkaConsumer, ends: dict[Any, int]) -> bool:
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return False
    return True


async def _partitions(conn: Connection, topic: str) -> list[Any]:
    async with admin.session(conn) as s:
        return await admin.topic_partitions(s, topic)


async def find_key(conn: Connection, topic: str, key: bytes, timeout: float, since_ms: int = 0) -> bool:
    """Whether ``topic`` holds a message with ``key`` written at or after ``since_ms`` (read from the
    start, waiting up to ``timeout``)."""
    consumer = AIOKafkaConsumer(
        **conn.kwargs(group_id=None, enable_auto_commit=False, auto_offset_reset="earliest")
    )
    await consumer.start()
    try:
        tps = await _partitions(conn, topic)
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            if any(
                rec.key == key and rec.timestamp >= since_ms for records in batch.values() for rec in records
            ):
                return True
        return False
    finally:
        await consumer.stop()
