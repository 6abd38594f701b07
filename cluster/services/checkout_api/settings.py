"""checkout-api configuration: environment variables plus hot-reloadable tunables."""

from __future__ import annotations

from dataclasses import dataclass

from servicekit.env import EnvError, env_bootstrap, env_file, env_host_port, env_opt, env_str
from servicekit.service import BaseSettings, base_settings

SERVICE = "checkout-api"
DEFAULT_PORT = 8081
DEFAULT_KAFKA = "127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094"

TUNABLE_DEFAULTS: dict[str, int | float] = {
    "total_budget_s": 2.0,
    "attempt_timeout_s": 0.8,
    "connect_timeout_s": 0.0,
    "hedge_after_s": 0.4,
    "max_attempts": 3,
    "backoff_base_s": 0.1,
    "backoff_cap_s": 0.5,
    "breaker_failure_ratio": 0.5,
    "breaker_min_calls": 10,
    "breaker_window_s": 10.0,
    "breaker_reset_s": 10.0,
    "bulkhead_size": 32,
    "catalog_bulkhead_size": 64,
    "catalog_refresh_s": 30.0,
}


ZERO_ALLOWED = frozenset({"hedge_after_s", "connect_timeout_s"})
"""Tunables that may be set to 0: hedge_after_s 0 turns hedging off; connect_timeout_s 0 (the
default) leaves the connect bounded by the attempt timeout only. Off by default: every attempt opens
a new connection (TCP + TLS handshake, see servicekit.dns.fresh_connector), and on a CPU-starved
node a handshake that is slow but would succeed within the attempt timeout became a failure that
the breaker counted; the hedge at hedge_after_s already covers a connect that hangs."""


@dataclass(frozen=True)
class Settings:
    base: BaseSettings
    payment_url: str
    kafka_bootstrap: str
    orders_topic: str
    ca_file: str | None
    dns_server: tuple[str, int] | None
    catalog_url: str | None


def load_settings() -> Settings:
    payment_url = env_str("PAYMENT_URL", "https://payment.chaosext.test:18443").rstrip("/")
    if not payment_url.startswith(("https://", "http://")):
        raise EnvError(f"PAYMENT_URL must be an http(s) URL, got {payment_url!r}")
    catalog_url = env_opt("CATALOG_URL")
    if catalog_url is not None and not catalog_url.startswith(("https://", "http://")):
        raise EnvError(f"CATALOG_URL must be an http(s) URL, got {catalog_url!r}")
    return Settings(
        base=base_settings(SERVICE, DEFAULT_PORT),
        payment_url=payment_url,
        kafka_bootstrap=env_bootstrap("KAFKA_BOOTSTRAP", DEFAULT_KAFKA),
        orders_topic=env_str("ORDERS_TOPIC", "orders"),
        ca_file=env_file("CA_FILE"),
        dns_server=env_host_port("DNS_SERVER"),
        catalog_url=catalog_url,
    )
