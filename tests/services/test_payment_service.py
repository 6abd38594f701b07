"""payment-service against real Redis and real TLS: idempotency across replicas, bad input, cert reload."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from support import wait_until

from .conftest import ServiceFactory
from .helpers import Service, TlsFiles, issue_server_cert, metric_value, served_certificate

pytestmark = pytest.mark.usefixtures("flush_redis")


def start_payment(start_service: ServiceFactory, env: dict[str, str], tls: TlsFiles, **extra: str) -> Service:
    return start_service("payment_service", {**env, **extra}, scheme="https", verify=str(tls.ca_cert))


def charge(svc: Service, key: str | None, body: Any, **kw: Any) -> requests.Response:
    headers = {"Idempotency-Key": key} if key is not None else {}
    headers.update(kw.pop("headers", {}))
    return svc.post("/charge", json=body, headers=headers, **kw)


ORDER = {"order_id": "o-1", "amount": 12.5, "currency": "EUR"}


def test_probes_metrics_and_json_logs(start_service: ServiceFactory, payment_env: dict[str, str],
                                      tls: TlsFiles) -> None:
    svc = start_payment(start_service, payment_env, tls)
    assert svc.get("/healthz").json() == {"status": "ok"}
    ready = svc.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"redis": True}
    resp = charge(svc, "o-1", ORDER, headers={"X-Correlation-ID": "cid-test-123"})
    assert resp.status_code == 201
    assert resp.headers["X-Correlation-ID"] == "cid-test-123"
    svc.get("/ledger/o-1")
    metrics = svc.metrics()
    assert metric_value(metrics, "http_requests_total",
                        {"route": "/ledger/{key}", "method": "GET", "status": "200"}) == 1
    assert metric_value(metrics, "http_request_duration_seconds_count",
                        {"route": "/charge", "method": "POST", "status": "201"}) == 1
    assert metric_value(metrics, "payment_charges_total", {"result": "charged"}) == 1
    assert metric_value(metrics, "tls_certificate_not_after_seconds") is not None
    lines = [json.loads(line) for line in svc.logs().splitlines() if line.startswith("{")]
    mine = [rec for rec in lines if rec.get("correlation_id") == "cid-test-123"]
    assert mine, "no JSON log line carries the request's correlation id"
    assert all(rec["service"] == "payment-service" and "level" in rec for rec in mine)


@pytest.mark.parametrize(
    ("key", "body", "error"),
    [
        (None, ORDER, "missing_idempotency_key"),
        ("k", "not json at all", "invalid_json"),
        ("k", [1, 2], "invalid_json"),
        ("k", {"amount": 1, "currency": "EUR"}, "invalid_request"),
        ("k", {**ORDER, "amount": -3}, "invalid_request"),
        ("k", {**ORDER, "amount": "10"}, "invalid_request"),
        ("k", {**ORDER, "currency": "EURO"}, "invalid_request"),
    ],
)
def test_bad_requests_get_400_json(start_service: ServiceFactory, payment_env: dict[str, str], tls: TlsFiles,
                                   key: str | None, body: Any, error: str) -> None:
    svc = start_payment(start_service, payment_env, tls)
    if isinstance(body, str):
        headers = {"Idempotency-Key": key} if key else {}
        resp = svc.post("/charge", data=body, headers=headers)
    else:
        resp = charge(svc, key, body)
    assert resp.status_code == 400, resp.text
    payload = resp.json()
    assert payload["error"] == error and payload["detail"]
    assert "Traceback" not in svc.logs()
    assert svc.get("/ledger").json()["total_charges"] == 0


def test_unknown_route_is_404_json(start_service: ServiceFactory, payment_env: dict[str, str],
                                   tls: TlsFiles) -> None:
    svc = start_payment(start_service, payment_env, tls)
    resp = svc.get("/no/such/thing")
    assert resp.status_code == 404 and resp.json()["error"] == "not_found"
    assert svc.post("/ledger").json()["error"] == "method_not_allowed"
    assert 'route="unmatched"' in svc.metrics()


def test_idempotent_across_replicas_and_concurrency(start_service: ServiceFactory,
                                                   payment_env: dict[str, str], tls: TlsFiles) -> None:
    one = start_payment(start_service, payment_env, tls, INSTANCE="payment-1")
    two = start_payment(start_service, payment_env, tls, INSTANCE="payment-2")
    first = charge(one, "o-1", ORDER)
    assert first.status_code == 201 and first.headers.get("Idempotent-Replayed") is None
    again = charge(two, "o-1", ORDER)  # the retry reaches the other replica
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["payment_id"] == first.json()["payment_id"]

    # 40 concurrent requests with one new key, spread over both replicas: money is taken once
    body = {"order_id": "o-race", "amount": 5, "currency": "usd"}
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda i: charge((one, two)[i % 2], "o-race", body), range(40)))
    assert sorted(r.status_code for r in answers) == [200] * 39 + [201]
    assert len({r.json()["payment_id"] for r in answers}) == 1

    conflict = charge(one, "o-1", {**ORDER, "amount": 99})
    assert conflict.status_code == 409 and conflict.json()["error"] == "idempotency_conflict"

    ledger = two.get("/ledger").json()
    assert ledger == {"charges": {"o-1": 1, "o-race": 1}, "total_charges": 2, "double_charges": 0}
    assert one.get("/ledger/o-race").json()["count"] == 1
    assert one.get("/ledger/nope").status_code == 404
    replayed = sum(metric_value(s.metrics(), "payment_charges_total", {"result": "replayed"}) or 0
                   for s in (one, two))
    assert replayed == 40


def test_capture_is_idempotent(start_service: ServiceFactory, payment_env: dict[str, str],
                               tls: TlsFiles) -> None:
    svc = start_payment(start_service, payment_env, tls)
    body = {**ORDER, "payment_id": "pay_1"}
    first = svc.post("/capture", json=body, headers={"Idempotency-Key": "o-1"})
    second = svc.post("/capture", json=body, headers={"Idempotency-Key": "o-1"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["capture_id"] == first.json()["capture_id"]
    assert svc.get("/captures").json() == {"captures": {"o-1": 1}, "total_captures": 1, "double_captures": 0}
    assert svc.post("/capture", json=body).status_code == 400


def test_ready_fail_flag(start_service: ServiceFactory, payment_env: dict[str, str], tls: TlsFiles) -> None:
    svc = start_payment(start_service, payment_env, tls, READY_FAIL="1")
    assert svc.get("/healthz").status_code == 200
    ready = svc.get("/readyz")
    assert ready.status_code == 503 and ready.json()["ready"] is False


def test_certificate_rotation_without_restart(start_service: ServiceFactory, payment_env: dict[str, str],
                                              tls: TlsFiles) -> None:
    svc = start_payment(start_service, payment_env, tls)
    before = served_certificate(svc.port)
    pid = svc.proc.pid if svc.proc else None
    new = issue_server_cert(tls, days=3)
    assert new.serial_number != before.serial_number
    wait_until(
        "the new certificate on new handshakes",
        lambda: served_certificate(svc.port).serial_number == new.serial_number,
        timeout=10,
        interval=0.1,
    )
    metrics = svc.metrics()
    assert metric_value(metrics, "tls_reloads_total", {"kind": "server", "result": "success"}) == 1
    assert metric_value(metrics, "tls_certificate_not_after_seconds") == pytest.approx(
        new.not_valid_after_utc.timestamp())
    assert svc.proc is not None and svc.proc.pid == pid and svc.proc.poll() is None
    assert charge(svc, "o-after", {**ORDER, "order_id": "o-after"}).status_code == 201


def test_bad_environment_is_a_clear_error(start_service: ServiceFactory, payment_env: dict[str, str],
                                          tls: TlsFiles) -> None:
    svc = start_service("payment_service", {**payment_env, "TLS_KEY_FILE": "/nonexistent/key.pem"},
                        wait_healthy=False)
    assert svc.proc is not None
    proc = svc.proc
    assert wait_until("payment-service to exit", proc.poll, timeout=20, interval=0.1,
                      done=lambda code: code is not None) == 2
    out = svc.logs()
    assert "TLS_KEY_FILE" in out and "Traceback" not in out
