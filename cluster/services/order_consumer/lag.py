"""Consumer lag metrics: messages behind per partition, and the age of the oldest unprocessed message."""

from __future__ import annotations

import time

from aiokafka.structs import TopicPartition
from prometheus_client import Gauge

LAG_MESSAGES = Gauge(
    "kafka_consumer_lag", "Messages not yet processed (high watermark - committed)", ["topic", "partition"]
)
LAG_SECONDS = Gauge("kafka_consumer_lag_seconds", "Age of the oldest unprocessed message (0 when caught up)")


class LagTracker:
    def __init__(self) -> None:
        self.committed: dict[TopicPartition, int] = {}
        self.in_flight_ts: float | None = None  # Kafka timestamp (s) of the message being handled
        self._behind_since: float | None = None
        self._exported: set[TopicPartition] = set()
        LAG_SECONDS.set(0)

    def started(self, timestamp_ms: int) -> None:
        self.in_flight_ts = timestamp_ms / 1000.0 if timestamp_ms and timestamp_ms > 0 else time.time()

    def finished(self, tp: TopicPartition, next_offset: int) -> None:
        self.in_flight_ts = None
        self.committed[tp] = next_offset

    def forget(self, partitions: set[TopicPartition]) -> None:
        for tp in partitions:
            self.committed.pop(tp, None)
            if tp in self._exported:
                LAG_MESSAGES.remove(tp.topic, str(tp.partition))
                self._exported.discard(tp)

    def update(self, end_offsets: dict[TopicPartition, int]) -> int:
        total = 0
        for tp, end in end_offsets.items():
            committed = self.committed.get(tp)
            if committed is None:
                continue
            lag = max(0, end - committed)
            total += lag
            LAG_MESSAGES.labels(topic=tp.topic, partition=str(tp.partition)).set(lag)
            self._exported.add(tp)
        now = time.time()
        if self.in_flight_ts is not None:
            self._behind_since = None
            LAG_SECONDS.set(max(0.0, now - self.in_flight_ts))
        elif total > 0:
            # behind but no message in hand (e.g. still fetching): age since the lag was first seen
            self._behind_since = self._behind_since or now
            LAG_SECONDS.set(now - self._behind_since)
        else:
            self._behind_since = None
            LAG_SECONDS.set(0)
        return total
