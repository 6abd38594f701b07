"""The consume loop: handle each order event idempotently, dead-letter malformed ones, commit after handling."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from aiokafka.structs import TopicPartition
from prometheus_client import Counter
from servicekit.config import Tunables
from servicekit.kafka import BackgroundProducer
from servicekit.logs import KAFKA_CORRELATION_HEADER, set_correlation_id

from .capture import CaptureClient, CaptureRejected
from .events import MalformedEvent, parse_event
from .lag import LagTracker
from .processed import ProcessedStore
from .settings import Settings

log = logging.getLogger("consumer")

PROCESSED = Counter("orders_processed", "Order events processed (captured) for the first time")
DUPLICATES = Counter("orders_duplicate", "Order events skipped because the order was already processed")
DLQ = Counter("orders_dlq", "Malformed order events sent to the dead-letter topic")
HANDLING_ERRORS = Counter("orders_handling_errors", "Transient failures while handling an event (retried)")
COMMIT_FAILURES = Counter("kafka_commit_failures", "Offset commits that failed")

RETRY_CAP_S = 5.0


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, owner: OrderConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        log.info("partitions revoked: %s", sorted(str(tp) for tp in revoked))
        self.owner.lag.forget(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("joined group; partitions assigned: %s", sorted(str(tp) for tp in assigned))
        self.owner.joined = True


class OrderConsumer:
    def __init__(self, settings: Settings, tunables: Tunables, store: ProcessedStore,
                 capture: CaptureClient, dlq_producer: BackgroundProducer) -> None:
        self.settings = settings
        self.tunables = tunables
        self.store = store
        self.capture = capture
        self.dlq_producer = dlq_producer
        self.lag = LagTracker()
        self.joined = False
        self.consumer: AIOKafkaConsumer | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._run(), name="consume-loop"),
            loop.create_task(self._lag_loop(), name="lag-metrics"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _new_consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            group_id=self.settings.group_id,
            client_id=self.settings.base.instance,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_interval_ms=900_000,  # a message may be retried for a long time while capture is down
            session_timeout_ms=10_000,
            heartbeat_interval_ms=3_000,
            # a subscription to a topic that does not exist yet (on Kubernetes the consumer may
            # start before the topics Job ran) gets partitions at the next metadata refresh:
            # within 5 s, not the client's default 5 min
            metadata_max_age_ms=5_000,
        )

    async def _run(self) -> None:
        delay = 0.5
        while True:
            consumer = self._new_consumer()
            try:
                await consumer.start()
                consumer.subscribe([self.settings.orders_topic], listener=_Rebalance(self))
                self.consumer = consumer
                delay = 0.5
                log.info("consumer started", extra={"group_id": self.settings.group_id})
                async for msg in consumer:
                    await self._handle_until_done(msg)
                    await self._commit(consumer, msg)
            except KafkaError as exc:
                log.warning("Kafka consumer error (%s); restarting in %.1fs", exc, delay)
            finally:
                self.joined = False
                self.consumer = None
                with contextlib.suppress(Exception):
                    await consumer.stop()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_CAP_S)

    async def _handle_until_done(self, msg: ConsumerRecord[Any, Any]) -> None:
        """Handle `msg`; transient failures are retried with backoff, so no message is skipped."""
        headers = dict(msg.headers or ())
        raw_cid = headers.get(KAFKA_CORRELATION_HEADER)
        set_correlation_id(raw_cid.decode(errors="replace") if isinstance(raw_cid, bytes) else None)
        self.lag.started(msg.timestamp)
        delay = 0.2
        while True:
            try:
                await self._handle(msg)
                return
            except Exception as exc:  # anything but cancellation: retry, never skip
                HANDLING_ERRORS.inc()
                log.warning(
                    "handling %s/%d@%d failed (%s); retrying the same message in %.1fs",
                    msg.topic, msg.partition, msg.offset, exc, delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_CAP_S)

    async def _handle(self, msg: ConsumerRecord[Any, Any]) -> None:
        try:
            event = parse_event(msg.value)
        except MalformedEvent as exc:
            await self._dead_letter(msg, exc)
            return
        if await self.store.seen(event.order_id):
            DUPLICATES.inc()
            log.info("duplicate order event skipped", extra={"order_id": event.order_id, "offset": msg.offset})
            return
        try:
            await self.capture.capture(event)
        except CaptureRejected as exc:
            await self._dead_letter(msg, MalformedEvent("capture_rejected", str(exc)))
            return
        times = await self.store.mark(event.order_id)
        if times > 1:
            DUPLICATES.inc()
            log.warning("order processed concurrently twice", extra={"order_id": event.order_id, "times": times})
            return
        PROCESSED.inc()
        log.info("order processed", extra={"order_id": event.order_id, "partition": msg.partition,
                                           "offset": msg.offset})

    async def _dead_letter(self, msg: ConsumerRecord[Any, Any], exc: MalformedEvent) -> None:
        headers = [
            ("error", exc.code.encode()),
            ("error_detail", exc.detail[:1000].encode()),
            ("source_topic", msg.topic.encode()),
            ("source_partition", str(msg.partition).encode()),
            ("source_offset", str(msg.offset).encode()),
        ]
        headers += [(k, v) for k, v in (msg.headers or ()) if k == KAFKA_CORRELATION_HEADER]
        await self.dlq_producer.send(
            self.settings.dlq_topic, key=msg.key, value=msg.value or b"", headers=headers, timeout=10.0
        )
        DLQ.inc()
        log.warning(
            "malformed event sent to %s: %s", self.settings.dlq_topic, exc,
            extra={"error": exc.code, "partition": msg.partition, "offset": msg.offset},
        )

    async def _commit(self, consumer: AIOKafkaConsumer, msg: ConsumerRecord[Any, Any]) -> None:
        tp = TopicPartition(msg.topic, msg.partition)
        delay = 0.2
        for _ in range(5):
            try:
                await consumer.commit({tp: msg.offset + 1})
                self.lag.finished(tp, msg.offset + 1)
                return
            except (CommitFailedError, IllegalStateError) as exc:
                # the partition moved to another member: it re-reads from the last commit and dedups
                COMMIT_FAILURES.inc()
                log.warning("commit of %s@%d refused (%s); the new owner will dedup", tp, msg.offset, exc)
                self.lag.in_flight_ts = None
                return
            except KafkaError as exc:
                COMMIT_FAILURES.inc()
                log.warning("commit of %s@%d failed (%s); retrying in %.1fs", tp, msg.offset, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_CAP_S)
        self.lag.in_flight_ts = None
        log.error("giving up committing %s@%d; it will be redelivered and deduplicated", tp, msg.offset)

    async def _lag_loop(self) -> None:
        while True:
            await asyncio.sleep(float(self.tunables["lag_poll_s"]))
            consumer = self.consumer
            if consumer is None:
                continue
            try:
                await self._update_lag(consumer)
            except (KafkaError, OSError, TimeoutError) as exc:
                log.debug("lag update failed: %s", exc)

    async def _update_lag(self, consumer: AIOKafkaConsumer) -> None:
        assigned = set(consumer.assignment())
        if not assigned:
            self.lag.update({})
            return
        for tp in assigned - set(self.lag.committed):
            committed = await consumer.committed(tp)
            if committed is None:
                committed = (await consumer.beginning_offsets([tp]))[tp]
            self.lag.committed.setdefault(tp, committed)
        ends = await consumer.end_offsets(list(assigned))
        self.lag.update(ends)
