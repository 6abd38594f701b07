"""Health checks of the stack's components: one function per kind, each returns (healthy, detail)."""

from __future__ import annotations

import socket
from collections.abc import Callable

import dns.exception
import dns.message
import dns.query
import dns.rdatatype
import requests
from prometheus_client.parser import text_string_to_metric_families

from chaosext.stack.config import StackConfig

__all__ = ["Check", "checks", "port_open"]

Check = Callable[[], tuple[bool, str]]
TIMEOUT = 1.0


def port_open(host: str, port: int, timeout: float = TIMEOUT) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _tcp(host: str, port: int) -> Check:
    def check() -> tuple[bool, str]:
        return (
            (True, f"{host}:{port} accepts connections")
            if port_open(host, port)
            else (False, f"{host}:{port} refuses connections")
        )

    return check


def _http(url: str, verify: str | bool = True, expect: int = 200) -> Check:
    def check() -> tuple[bool, str]:
        try:
            resp = requests.get(url, timeout=TIMEOUT, verify=verify)
        except requests.RequestException as exc:
            return False, f"GET {url}: {type(exc).__name__}"
        return resp.status_code == expect, f"GET {url}: {resp.status_code}"

    return check


def _redis(host: str, port: int) -> Check:
    def check() -> tuple[bool, str]:
        try:
            with socket.create_connection((host, port), timeout=TIMEOUT) as sock:
                sock.sendall(b"PING\r\n")
                answer = sock.recv(64)
        except OSError as exc:
            return False, f"redis {host}:{port}: {exc}"
        return answer.startswith(b"+PONG"), f"PING -> {answer.strip().decode(errors='replace')}"

    return check


def _dns(config: StackConfig) -> Check:
    def check() -> tuple[bool, str]:
        query = dns.message.make_query(config.payment_dns_name, dns.rdatatype.A)
        try:
            answer = dns.query.udp(query, config.host, port=config.ports.dns, timeout=TIMEOUT)
        except (dns.exception.DNSException, OSError) as exc:
            return False, f"query {config.payment_dns_name}: {type(exc).__name__}"
        addresses = [item.to_text() for rrset in answer.answer for item in rrset]
        return bool(addresses), f"{config.payment_dns_name} -> {', '.join(addresses) or 'no answer'}"

    return check


def _toxiproxy(config: StackConfig) -> Check:
    url = config.url(config.ports.toxiproxy_api)

    def check() -> tuple[bool, str]:
        try:
            proxies = requests.get(f"{url}/proxies", timeout=TIMEOUT).json()
        except (requests.RequestException, ValueError) as exc:
            return False, f"GET {url}/proxies: {type(exc).__name__}"
        missing = {"payment", "capture"} - set(proxies)
        return not missing, f"proxies: {', '.join(sorted(proxies))}" + (
            f" (missing {', '.join(sorted(missing))})" if missing else ""
        )

    return check


def _haproxy(url: str) -> Check:
    """HAProxy answers *and* has every backend server UP: right after start its health checks
    may still hold a server DOWN for a few rise intervals although the replica is ready, and
    clients then get "503 No server is available"."""

    def check() -> tuple[bool, str]:
        try:
            resp = requests.get(url, timeout=TIMEOUT)
            resp.raise_for_status()
        except requests.RequestException as exc:
            return False, f"GET {url}: {type(exc).__name__}"
        up: dict[str, bool] = {}
        for family in text_string_to_metric_families(resp.text):
            if family.name != "haproxy_server_status":
                continue
            for sample in family.samples:
                if sample.labels.get("state") == "UP":
                    up[sample.labels["server"]] = sample.value == 1
        down = sorted(name for name, is_up in up.items() if not is_up)
        if not up:
            return False, "no backend server reported"
        return not down, f"{len(up) - len(down)}/{len(up)} servers UP" + (f" (not UP: {', '.join(down)})" if down else "")

    return check


def checks(config: StackConfig) -> dict[str, Check]:
    """A health check for every supervisor program."""
    p, h = config.ports, config.host
    ca = str(config.ca_bundle)
    result: dict[str, Check] = {
        f"kafka-{i}": _tcp(h, port) for i, port in enumerate(config.kafka_ports, start=1)
    }
    result.update(
        {
            "redis": _redis(h, p.redis),
            "toxiproxy": _toxiproxy(config),
            "dns": _dns(config),
            "prometheus": _http(f"{config.url(p.prometheus)}/-/ready"),
            "haproxy": _haproxy(f"{config.url(p.haproxy_stats)}/metrics"),
            "payment-service-1": _http(f"{config.url(p.payment_service_1, 'https')}/readyz", verify=ca),
            "payment-service-2": _http(f"{config.url(p.payment_service_2, 'https')}/readyz", verify=ca),
            "checkout-api-1": _http(f"{config.url(p.checkout_api_1)}/readyz"),
            "checkout-api-2": _http(f"{config.url(p.checkout_api_2)}/readyz"),
            "order-consumer": _http(f"{config.url(p.order_consumer)}/readyz"),
        }
    )
    return result
