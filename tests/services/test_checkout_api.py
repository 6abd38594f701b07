"""checkout-api against a real payment-service (HTTPS, real DNS server, Redis) and real Toxiproxy.

Kafka is pointed at a closed port here: the payment side is what is tested (the Kafka path is in
test_kafka_flow.py)."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from support import free_port, wait_until

from .conftest import DnsServer, ServiceFactory, Toxiproxy
from .helpers import PAYMENT_HOST, Service, TlsFiles, metric_value

pytestmark = pytest.mark.usefixtures("flush_redis")


def order(order_id: str, amount: float = 10.0) -> dict[str, Any]:
    return {"order_id": order_id, "amount": amount, "currency": "EUR"}


def start_checkout(start_service: ServiceFactory, tls: TlsFiles, dns: DnsServer, payment_port: int,
                   **extra: str) -> Service:
    env = {
        "PAYMENT_URL": f"https://{PAYMENT_HOST}:{payment_port}",
        "CA_FILE": str(tls.ca_cert),
        "DNS_SERVER": dns.address,
        "KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}",  # nothing listens: publishing fails
        **extra,
    }
    return start_service("checkout_api", env)


@pytest.fixture
def payment(start_service: ServiceFactory, payment_env: dict[str, str], tls: TlsFiles) -> Service:
    return start_service("payment_service", payment_env, scheme="https", verify=str(tls.ca_cert))


def test_charges_once_through_dns_and_tls(start_service: ServiceFactory, tls: TlsFiles, dns_server: DnsServer,
                                          payment: Service) -> None:
    checkout = start_checkout(start_service, tls, dns_server, payment.port)
    ready = checkout.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"] == {"kafka_producer": False}
    queries_before = dns_server.queries()
    started = time.monotonic()
    resp = checkout.post("/api/checkout", json=order("o-1"), headers={"X-Correlation-ID": "cid-checkout-1"})
    elapsed = time.monotonic() - started
    # paid, but the order event cannot be published without Kafka: 503 inside the budget
    assert resp.status_code == 503, resp.text
    assert resp.json()["error"] == "publish_failed" and resp.headers["Retry-After"]
    assert elapsed < 2.5
    assert payment.get("/ledger").json()["charges"] == {"o-1": 1}
    # the client retries: payment replays, money is still taken once
    assert checkout.post("/api/checkout", json=order("o-1")).json()["error"] == "publish_failed"
    assert payment.get("/ledger").json() == {"charges": {"o-1": 1}, "total_charges": 1, "double_charges": 0}
    assert dns_server.queries() >= queries_before + 2, "each new connection must ask the DNS server"
    # the correlation id travelled to payment-service
    assert "cid-checkout-1" in payment.logs()
    metrics = checkout.metrics()
    assert metric_value(metrics, "dependency_requests_total", {"dependency": "payment", "outcome": "ok"}) == 2
    assert metric_value(metrics, "checkout_orders_total", {"outcome": "publish_failed"}) == 2
    assert metric_value(metrics, "circuit_breaker_state", {"dependency": "payment"}) == 0


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("{broken", "invalid_json"),
        ({"order_id": "", "amount": 1, "currency": "EUR"}, "invalid_request"),
        ({"order_id": "x", "amount": 0, "currency": "EUR"}, "invalid_request"),
        ({"order_id": "x", "amount": True, "currency": "EUR"}, "invalid_request"),
        ({"order_id": "x", "amount": 1, "currency": "E1R"}, "invalid_request"),
    ],
)
def test_bad_bodies(start_service: ServiceFactory, tls: TlsFiles, dns_server: DnsServer, body: Any,
                    error: str) -> None:
    checkout = start_checkout(start_service, tls, dns_server, free_port())
    resp = (checkout.post("/api/checkout", data=body) if isinstance(body, str)
            else checkout.post("/api/checkout", json=body))
    assert resp.status_code == 400 and resp.json()["error"] == error and resp.json()["detail"]
    unknown = checkout.get("/api/nope")
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"
    assert "Traceback" not in checkout.logs()


def test_payment_down_opens_the_breaker(start_service: ServiceFactory, tls: TlsFiles,
                                        dns_server: DnsServer) -> None:
    checkout = start_checkout(start_service, tls, dns_server, free_port())  # nothing listens there
    reasons = []
    for i in range(6):  # 3 attempts each: the breaker judges once its window holds 10 calls
        started = time.monotonic()
        resp = checkout.post("/api/checkout", json=order(f"o-{i}"))
        assert time.monotonic() - started < 2.5
        assert resp.status_code == 503 and resp.headers["Retry-After"]
        reasons.append(resp.json()["error"])
    assert reasons[0] == "payment_unavailable"
    assert reasons[-1] == "circuit_open"
    resp = checkout.post("/api/checkout", json=order("o-x"))
    assert resp.json()["error"] == "circuit_open" and 1 <= int(resp.headers["Retry-After"]) <= 10
    assert "calls failed" in resp.json()["detail"], resp.json()
    metrics = checkout.metrics()
    assert metric_value(metrics, "circuit_breaker_state", {"dependency": "payment"}) == 1
    assert (metric_value(metrics, "dependency_requests_total",
                         {"dependency": "payment", "outcome": "connect_error"}) or 0) >= 5
    # the breaker does not make checkout unready, and the catalog still answers
    assert checkout.get("/api/catalog").status_code == 200


def test_dns_change_is_followed_without_restart(start_service: ServiceFactory, tls: TlsFiles,
                                                dns_server: DnsServer, payment: Service) -> None:
    checkout = start_checkout(start_service, tls, dns_server, payment.port,
                              CONFIG_FILE=_write_config(payment.log_path.parent, {"breaker_min_calls": 100000}))
    try:
        dns_server.set_address("127.0.0.2")  # payment listens on 127.0.0.1 only
        wait_until(
            "payment to become unreachable by name",
            lambda: checkout.post("/api/checkout", json=order("o-dns-1")).json()["error"]
            == "payment_unavailable",
            timeout=15,
            interval=0.3,
        )
        assert "o-dns-1" not in payment.get("/ledger").json()["charges"]
    finally:
        dns_server.set_address("127.0.0.1")
    wait_until(
        "payment to be reachable again by name",
        lambda: checkout.post("/api/checkout", json=order("o-dns-2")).json()["error"] == "publish_failed",
        timeout=15,
        interval=0.3,
    )
    assert payment.get("/ledger").json()["charges"] == {"o-dns-2": 1}


def _write_config(directory: Path, values: dict[str, Any]) -> str:
    path = directory / "checkout-config.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(values))
    tmp.replace(path)
    return str(path)


def test_stall_budget_bulkhead_and_catalog_isolation(start_service: ServiceFactory, tls: TlsFiles,
                                                     dns_server: DnsServer, payment: Service,
                                                     toxiproxy: Toxiproxy, tmp_path: Path) -> None:
    proxy_port = toxiproxy.proxy("payment-test", payment.port)
    config = _write_config(tmp_path, {"bulkhead_size": 4, "breaker_min_calls": 100000})
    checkout = start_checkout(start_service, tls, dns_server, proxy_port, CONFIG_FILE=config)
    toxiproxy.latency("payment-test", 10_000)
    try:
        def timed_checkout(i: int) -> tuple[int, str, float]:
            started = time.monotonic()
            resp = requests.post(f"{checkout.url}/api/checkout", json=order(f"stall-{i}"), timeout=10)
            return resp.status_code, resp.json()["error"], time.monotonic() - started

        def timed_catalog(_: int) -> float:
            started = time.monotonic()
            assert requests.get(f"{checkout.url}/api/catalog", timeout=5).json()["items"]
            return time.monotonic() - started

        with ThreadPoolExecutor(max_workers=40) as pool:
            stalled = [pool.submit(timed_checkout, i) for i in range(12)]
            wait_until(
                "the payment bulkhead to fill",
                lambda: metric_value(checkout.metrics(), "bulkhead_in_use", {"pool": "payment"}) == 4,
                timeout=2,
                interval=0.02,
            )
            catalog_latencies = list(pool.map(timed_catalog, range(50)))
            results = [f.result() for f in stalled]
    finally:
        toxiproxy.clear("payment-test")
    timeouts = [r for r in results if r[1] == "payment_timeout"]
    full = [r for r in results if r[1] == "bulkhead_full"]
    assert len(timeouts) == 4 and len(full) == 8, results
    assert all(status == 503 for status, _, _ in results)
    assert all(1.8 <= t <= 2.6 for _, _, t in timeouts), timeouts  # the 2 s budget, never a hang
    assert all(t < 0.5 for _, _, t in full), full  # refused at once
    assert max(catalog_latencies) < 0.5, catalog_latencies
    metrics = checkout.metrics()
    assert metric_value(metrics, "checkout_orders_total", {"outcome": "bulkhead_full"}) == 8
    assert metric_value(metrics, "bulkhead_in_use", {"pool": "payment"}) == 0


def test_config_hot_reload(start_service: ServiceFactory, tls: TlsFiles, dns_server: DnsServer,
                           tmp_path: Path) -> None:
    config = _write_config(tmp_path, {"attempt_timeout_s": 0.5})
    checkout = start_checkout(start_service, tls, dns_server, free_port(), CONFIG_FILE=config)
    values = checkout.get("/admin/config").json()["values"]
    assert values["attempt_timeout_s"] == 0.5 and values["total_budget_s"] == 2.0

    _write_config(tmp_path, {"attempt_timeout_s": 0.3, "max_attempts": 2})
    wait_until(
        "the mtime-triggered reload",
        lambda: checkout.get("/admin/config").json()["values"]["max_attempts"] == 2,
        timeout=10,
        interval=0.1,
    )
    assert checkout.get("/admin/config").json()["values"]["attempt_timeout_s"] == 0.3

    # an invalid file is rejected and the previous values stay
    _write_config(tmp_path, {"max_attempts": -1})
    wait_until("the rejected reload", lambda: checkout.get("/admin/config").json()["last_error"], timeout=10, interval=0.1)
    assert checkout.get("/admin/config").json()["values"]["max_attempts"] == 2

    # SIGHUP reloads too (the file's content is valid again; mtime polling may also see it)
    Path(config).write_text(json.dumps({"max_attempts": 4}))
    assert checkout.proc is not None
    os.kill(checkout.proc.pid, signal.SIGHUP)
    wait_until(
        "the SIGHUP reload",
        lambda: checkout.get("/admin/config").json()["values"]["max_attempts"] == 4,
        timeout=10,
        interval=0.1,
    )
    metrics = checkout.metrics()
    assert (metric_value(metrics, "config_reloads_total", {"result": "success"}) or 0) >= 2
    assert (metric_value(metrics, "config_reloads_total", {"result": "error"}) or 0) >= 1
    assert checkout.proc.poll() is None


def test_missing_config_file_means_defaults_until_created(start_service: ServiceFactory, tls: TlsFiles,
                                                          dns_server: DnsServer, tmp_path: Path) -> None:
    path = tmp_path / "later.json"
    checkout = start_checkout(start_service, tls, dns_server, free_port(), CONFIG_FILE=str(path))
    snapshot = checkout.get("/admin/config").json()
    assert snapshot["values"] == snapshot["defaults"] and snapshot["last_error"] is None
    _write_config(tmp_path, {"bulkhead_size": 7, "unknown_knob": 1})
    Path(tmp_path / "checkout-config.json").replace(path)
    wait_until(
        "the created file to apply",
        lambda: checkout.get("/admin/config").json()["values"]["bulkhead_size"] == 7,
        timeout=10,
        interval=0.1,
    )
    assert checkout.get("/admin/config").json()["ignored_keys"] == ["unknown_knob"]
    assert metric_value(checkout.metrics(), "bulkhead_limit", {"pool": "payment"}) == 7


def _slow_checkouts(checkout: Service, prefix: str, count: int) -> tuple[int, list[str]]:
    """Post ``count`` checkouts, 6 at a time; returns how many took longer than one attempt's
    timeout (0.8 s) and the order ids."""
    ids = [f"{prefix}-{i}" for i in range(count)]

    def timed(order_id: str) -> float:
        started = time.monotonic()
        requests.post(f"{checkout.url}/api/checkout", json=order(order_id), timeout=10)
        return time.monotonic() - started

    with ThreadPoolExecutor(max_workers=6) as pool:
        took = list(pool.map(timed, ids))
    return sum(1 for t in took if t > 0.8), ids


def test_hedging_outruns_connections_that_hang(start_service: ServiceFactory, tls: TlsFiles,
                                               dns_server: DnsServer, payment: Service,
                                               toxiproxy: Toxiproxy, tmp_path: Path) -> None:
    """Half the connections to payment hang without a reset (a replica gone while its address is
    still routed): the hedge after hedge_after_s (0.4 s) answers instead of waiting for the 0.8 s
    attempt timeout. Compared with the same checkout with hedging off, in the same run: fewer
    checkouts slower than one attempt timeout, and no order charged twice."""
    proxy_port = toxiproxy.proxy("payment-hedge", payment.port)
    # the toxic accepts connections and then hangs them (TLS handshake included): with the connect
    # timeout on, those would fail before any hedge; off, this measures hedging alone
    config = _write_config(tmp_path, {"breaker_min_calls": 100000, "connect_timeout_s": 0})
    checkout = start_checkout(start_service, tls, dns_server, proxy_port, CONFIG_FILE=config)
    resp = requests.post(f"{toxiproxy.api}/proxies/payment-hedge/toxics", timeout=5, json={
        "name": "blackhole", "type": "timeout", "stream": "upstream", "toxicity": 0.5,
        "attributes": {"timeout": 0}})
    resp.raise_for_status()
    try:
        slow_hedged, hedged_ids = _slow_checkouts(checkout, "hedged", 60)
        hedges = metric_value(checkout.metrics(), "dependency_hedges_total", {"dependency": "payment"}) or 0
        _write_config(tmp_path, {"breaker_min_calls": 100000, "connect_timeout_s": 0, "hedge_after_s": 0})
        wait_until("hedging off", lambda: checkout.get("/admin/config").json()["values"]["hedge_after_s"] == 0,
                   timeout=10)
        slow_plain, plain_ids = _slow_checkouts(checkout, "plain", 60)
    finally:
        requests.delete(f"{toxiproxy.api}/proxies/payment-hedge/toxics/blackhole", timeout=5)
    assert hedges >= 1
    assert slow_hedged < slow_plain, (slow_hedged, slow_plain)
    charges = payment.get("/ledger").json()["charges"]
    hedged = {k: v for k, v in charges.items() if k.startswith("hedged-")}
    # an order whose every attempt and hedge hung within the 2 s budget is not charged (p < 7 %)
    assert set(hedged) <= set(hedged_ids) and len(hedged) >= 45, hedged
    assert set(hedged.values()) == {1}, hedged  # a hedge never charges twice


def test_a_burst_of_hung_calls_amid_successes_leaves_the_breaker_closed(
        start_service: ServiceFactory, tls: TlsFiles, dns_server: DnsServer, payment: Service,
        toxiproxy: Toxiproxy) -> None:
    """The requests in flight to a replica that dies fail together although the other calls
    succeed. Here every connection to payment hangs while 8 checkouts start at once: 8 hedged
    attempts time out one after another (a breaker counting 5 consecutive failures opens and
    refuses every call for 10 s), then the connections pass again. checkout's breaker judges the
    failure rate over its window (8 of about 60 calls): it stays closed and every retry charges
    (checkout then answers publish_failed only because no broker runs in these tests)."""
    proxy_port = toxiproxy.proxy("payment-burst", payment.port)
    checkout = start_checkout(start_service, tls, dns_server, proxy_port)
    for i in range(40):
        # paid; the order event has no broker to go to here, so the answer is publish_failed
        assert checkout.post("/api/checkout", json=order(f"steady-{i}")).json()["error"] == "publish_failed"

    def failed_in_window() -> float:
        return metric_value(checkout.metrics(), "circuit_breaker_window_calls",
                            {"dependency": "payment", "result": "failed"}) or 0

    resp = requests.post(f"{toxiproxy.api}/proxies/payment-burst/toxics", timeout=5, json={
        "name": "hang", "type": "timeout", "stream": "upstream", "toxicity": 1.0, "attributes": {"timeout": 0}})
    resp.raise_for_status()
    burst_ids = [f"burst-{i}" for i in range(8)]
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = pool.map(lambda oid: requests.post(f"{checkout.url}/api/checkout", json=order(oid),
                                                         timeout=10), burst_ids)
            wait_until("the 8 first attempts to time out", failed_in_window, timeout=10, interval=0.05,
                       done=lambda failed: failed >= 8)
            requests.delete(f"{toxiproxy.api}/proxies/payment-burst/toxics/hang", timeout=5).raise_for_status()
            errors = [a.json().get("error") for a in answers]
    finally:
        requests.delete(f"{toxiproxy.api}/proxies/payment-burst/toxics/hang", timeout=5)
    metrics = checkout.metrics()
    assert failed_in_window() >= 8
    assert errors == ["publish_failed"] * 8, errors  # every burst order was paid
    assert metric_value(metrics, "circuit_breaker_state", {"dependency": "payment"}) == 0
    assert (metric_value(metrics, "dependency_requests_total", {"dependency": "payment", "outcome": "circuit_open"})
            or 0) == 0
    charges = payment.get("/ledger").json()["charges"]
    assert {k: v for k, v in charges.items() if k.startswith("burst-")} == dict.fromkeys(burst_ids, 1)


@pytest.fixture
def hanging_port() -> Iterator[int]:
    """A port whose TCP connects hang without an answer: a listener that never accepts, its accept
    queue filled, so the kernel drops further SYNs (as for an address whose replica is gone)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    queued: list[socket.socket] = []
    try:
        while True:
            client = socket.socket()
            client.settimeout(0.3)
            try:
                client.connect(("127.0.0.1", port))
            except TimeoutError:
                client.close()
                break
            queued.append(client)
            assert len(queued) < 16, "the listener's accept queue never filled"
        yield port
    finally:
        for client in queued:
            client.close()
        listener.close()


