"""What the Kafka family's two drivers (``local``: supervisor programs ``kafka-<id>`` and
``order-consumer``, ``kubernetes``: a broker StatefulSet and a consumer Deployment) implement
under the same names. What a fault is (which brokers, which offsets) is decided once, in
``brokers`` and ``consumers``; the drivers do it on their target."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from chaoslib.types import Configuration, Secrets

from chaosext.faults.markers import FaultMarker

__all__ = ["BROKER_LOSS", "FAMILY", "PAUSE", "REWIND", "SLOW", "BrokerLoss", "ConsumerSlowdown", "KafkaDriver"]

FAMILY = "kafka"
BROKER_LOSS = "broker-loss"
PAUSE, SLOW, REWIND = "consumer-pause", "consumer-slow", "rewind-pause"
"""The fault kinds (marker ``kind``), which ``restore_kafka`` may filter on."""


@dataclass(frozen=True)
class BrokerLoss:
    """A broker-loss fault as the action asks for it."""

    brokers: list[int] | None
    topic: str | None
    partition: int
    count: int
    graceful: bool
    seconds: float
    statefulset: str
    namespace: str | None
    broker_id_offset: int


@dataclass(frozen=True)
class ConsumerSlowdown:
    """A consumer slow-down: locally frozen ``share`` of every ``period`` seconds; on Kubernetes
    scaled down to ``replicas`` (default half)."""

    consumer: str
    seconds: float
    share: float
    period: float
    replicas: int | None
    namespace: str | None


class KafkaDriver(Protocol):
    def lose_brokers(self, loss: BrokerLoss, configuration: Configuration, secrets: Secrets) -> dict[str, Any]:
        """Record and take the chosen brokers down for ``loss.seconds``."""

    def pause_marker(self, kind: str, consumer: str, seconds: float, namespace: str | None,
                     configuration: Configuration, secrets: Secrets,
                     description: str) -> tuple[FaultMarker, Callable[[], Any]]:
        """The marker and ``apply`` of a consumer pause (not yet activated)."""

    def slow_consumer(self, slowdown: ConsumerSlowdown, configuration: Configuration,
                      secrets: Secrets) -> dict[str, Any]:
        """Record and slow the consumer down for ``slowdown.seconds``."""

    def wait_consumer_stopped(self, consumer: str, marker: FaultMarker, timeout: float,
                              configuration: Configuration, secrets: Secrets) -> None:
        """Until the paused consumer runs nowhere (its group can be rewritten)."""

    def wait_consumer_back(self, consumer: str, marker: FaultMarker, timeout: float,
                           configuration: Configuration, secrets: Secrets) -> dict[str, Any] | None:
        """After the pause is undone: until the consumer serves again (None where that is immediate)."""


if TYPE_CHECKING:  # mypy checks both drivers against the Protocol
    from chaosext.kafka import kubernetes, local

    _local: KafkaDriver = local
    _kubernetes: KafkaDriver = kubernetes
