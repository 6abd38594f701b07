"""Kafka fault actions: broker loss, consumer lag (pause / slow-down), duplicate delivery (offset
rewind), malformed events, canary production; each returns a record of exactly what it changed,
and the time-bounded ones are undone by ``restore_kafka`` (or when their duration ends)."""

from __future__ import annotations

import uuid
from typing import Any

from aiokafka import AIOKafkaProducer
from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext.faults import engine
from chaosext.kafka import brokers as broker_faults
from chaosext.kafka import canary, checks, consumers
from chaosext.kafka.connection import connection, run
from chaosext.target import setting

__all__ = [
    "lose_brokers",
    "pause_consumer",
    "produce_canaries",
    "publish_malformed_event",
    "restore_kafka",
    "rewind_consumer_group",
    "slow_consumer",
]

FAMILY = "kafka"

MALFORMED: dict[str, bytes | None] = {
    "not_json": b"{this is not json",
    "not_an_object": b'["an", "array"]',
    "missing_fields": b'{"order_id": "%(key)s"}',
    "bad_amount": b'{"order_id": "%(key)s", "amount": -5, "currency": "EUR", "payment_id": "pay_x"}',
    "bad_currency": b'{"order_id": "%(key)s", "amount": 10, "currency": "EURO", "payment_id": "pay_x"}',
    "tombstone": None,
}