def test_a_connect_that_hangs_is_given_up_after_connect_timeout(start_service: ServiceFactory, tls: TlsFiles,
                                                                 dns_server: DnsServer, hanging_port: int,
                                                                 tmp_path: Path) -> None:
    """Connects to payment hang (SYNs dropped): with connect_timeout_s set (0.5 s here; off by default) each
    attempt and hedge gives up on its connect and is recorded as a connect timeout, leaving budget
    for the retries; with it off, the same checkout's attempts wait out their 0.8 s timeouts."""
    bounded_dir, unbounded_dir = tmp_path / "bounded", tmp_path / "unbounded"
    bounded_dir.mkdir()
    unbounded_dir.mkdir()
    bounded = start_checkout(start_service, tls, dns_server, hanging_port,
                             CONFIG_FILE=_write_config(bounded_dir, {"breaker_min_calls": 100000, "connect_timeout_s": 0.5}))
    unbounded = start_checkout(start_service, tls, dns_server, hanging_port, CONFIG_FILE=_write_config(
        unbounded_dir, {"breaker_min_calls": 100000, "connect_timeout_s": 0}))
    for name, checkout in (("bounded", bounded), ("unbounded", unbounded)):
        resp = checkout.post("/api/checkout", json=order(f"hang-{name}"))
        assert resp.status_code == 503, (name, resp.status_code, resp.text)

    def outcome(checkout: Service, label: str) -> float:
        return metric_value(checkout.metrics(), "dependency_requests_total",
                            {"dependency": "payment", "outcome": label}) or 0
    assert outcome(bounded, "connect_timeout") >= 3, "the attempts and hedges should give up on their connects"
    assert outcome(unbounded, "connect_timeout") == 0 and outcome(unbounded, "timeout") >= 2
