"""Broker loss: pick the victims (by id, as the leader of a partition, or at random), pass the
guardrails, and take them down for a duration on the local stack or a Kubernetes StatefulSet."""

from __future__ import annotations

import random
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext.faults import engine
from chaosext.kafka import admin
from chaosext.kafka.connection import connection, run
from chaosext.kafka.driver import BROKER_LOSS, FAMILY, BrokerLoss, KafkaDriver
from chaosext.target import driver_for

__all__ = ["KIND", "leader_of", "lose", "victims"]

KIND = BROKER_LOSS


def leader_of(topic: str, partition: int, configuration: Configuration, secrets: Secrets) -> int:
    conn = connection(configuration, secrets)

    async def ask() -> int:
        async with admin.session(conn) as s:
            return await admin.partition_leader(s, topic, partition)

    return run(f"finding the leader of {topic}-{partition}", ask, timeout=30)


def victims(
    brokers: list[int] | None,
    topic: str | None,
    partition: int,
    count: int,
    alive: list[int],
    configuration: Configuration,
    secrets: Secrets,
) -> list[int]:
    if brokers is not None and topic:
        raise ActivityFailed("give either 'brokers' or 'topic' (its partition's leader), not both")
    if topic:
        return [leader_of(topic, partition, configuration, secrets)]
    if brokers is not None:
        return brokers
    if len(alive) < count:
        raise ActivityFailed(f"only {len(alive)} brokers are up; cannot take 'count'={count} down")
    return sorted(random.sample(alive, count))


def lose(
    brokers: list[int] | None,
    topic: str | None,
    partition: int,
    count: int,
    mode: str,
    duration: float,
    statefulset: str,
    namespace: str | None,
    broker_id_offset: int,
    configuration: Configuration,
    secrets: Secrets,
) -> dict[str, Any]:
    loss = BrokerLoss(brokers, topic, partition, count, mode == "stop", engine.check_duration(duration), statefulset,
                      namespace, broker_id_offset)
    driver: KafkaDriver = driver_for(configuration, FAMILY)
    return driver.lose_brokers(loss, configuration, secrets)