def lose_brokers(
    brokers: list[int] | int | str | None = None,
    topic: str | None = None,
    partition: int = 0,
    count: int = 1,
    mode: str = "kill",
    duration: float = 60,
    statefulset: str = "kafka",
    namespace: str | None = None,
    broker_id_offset: int | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Take Kafka brokers down for ``duration`` seconds, then bring them back. ``mode``: ``kill``
    (SIGKILL / pod deleted with grace 0) or ``stop`` (SIGTERM, controlled shutdown / default grace).
    Victims: ``brokers`` (ids), else the leader of ``topic``-``partition`` (found through the admin
    API), else ``count`` random brokers. Locally the supervisor programs ``kafka-<id>``; on Kubernetes
    the pods ``<statefulset>-<id - broker_id_offset>`` (default: the configuration's
    ``broker_id_offset``, else 0), held down until the fault ends. Guardrails:
    at most ``max_replica_share`` of the brokers, never all (counting brokers already down)."""
    checks.choice("mode", mode, ("kill", "stop"))
    ids = checks.broker_ids(brokers)
    part = checks.whole("partition", partition)
    n = checks.positive_int("count", count)
    if broker_id_offset is None:
        configured = setting(configuration, "broker_id_offset", 0)
        broker_id_offset = int(configured) if isinstance(configured, str) and configured.isdigit() else configured
    offset = checks.whole("broker_id_offset", broker_id_offset)
    engine.check_duration(duration)
    if topic is not None and (not isinstance(topic, str) or not topic):
        raise ActivityFailed(f"'topic' must be a topic name, got {topic!r}")
    return broker_faults.lose(
        ids, topic, part, n, mode, duration, statefulset, namespace, offset, configuration, secrets
    )


def pause_consumer(
    consumer: str = "order-consumer",
    duration: float = 60,
    namespace: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Pause a consumer group's processing for ``duration`` seconds: locally stop the consumer
    program (it leaves the group); on Kubernetes scale its Deployment ``consumer`` to 0. Lag grows
    while it is paused; it is resumed when the fault ends or by ``restore_kafka``."""
    return consumers.pause(consumer, duration, namespace, configuration, secrets)


def slow_consumer(
    consumer: str = "order-consumer",
    duration: float = 60,
    slowdown: float = 0.8,
    period_s: float = 1.0,
    replicas: int | None = None,
    namespace: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Slow a consumer's processing for ``duration`` seconds. Locally the consumer process is frozen
    (SIGSTOP) for ``slowdown`` (0..1) of every ``period_s`` seconds, as a slow host or long GC pauses
    would; on Kubernetes its Deployment is scaled down to ``replicas`` (default half) for the duration."""
    return consumers.slow(consumer, duration, slowdown, period_s, replicas, namespace, configuration, secrets)


def rewind_consumer_group(
    group: str = "order-consumer",
    topic: str = "orders",
    messages: int | None = None,
    to_timestamp: str | float | None = None,
    consumer: str = "order-consumer",
    namespace: str | None = None,
    timeout: float = 60,
    ready_url: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Force redelivery: rewind ``group``'s committed offsets on ``topic`` by ``messages`` per
    partition, or to the first offset at ``to_timestamp`` (ISO-8601 or epoch seconds). Offsets can
    only be written while the group has no members, so its ``consumer`` is paused (stopped locally,
    scaled to 0 on Kubernetes), the offsets are committed, and the consumer is resumed (on
    Kubernetes: until its Deployment is available again). With ``ready_url`` (e.g. the consumer's
    /readyz as the experiment reaches it) it also waits, within ``timeout``, until that answers
    2xx: a Service or NodePort may route to the new pod a moment after the Deployment reports it
    available. Returns each partition's offsets before and after."""
    if (messages is None) == (to_timestamp is None):
        raise ActivityFailed("give exactly one of 'messages' or 'to_timestamp'")
    count = checks.positive_int("messages", messages) if messages is not None else None
    at_ms = checks.timestamp_ms(to_timestamp) if to_timestamp is not None else None
    seconds = engine.check_duration(timeout, "timeout")
    for name, value in (("group", group), ("topic", topic), ("consumer", consumer)):
        checks.non_empty(name, value)
    if ready_url is not None and (not isinstance(ready_url, str) or not ready_url.startswith(("http://", "https://"))):
        raise ActivityFailed(f"'ready_url' must be an http(s) URL, got {ready_url!r}")
    return consumers.rewind(group, topic, count, at_ms, consumer, namespace, seconds, configuration, secrets,
                            ready_url)


def publish_malformed_event(
    topic: str = "orders",
    kind: str = "not_json",
    payload: str | None = None,
    key: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Publish one malformed event to ``topic``: a built-in ``kind`` (not_json, not_an_object,
    missing_fields, bad_amount, bad_currency, tombstone) or your own ``payload`` string. Its key
    (default ``chaosext-malformed-<random>``) lets ``dlq_contains`` find it in the dead-letter topic.
    Returns where it was written (partition, offset)."""
    if payload is None:
        checks.choice("kind", kind, tuple(MALFORMED))
    elif not isinstance(payload, str):
        raise ActivityFailed(f"'payload' must be a string, got {type(payload).__name__}")
    if not isinstance(topic, str) or not topic:
        raise ActivityFailed(f"'topic' must be a topic name, got {topic!r}")
    event_key = key or f"chaosext-malformed-{uuid.uuid4().hex[:12]}"
    template = payload.encode() if payload is not None else MALFORMED[kind]
    value = template.replace(b"%(key)s", event_key.encode()) if template is not None else None
    conn = connection(configuration, secrets)

    async def publish() -> dict[str, Any]:
        from chaosext.kafka import admin

        async with admin.session(conn) as s:
            await admin.topic_partitions(s, topic)  # unknown topic: clear error, nothing published
        producer = AIOKafkaProducer(**conn.kwargs(acks="all", enable_idempotence=True))
        await producer.start()
        try:
            meta = await producer.send_and_wait(
                topic, value=value, key=event_key.encode(), headers=[("chaosext-fault", b"malformed-event")]
            )
        finally:
            await producer.stop()
        return {"partition": meta.partition, "offset": meta.offset, "timestamp_ms": meta.timestamp}

    where = run(f"publishing a malformed event to {topic!r}", publish)
    preview = None if value is None else value[:200].decode(errors="replace")
    return {
        "family": FAMILY,
        "kind": "malformed-event",
        "topic": topic,
        "key": event_key,
        "malformed_kind": kind if payload is None else "custom",
        "value": preview,
        **where,
    }


def produce_canaries(
    tag: str,
    count: int = 20,
    interval_s: float = 0.0,
    topic: str = canary.CANARY_TOPIC,
    fresh: bool = False,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Produce ``count`` canary events (``interval_s`` apart) tagged ``tag`` to the dedicated canary
    topic (created with RF 3 on first use; never read by the order-consumer), acks=all. The ids Kafka
    acknowledged are recorded so that ``canaries_lost(tag)`` can check none was lost; ``fresh``
    forgets the tag's earlier canaries first (start of a run)."""
    canary.check_tag(tag)
    n = checks.positive_int("count", count)
    interval = checks.seconds("interval_s", interval_s, zero_ok=True)
    conn = connection(configuration, secrets)
    return run(
        f"producing canaries {tag!r}",
        lambda: canary.produce(conn, tag, n, interval, topic),
        timeout=60 + n * (interval + 15),
    )


def restore_kafka(
    kind: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> list[dict[str, Any]]:
    """Rollback: undo every active Kafka fault chaosext made (of ``kind`` only, if given: broker-loss,
    consumer-pause, consumer-slow, rewind-pause): brokers started again, consumers resumed."""
    if kind is not None:
        checks.choice("kind", kind, (broker_faults.KIND, consumers.PAUSE, consumers.SLOW, consumers.REWIND))
    return engine.undo_matching(FAMILY, kind)
