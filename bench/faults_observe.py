"""Client-side observation for the fault benchmark (bench/faults.py).

``first_true(check, ...)`` fires ``check`` every ``interval`` seconds in a thread pool (a check that
is slow because of the fault, e.g. a delayed DNS answer, never holds back the next one) and
returns the time the first check that saw the condition completed: when a client knew. For a
latency fault that includes the injected delay (a delay is seen only once it is over).

The checks are what a client of the stack does: an HTTPS request through the payment path, a DNS
query, a TLS handshake, a TCP connect, a Kafka metadata request, HAProxy's view of a replica, a
service's /admin/config.
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import dns.message
import dns.query
import dns.rcode
import requests
from aiokafka.admin import AIOKafkaAdminClient

from chaosext.rollout import haproxy

__all__ = [
    "Check",
    "admin_config_values",
    "dns_query_ms",
    "first_true",
    "get_ms",
    "haproxy_status",
    "kafka_broker_answers",
    "port_refuses",
    "served_fingerprint",
]

Check = Callable[[], bool]


def _timed(check: Check) -> float | None:
    """When ``check`` completed, if it returned True."""
    try:
        ok = bool(check())
    except Exception:  # a check that cannot tell counts as "not seen yet"
        ok = False
    return time.perf_counter() if ok else None


def first_true(
    check: Check, interval: float = 0.015, timeout: float = 60.0, workers: int = 48,
    stop: threading.Event | None = None, drain: bool = False,
) -> float | None:
    """``time.perf_counter()`` when the first ``check`` that returned True completed, or None when
    none did within ``timeout`` seconds. Checks still running then are left to finish on their own
    (each has its own timeout), or waited for with ``drain``."""
    deadline = time.perf_counter() + timeout
    pending: set[Future[float | None]] = set()
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        while True:
            now = time.perf_counter()
            if now < deadline and len(pending) < workers:
                pending.add(pool.submit(_timed, check))
            for fut in [f for f in pending if f.done()]:
                pending.discard(fut)
                seen = fut.result()
                if seen is not None:
                    return seen
            if (now >= deadline and not pending) or (stop is not None and stop.is_set()):
                return None
            time.sleep(interval)
    finally:
        pool.shutdown(wait=drain, cancel_futures=True)


def get_ms(url: str, verify: str | bool, timeout: float = 3.0) -> tuple[int, float]:
    """One HTTP(S) GET on a new connection: (status, elapsed ms). Raises on connection errors."""
    start = time.perf_counter()
    with requests.Session() as session:
        resp = session.get(url, verify=verify, timeout=timeout)
    return resp.status_code, (time.perf_counter() - start) * 1000


def dns_query_ms(name: str, host: str, port: int, timeout: float = 3.0) -> tuple[str, float]:
    """One uncached UDP query: (rcode, elapsed ms); ("TIMEOUT", ...) when no answer came."""
    query = dns.message.make_query(name, "A")
    start = time.perf_counter()
    try:
        reply = dns.query.udp(query, host, port=port, timeout=timeout)
    except dns.exception.Timeout:
        return "TIMEOUT", (time.perf_counter() - start) * 1000
    return dns.rcode.to_text(reply.rcode()), (time.perf_counter() - start) * 1000


def served_fingerprint(host: str, port: int, server_name: str, timeout: float = 3.0) -> str:
    """SHA-256 of the certificate a TLS handshake with ``host:port`` is served."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # read whatever is served; only its fingerprint matters here
    with socket.create_connection((host, port), timeout=timeout) as sock, \
            ctx.wrap_socket(sock, server_hostname=server_name) as tls:
        der = tls.getpeercert(binary_form=True) or b""
    return hashlib.sha256(der).hexdigest()


def port_refuses(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when a TCP connect to ``host:port`` is refused (nothing listens)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return False
    except ConnectionRefusedError:
        return True


def kafka_broker_answers(host: str, port: int, timeout: float = 3.0) -> bool:
    """True when the broker at ``host:port`` itself answers a Kafka metadata request."""
    if port_refuses(host, port):
        return False

    async def ask() -> bool:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=f"{host}:{port}", request_timeout_ms=int(timeout * 1000)
        )
        try:
            await asyncio.wait_for(admin.start(), timeout)
            return True
        finally:
            await admin.close()

    return asyncio.run(ask())


def haproxy_status(backend: str, server: str) -> str:
    """HAProxy's status of ``backend/server`` (UP, DOWN, DRAIN, MAINT ...), from its admin socket."""
    return str(haproxy.server_states(backend).get(server, {}).get("status", ""))


def admin_config_values(url: str, verify: str | bool, timeout: float = 2.0) -> dict[str, Any]:
    """The effective tunables of one replica, from its ``/admin/config``."""
    resp = requests.get(f"{url}/admin/config", verify=verify, timeout=timeout)
    resp.raise_for_status()
    values: dict[str, Any] = resp.json()["values"]
    return values
