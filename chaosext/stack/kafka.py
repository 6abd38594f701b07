"""Kafka set-up for the stack: format the KRaft storage once, create the topics with a real admin client."""

from __future__ import annotations

import asyncio
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from chaosext.errors import ComponentError
from chaosext.stack.config import StackConfig
from chaosext.stack.kafka_dist import broker_classpath

__all__ = ["TopicSpec", "cluster_brokers", "ensure_topics", "format_storage", "topic_specs"]


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication: int
    configs: dict[str, str]


def topic_specs(config: StackConfig) -> list[TopicSpec]:
    return [
        TopicSpec(config.orders_topic, 3, 3, {"min.insync.replicas": "2"}),
        TopicSpec(config.dlq_topic, 3, 3, {"min.insync.replicas": "2"}),
    ]


def _format_one(config: StackConfig, broker_id: int) -> str | None:
    data = config.kafka_dir(broker_id) / "data"
    if (data / "meta.properties").exists():
        return None
    cmd = [
        "/usr/bin/java",
        "-Xmx256m",
        "-XX:TieredStopAtLevel=1",
        f"-Dlog4j2.configurationFile={config.state / 'kafka' / 'log4j2.properties'}",
        "-cp",
        broker_classpath(config),
        "kafka.tools.StorageTool",
        "format",
        "-t",
        config.kafka_cluster_id,
        "-c",
        str(config.kafka_dir(broker_id) / "server.properties"),
        "--ignore-formatted",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise ComponentError(
            f"kafka-{broker_id}: formatting the storage in {data} failed (exit {proc.returncode}): "
            f"{(proc.stdout + proc.stderr).strip()[-1200:]}"
        )
    return f"kafka-{broker_id}: storage formatted in {data}"


def format_storage(config: StackConfig) -> list[str]:
    """Format every broker's data dir that is not formatted yet (in parallel); returns what it did."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda i: _format_one(config, i), (1, 2, 3)))
    return [r for r in results if r]


async def _admin(config: StackConfig) -> AIOKafkaAdminClient:
    admin = AIOKafkaAdminClient(bootstrap_servers=config.kafka_bootstrap, request_timeout_ms=10000)
    await admin.start()
    return admin


async def _cluster_brokers(config: StackConfig) -> list[int]:
    admin = await _admin(config)
    try:
        cluster: dict[str, Any] = await admin.describe_cluster()
    finally:
        await admin.close()
    return sorted(int(b["node_id"]) for b in cluster.get("brokers", []))


def cluster_brokers(config: StackConfig) -> list[int]:
    """The ids of the brokers registered in the cluster's metadata."""
    return asyncio.run(_cluster_brokers(config))


async def _ensure_topics(config: StackConfig) -> list[str]:
    admin = await _admin(config)
    try:
        existing = set(await admin.list_topics())
        wanted = [t for t in topic_specs(config) if t.name not in existing]
        if not wanted:
            return []
        response = await admin.create_topics(
            [NewTopic(t.name, t.partitions, t.replication, topic_configs=t.configs) for t in wanted],
            timeout_ms=15000,
        )
        errors = []
        for item in response.to_object().get("topics", []):
            code = item.get("error_code", 0)
            if code not in (0, 36):  # 36: TOPIC_ALREADY_EXISTS (another `up` raced us)
                errors.append(f"{item.get('name')}: error {code} {item.get('error_message') or ''}".strip())
        if errors:
            raise ComponentError(f"kafka: creating topics failed: {'; '.join(errors)}")
        return [t.name for t in wanted]
    finally:
        await admin.close()


def ensure_topics(config: StackConfig) -> list[str]:
    """Create the stack's topics that do not exist yet; returns the names it created."""
    try:
        return asyncio.run(_ensure_topics(config))
    except KafkaError as exc:
        raise ComponentError(f"kafka: cannot create the topics: {exc}") from None
