"""order-consumer configuration: environment variables plus hot-reloadable tunables."""

from __future__ import annotations

from dataclasses import dataclass

from servicekit.env import EnvError, env_bootstrap, env_file, env_host_port, env_str
from servicekit.service import BaseSettings, base_settings

SERVICE = "order-consumer"
DEFAULT_PORT = 8091
DEFAULT_KAFKA = "127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094"

TUNABLE_DEFAULTS: dict[str, int | float] = {
    "capture_timeout_s": 5.0,
    "capture_backoff_base_s": 0.2,
    "capture_backoff_cap_s": 5.0,
    "lag_poll_s": 1.0,
}


@dataclass(frozen=True)
class Settings:
    base: BaseSettings
    kafka_bootstrap: str
    orders_topic: str
    dlq_topic: str
    group_id: str
    capture_url: str
    redis_url: str
    ca_file: str | None
    dns_server: tuple[str, int] | None


def load_settings() -> Settings:
    capture_url = env_str("CAPTURE_URL", "https://payment.chaosext.test:18446/capture")
    if not capture_url.startswith(("https://", "http://")):
        raise EnvError(f"CAPTURE_URL must be an http(s) URL, got {capture_url!r}")
    redis_url = env_str("REDIS_URL", "redis://127.0.0.1:16379/0")
    if not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise EnvError(f"REDIS_URL must be a redis:// URL, got {redis_url!r}")
    orders_topic = env_str("ORDERS_TOPIC", "orders")
    dlq_topic = env_str("DLQ_TOPIC", "orders.dlq")
    if orders_topic == dlq_topic:
        raise EnvError(f"DLQ_TOPIC must differ from ORDERS_TOPIC (both are {orders_topic!r})")
    return Settings(
        base=base_settings(SERVICE, DEFAULT_PORT),
        kafka_bootstrap=env_bootstrap("KAFKA_BOOTSTRAP", DEFAULT_KAFKA),
        orders_topic=orders_topic,
        dlq_topic=dlq_topic,
        group_id=env_str("GROUP_ID", "order-consumer"),
        capture_url=capture_url,
        redis_url=redis_url,
        ca_file=env_file("CA_FILE"),
        dns_server=env_host_port("DNS_SERVER"),
    )
