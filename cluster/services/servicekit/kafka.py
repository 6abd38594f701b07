"""Kafka helpers: a producer started in the background with retries (the service runs while Kafka is down)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

log = logging.getLogger("kafka")

Headers = Sequence[tuple[str, bytes]]


class PublishFailure(Exception):
    pass


class BackgroundProducer:
    """An idempotent acks=all producer; `ready` once started. Start-up is retried until it succeeds."""

    def __init__(self, bootstrap: str, client_id: str) -> None:
        self.bootstrap = bootstrap
        self.client_id = client_id
        self.producer: AIOKafkaProducer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def ready(self) -> bool:
        return self.producer is not None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._connect(), name="kafka-producer-start")

    async def _connect(self) -> None:
        delay = 0.5
        while True:
            producer = AIOKafkaProducer(
                bootstrap_servers=self.bootstrap,
                client_id=self.client_id,
                acks="all",
                enable_idempotence=True,
                request_timeout_ms=10000,
                retry_backoff_ms=100,
                linger_ms=0,
            )
            try:
                await producer.start()
            except (KafkaError, OSError) as exc:
                log.warning("Kafka producer cannot start yet (%s); retrying in %.1fs", exc, delay)
                with contextlib.suppress(Exception):
                    await producer.stop()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            self.producer = producer
            log.info("Kafka producer started", extra={"bootstrap": self.bootstrap})
            return

    async def send(self, topic: str, key: bytes | None, value: bytes, headers: Headers, timeout: float) -> None:
        """Send and wait for the acks=all acknowledgement, within `timeout` seconds."""
        if self.producer is None:
            raise PublishFailure("Kafka producer is not connected yet")
        if timeout <= 0:
            raise PublishFailure("no time left in the budget to publish")
        try:
            async with asyncio.timeout(timeout):
                await self.producer.send_and_wait(topic, value=value, key=key, headers=list(headers))
        except TimeoutError:
            raise PublishFailure(f"publish to {topic} not acknowledged within {timeout:.2f}s") from None
        except KafkaError as exc:
            raise PublishFailure(f"publish to {topic} failed: {exc!r}") from None

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.producer is not None:
            await self.producer.stop()
