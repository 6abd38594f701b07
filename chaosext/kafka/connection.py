"""How chaosext reaches a Kafka cluster: bootstrap servers from configuration, SASL/TLS from secrets,
and a synchronous runner that turns client errors into clear ``ActivityFailed`` messages.

Configuration: ``kafka_bootstrap`` (or env ``CHAOSEXT_KAFKA_BOOTSTRAP``); default: the local stack's.

Secrets (all optional; the Chaos Toolkit ``secrets`` block given to the activity):
``kafka_security_protocol`` (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL), ``kafka_sasl_mechanism``
(PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), ``kafka_sasl_username``, ``kafka_sasl_password``,
``kafka_ssl_cafile``, ``kafka_ssl_certfile``, ``kafka_ssl_keyfile``, ``kafka_ssl_password``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiokafka.errors import KafkaError
from aiokafka.helpers import create_ssl_context
from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext.target import setting

__all__ = ["Connection", "connection", "run"]

T = TypeVar("T")

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


class Connection:
    """Bootstrap servers plus the keyword arguments every aiokafka client of this cluster needs."""

    def __init__(self, bootstrap: str, security: dict[str, Any]) -> None:
        self.bootstrap = bootstrap
        self.security = security

    def kwargs(self, **extra: Any) -> dict[str, Any]:
        return {"bootstrap_servers": self.bootstrap, "request_timeout_ms": 10000, **self.security, **extra}


def _bootstrap(configuration: Configuration) -> str:
    value = setting(configuration, "kafka_bootstrap")
    if value:
        servers = [s.strip() for s in str(value).split(",") if s.strip()]
        bad = [s for s in servers if ":" not in s or not s.rsplit(":", 1)[1].isdigit()]
        if not servers or bad:
            raise ActivityFailed(f"'kafka_bootstrap' must be host:port[,host:port...], got {value!r}")
        return ",".join(servers)
    from chaosext.stack.config import load_config

    return load_config().kafka_bootstrap


def _security(secrets: Secrets) -> dict[str, Any]:
    s = dict(secrets or {})
    protocol = str(s.get("kafka_security_protocol") or "PLAINTEXT").upper()
    if protocol not in PROTOCOLS:
        raise ActivityFailed(
            f"secret 'kafka_security_protocol' must be one of {', '.join(PROTOCOLS)}, got {protocol!r}"
        )
    out: dict[str, Any] = {"security_protocol": protocol}
    if protocol in ("SSL", "SASL_SSL"):
        try:
            out["ssl_context"] = create_ssl_context(
                cafile=s.get("kafka_ssl_cafile"),
                certfile=s.get("kafka_ssl_certfile"),
                keyfile=s.get("kafka_ssl_keyfile"),
                password=s.get("kafka_ssl_password"),
            )
        except (OSError, ValueError) as exc:
            raise ActivityFailed(f"secrets 'kafka_ssl_*': cannot build the TLS context: {exc}") from None
    if protocol.startswith("SASL"):
        mechanism = str(s.get("kafka_sasl_mechanism") or "PLAIN").upper()
        if mechanism not in MECHANISMS:
            raise ActivityFailed(
                f"secret 'kafka_sasl_mechanism' must be one of {', '.join(MECHANISMS)}, got {mechanism!r}"
            )
        user, password = s.get("kafka_sasl_username"), s.get("kafka_sasl_password")
        if not user or not password:
            raise ActivityFailed(
                f"secrets 'kafka_sasl_username' and 'kafka_sasl_password' are required for {protocol}"
            )
        out.update(sasl_mechanism=mechanism, sasl_plain_username=str(user), sasl_plain_password=str(password))
    return out


def connection(configuration: Configuration = None, secrets: Secrets = None) -> Connection:
    return Connection(_bootstrap(configuration), _security(secrets))


def run(what: str, factory: Callable[[], Awaitable[T]], timeout: float = 60.0) -> T:
    """Run one async Kafka conversation to completion; Kafka errors become ActivityFailed naming ``what``."""

    # A retriable Kafka error (a broker that just died is still in the metadata: NodeNotReady,
    # NotLeaderForPartition, a coordinator moving) is what a broker-loss fault produces on
    # purpose: the conversation is tried again, with fresh metadata, until ``timeout``.
    deadline = time.monotonic() + timeout
    backoff = 0.25
    while True:
        remaining = deadline - time.monotonic()

        async def bounded(limit: float = max(0.1, remaining)) -> T:
            async with asyncio.timeout(limit):
                return await factory()

        try:
            return asyncio.run(bounded())
        except TimeoutError:
            raise ActivityFailed(f"{what}: no answer from Kafka within {timeout:g}s") from None
        except KafkaError as exc:
            if getattr(exc, "retriable", False) and time.monotonic() + backoff < deadline:
                time.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            raise ActivityFailed(f"{what}: Kafka error {exc!r}") from None
        except OSError as exc:
            raise ActivityFailed(f"{what}: cannot reach Kafka: {exc}") from None
