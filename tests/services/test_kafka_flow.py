"""The Kafka path against a real KRaft broker: checkout -> orders -> order-consumer -> capture, DLQ, no loss."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from support import wait_until

from .conftest import DnsServer, ServiceFactory
from .helpers import PAYMENT_HOST, Service, TlsFiles, metric_value
from .kafka_broker import KafkaBroker

pytestmark = pytest.mark.usefixtures("flush_redis")


@pytest.fixture
def topics(kafka: KafkaBroker) -> tuple[str, str]:
    suffix = uuid.uuid4().hex[:8]
    orders, dlq = f"orders-{suffix}", f"orders-{suffix}.dlq"
    kafka.create_topics(orders, dlq)
    return orders, dlq


@pytest.fixture
def payment(start_service: ServiceFactory, payment_env: dict[str, str], tls: TlsFiles) -> Service:
    return start_service("payment_service", payment_env, scheme="https", verify=str(tls.ca_cert))


def start_consumer(start_service: ServiceFactory, kafka: KafkaBroker, topics: tuple[str, str], tls: TlsFiles,
                   dns: DnsServer, payment: Service, redis_url: str) -> Service:
    svc = start_service("order_consumer", {
        "KAFKA_BOOTSTRAP": kafka.bootstrap,
        "ORDERS_TOPIC": topics[0],
        "DLQ_TOPIC": topics[1],
        "GROUP_ID": f"group-{topics[0]}",
        "CAPTURE_URL": f"https://{PAYMENT_HOST}:{payment.port}/capture",
        "REDIS_URL": redis_url,
        "CA_FILE": str(tls.ca_cert),
        "DNS_SERVER": dns.address,
    })
    wait_until("order-consumer to join its group", lambda: svc.get("/readyz").status_code == 200, timeout=60, interval=0.1)
    return svc


def produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    async def go() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        try:
            for key, value in records:
                await producer.send_and_wait(topic, value=value, key=key)
        finally:
            await producer.stop()

    asyncio.run(go())


def read_all(bootstrap: str, topic: str, count: int, timeout: float = 30) -> list[Any]:
    async def go() -> list[Any]:
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                    enable_auto_commit=False, group_id=None)
        await consumer.start()
        got: list[Any] = []
        try:
            async with asyncio.timeout(timeout):
                while len(got) < count:
                    got.append(await consumer.getone())
        finally:
            await consumer.stop()
        return got

    return asyncio.run(go())


def event(order_id: str) -> bytes:
    return json.dumps({"order_id": order_id, "amount": 3.5, "currency": "EUR", "payment_id": f"pay_{order_id}",
                       "ts": 0}).encode()


def test_checkout_to_capture_exactly_once(start_service: ServiceFactory, kafka: KafkaBroker,
                                          topics: tuple[str, str], tls: TlsFiles, dns_server: DnsServer,
                                          payment: Service, redis_url: str) -> None:
    checkout = start_service("checkout_api", {
        "PAYMENT_URL": f"https://{PAYMENT_HOST}:{payment.port}", "CA_FILE": str(tls.ca_cert),
        "DNS_SERVER": dns_server.address, "KAFKA_BOOTSTRAP": kafka.bootstrap, "ORDERS_TOPIC": topics[0],
    })
    wait_until("checkout's Kafka producer", lambda: checkout.get("/readyz").status_code == 200, timeout=60, interval=0.1)
    consumer = start_consumer(start_service, kafka, topics, tls, dns_server, payment, redis_url)
    ids = [f"order-{i}" for i in range(10)]
    for oid in ids:
        resp = checkout.post("/api/checkout", json={"order_id": oid, "amount": 20, "currency": "EUR"},
                             headers={"X-Correlation-ID": f"cid-{oid}"})
        assert resp.status_code == 201, resp.text
        assert resp.json()["status"] == "paid" and resp.json()["payment_id"].startswith("pay_")
    # a client retry of a paid order: replayed by payment, published again, deduplicated by the consumer
    retry = checkout.post("/api/checkout", json={"order_id": ids[0], "amount": 20, "currency": "EUR"})
    assert retry.status_code == 201 and retry.json()["payment_replayed"] is True

    wait_until("all orders processed", lambda: consumer.get("/processed").json()["processed"] == 10, timeout=60, interval=0.1)
    wait_until(
        "the duplicate to be skipped",
        lambda: metric_value(consumer.metrics(), "orders_duplicate_total") == 1,
        timeout=30,
        interval=0.1,
    )
    processed = consumer.get("/processed").json()
    assert processed["orders"] == {oid: 1 for oid in ids}
    assert payment.get("/ledger").json()["double_charges"] == 0
    assert payment.get("/captures").json() == {"captures": {oid: 1 for oid in ids}, "total_captures": 10,
                                               "double_captures": 0}
    metrics = consumer.metrics()
    assert metric_value(metrics, "orders_processed_total") == 10
    wait_until("consumer lag back to 0", lambda: _total_lag(consumer) == 0, timeout=30, interval=0.1)
    assert metric_value(consumer.metrics(), "kafka_consumer_lag_seconds") == 0
    assert "cid-order-3" in consumer.logs(), "the correlation id travels in the Kafka header"
    assert metric_value(checkout.metrics(), "checkout_orders_total", {"outcome": "paid"}) == 11


def _total_lag(svc: Service) -> float | None:
    from prometheus_client.parser import text_string_to_metric_families

    samples = [s for f in text_string_to_metric_families(svc.metrics()) for s in f.samples
               if s.name == "kafka_consumer_lag"]
    return sum(s.value for s in samples) if samples else None


def test_malformed_events_go_to_the_dlq(start_service: ServiceFactory, kafka: KafkaBroker,
                                        topics: tuple[str, str], tls: TlsFiles, dns_server: DnsServer,
                                        payment: Service, redis_url: str) -> None:
    consumer = start_consumer(start_service, kafka, topics, tls, dns_server, payment, redis_url)
    produce(kafka.bootstrap, topics[0], [
        (b"bad-1", b"this is not json"),
        (b"bad-2", json.dumps({"order_id": "bad-2", "amount": -1, "currency": "EUR"}).encode()),
        (b"good-1", event("good-1")),
    ])
    wait_until(
        "the good order after the bad ones",
        lambda: consumer.get("/processed").json()["processed"] == 1,
        timeout=60,
        interval=0.1,
    )
    dead = read_all(kafka.bootstrap, topics[1], 2)
    by_key = {m.key: m for m in dead}
    assert set(by_key) == {b"bad-1", b"bad-2"}
    headers = {k: v.decode() for k, v in by_key[b"bad-1"].headers}
    assert headers["error"] == "not_json" and headers["source_topic"] == topics[0]
    assert headers["source_partition"].isdigit() and headers["source_offset"].isdigit()
    assert by_key[b"bad-1"].value == b"this is not json"
    assert dict(by_key[b"bad-2"].headers)["error"] == b"invalid_field"
    assert metric_value(consumer.metrics(), "orders_dlq_total") == 2
    assert consumer.proc is not None and consumer.proc.poll() is None


def test_capture_outage_loses_nothing(start_service: ServiceFactory, kafka: KafkaBroker,
                                      topics: tuple[str, str], tls: TlsFiles, dns_server: DnsServer,
                                      payment: Service, redis_url: str) -> None:
    consumer = start_consumer(start_service, kafka, topics, tls, dns_server, payment, redis_url)
    dns_server.set_address("127.0.0.2")  # capture unreachable by name
    try:
        produce(kafka.bootstrap, topics[0], [(b"late-1", event("late-1")), (b"late-2", event("late-2"))])
        wait_until(
            "capture retries",
            lambda: (metric_value(consumer.metrics(), "dependency_requests_total",
                                  {"dependency": "capture", "outcome": "connect_error"}) or 0) >= 3,
            timeout=30,
            interval=0.1,
        )
        assert consumer.get("/processed").json()["processed"] == 0
        wait_until(
            "lag to be visible",
            lambda: (metric_value(consumer.metrics(), "kafka_consumer_lag_seconds") or 0) > 0.5
            and (_total_lag(consumer) or 0) == 2,
            timeout=15,
            interval=0.1,
        )
        assert consumer.get("/readyz").status_code == 200
    finally:
        dns_server.set_address("127.0.0.1")
    wait_until(
        "both orders processed after the outage",
        lambda: consumer.get("/processed").json()["orders"] == {"late-1": 1, "late-2": 1},
        timeout=60,
        interval=0.1,
    )
    wait_until("lag back to 0", lambda: _total_lag(consumer) == 0, timeout=30, interval=0.1)
