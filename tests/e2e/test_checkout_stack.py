"""Issue 2, point 5: the sample checkout stack on real components, end to end.

Everything here runs against the real local stack (Kafka x3, Toxiproxy, HAProxy, Prometheus, the
DNS server, Redis, supervisord, the services): nothing is mocked.
"""

from __future__ import annotations

import json
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from e2e.helpers import checkout, new_order_id, produce_raw, wait_checkout_healthy
from stack_support import Stack
from support import wait_until

pytestmark = pytest.mark.stack


def _payment_verify(stack: Stack) -> str | bool:
    ca = stack.endpoints.get("ca_file")
    return str(ca) if ca else False


def _processed(stack: Stack) -> dict[str, Any]:
    result: dict[str, Any] = requests.get(f"{stack.url('order_consumer')}/processed", timeout=5).json()
    return result


def _ledger(stack: Stack, key: str) -> dict[str, Any]:
    resp = requests.get(f"{stack.url('payment')}/ledger/{key}", timeout=5, verify=_payment_verify(stack))
    result: dict[str, Any] = resp.json()
    return result


def _component(stack_status: dict[str, Any], name: str) -> dict[str, Any]:
    for comp in stack_status["components"]:
        if comp["name"] == name:
            return dict(comp)
    raise AssertionError(f"no component {name!r} in status: {[c['name'] for c in stack_status['components']]}")


def test_fifty_checkouts_succeed_and_each_event_is_processed_once(stack: Stack) -> None:
    ids = [new_order_id("fifty") for _ in range(50)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda oid: checkout(stack.url("checkout"), oid), ids))
    bad = [(r.status_code, r.text[:200]) for r in responses if r.status_code // 100 != 2]
    assert not bad, f"{len(bad)} of 50 checkouts failed: {bad[:5]}"
    assert all(r.json()["status"] == "paid" for r in responses)

    def all_processed() -> dict[str, int] | None:
        orders = _processed(stack)["orders"]
        seen = {oid: orders.get(oid, 0) for oid in ids}
        return seen if all(seen.values()) else None

    seen = wait_until("all 50 order events to be processed", all_processed, timeout=60)
    assert set(seen) == set(ids)
    assert all(count == 1 for count in seen.values()), {k: v for k, v in seen.items() if v != 1}
    # every order was charged exactly once
    charges = [_ledger(stack, oid)["count"] for oid in ids[:10]]
    assert charges == [1] * 10


def test_retried_charge_with_same_idempotency_key_charges_once(stack: Stack) -> None:
    key = new_order_id("idem")
    body = {"order_id": key, "amount": 40.0, "currency": "EUR"}
    url = f"{stack.url('payment')}/charge"
    verify = _payment_verify(stack)

    def charge(_: int) -> requests.Response:
        return requests.post(url, json=body, headers={"Idempotency-Key": key}, timeout=10, verify=verify)

    # concurrent retries (they reach both replicas through the load balancer), then a late retry
    with ThreadPoolExecutor(max_workers=4) as pool:
        first = list(pool.map(charge, range(4)))
    late = charge(5)
    responses = [*first, late]
    assert all(r.status_code // 100 == 2 for r in responses), [(r.status_code, r.text) for r in responses]
    payment_ids = {r.json()["payment_id"] for r in responses}
    assert len(payment_ids) == 1, payment_ids
    assert late.headers.get("Idempotent-Replayed", "").lower() == "true"
    assert _ledger(stack, key)["count"] == 1


def test_malformed_event_goes_to_dlq_and_consumer_keeps_consuming(stack: Stack) -> None:
    bootstrap = stack.endpoints["kafka_bootstrap"]
    marker = new_order_id("malformed")
    produce_raw(bootstrap, "orders", key=marker.encode(), value=b"{not json " + marker.encode())

    from chaosext.kafka.probes import dlq_contains

    assert dlq_contains(marker, "orders.dlq", timeout=60, configuration={"kafka_bootstrap": bootstrap}), \
        "the malformed event never reached orders.dlq"
    # the consumer is still alive and processes the next good event
    good = new_order_id("after-malformed")
    assert checkout(stack.url("checkout"), good).status_code // 100 == 2
    wait_until("the next good event", lambda: _processed(stack)["orders"].get(good) == 1, timeout=60)
    consumer = _component(json.loads(_status_json()), "order-consumer")
    assert consumer["healthy"], consumer


def _status_json() -> str:
    from stack_support import chaosext

    return chaosext("stack", "status", "--json").stdout


def test_payment_latency_gets_structured_error_within_budget(stack: Stack) -> None:
    toxiproxy = stack.url("toxiproxy")
    toxic = {"name": "e2e_latency", "type": "latency", "stream": "downstream",
             "toxicity": 1.0, "attributes": {"latency": 3000, "jitter": 0}}
    created = requests.post(f"{toxiproxy}/proxies/payment/toxics", json=toxic, timeout=5)
    assert created.status_code in (200, 201), created.text
    try:
        timings: list[float] = []
        for _ in range(3):
            start = time.monotonic()
            resp = checkout(stack.url("checkout"), new_order_id("slow"), timeout=30)
            elapsed = time.monotonic() - start
            timings.append(elapsed)
            assert resp.status_code == 503, resp.text
            assert resp.headers.get("Retry-After"), resp.headers
            body = resp.json()
            assert body["error"] in {"payment_timeout", "payment_unavailable", "circuit_open"}, body
            assert elapsed < 5.0, f"checkout took {elapsed:.2f}s with a 3 s payment latency"
        # catalog (bulkhead) is not starved meanwhile
        start = time.monotonic()
        cat = requests.get(f"{stack.url('checkout')}/api/catalog", timeout=5)
        assert cat.status_code == 200 and time.monotonic() - start < 1.0
    finally:
        requests.delete(f"{toxiproxy}/proxies/payment/toxics/e2e_latency", timeout=5)
    # after the toxic is gone (and the breakers' reset time), checkout recovers on every replica:
    # each replica has its own breaker, so ask for several successes in a row
    def recovered() -> bool:
        return all(checkout(stack.url("checkout"), new_order_id("recover")).status_code // 100 == 2
                   for _ in range(6))

    wait_until("checkout to recover on every replica after the toxic", recovered, timeout=40, interval=1)


def test_killed_payment_replica_is_restarted_and_checkouts_keep_succeeding(stack: Stack) -> None:
    wait_checkout_healthy(stack.url("checkout"))  # no breaker left open by an earlier test
    before = _component(json.loads(_status_json()), "payment-service-1")
    assert before["healthy"] and before["pid"], before
    os.kill(int(before["pid"]), signal.SIGKILL)
    results: list[int] = []
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        results.append(checkout(stack.url("checkout"), new_order_id("kill")).status_code)
        time.sleep(0.05)
    failed = [code for code in results if code // 100 != 2]
    assert len(results) >= 20
    assert not failed, f"{len(failed)} of {len(results)} checkouts failed while a payment replica died"

    def restarted() -> dict[str, Any] | None:
        comp = _component(json.loads(_status_json()), "payment-service-1")
        return comp if comp["healthy"] and comp["pid"] and comp["pid"] != before["pid"] else None

    after = wait_until("supervisor to restart payment-service-1", restarted, timeout=60, interval=1)
    assert after["pid"] != before["pid"]
