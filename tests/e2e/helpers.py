"""Small clients the end-to-end tests share: checkout calls, Kafka, a healthy checkout before a test."""

from __future__ import annotations

import asyncio
import uuid

import requests
from support import wait_until


def new_order_id(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def checkout(base: str, order_id: str, amount: float = 12.5, timeout: float = 10) -> requests.Response:
    return requests.post(
        f"{base}/api/checkout",
        json={"order_id": order_id, "amount": amount, "currency": "EUR"},
        timeout=timeout,
    )


def produce_raw(bootstrap: str, topic: str, key: bytes | None, value: bytes) -> None:
    from aiokafka import AIOKafkaProducer

    async def _run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(topic, value=value, key=key)
        finally:
            await producer.stop()

    asyncio.run(_run())


def wait_checkout_healthy(base: str, in_a_row: int = 8, timeout: float = 45) -> None:
    """Wait until ``in_a_row`` checkouts in a row succeed: each checkout replica has its own
    circuit breaker, and a previous test's dependency fault may have left one open (it closes
    after its reset time and a successful trial call)."""

    def healthy() -> bool:
        return all(checkout(base, new_order_id("warm")).status_code // 100 == 2 for _ in range(in_a_row))

    wait_until(f"{in_a_row} checkouts in a row to succeed", healthy, timeout=timeout, interval=1)
