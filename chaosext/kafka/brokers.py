"""Broker loss: pick the victims (by id, as the leader of a partition, or at random), pass the
guardrails, and take them down for a duration on the local stack or a Kubernetes StatefulSet."""

from __future__ import annotations

import random
import time
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext import kube
from chaosext.faults import engine, guardrails, markers
from chaosext.faults.markers import FaultMarker
from chaosext.kafka import admin
from chaosext.kafka.connection import connection, run
from chaosext.target import target_of

__all__ = ["KIND", "lose"]

FAMILY = "kafka"
KIND = "broker-loss"


def leader_of(topic: str, partition: int, configuration: Configuration, secrets: Secrets) -> int:
    conn = connection(configuration, secrets)

    async def ask() -> int:
        async with admin.session(conn) as s:
            return await admin.partition_leader(s, topic, partition)

    return run(f"finding the leader of {topic}-{partition}", ask, timeout=30)


def _already_down(target: str) -> set[str]:
    down: set[str] = set()
    for m in markers.list_markers(family=FAMILY, kind=KIND):
        if m.target.startswith(target):
            down.update(m.undo_args.get("programs") or m.undo_args.get("pods") or [])
    return down


def _victims(
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
    seconds = engine.check_duration(duration)
    graceful = mode == "stop"
    if target_of(configuration) == "local":
        return _lose_local(brokers, topic, partition, count, graceful, seconds, configuration, secrets)
    return _lose_kubernetes(
        brokers,
        topic,
        partition,
        count,
        graceful,
        seconds,
        statefulset,
        namespace,
        broker_id_offset,
        configuration,
        secrets,
    )


def _lose_local(
    brokers: list[int] | None,
    topic: str | None,
    partition: int,
    count: int,
    graceful: bool,
    seconds: float,
    configuration: Configuration,
    secrets: Secrets,
) -> dict[str, Any]:
    from chaosext.kafka import local

    programs = local.broker_programs()
    running = sorted(i for i, info in programs.items() if info["statename"] == "RUNNING")
    victims = _victims(brokers, topic, partition, count, running, configuration, secrets)
    unknown = [b for b in victims if b not in programs]
    if unknown:
        raise ActivityFailed(
            f"'brokers' {unknown} are not brokers of the local stack (known: {sorted(programs)})"
        )
    not_running = [b for b in victims if b not in running]
    if not_running:
        raise ActivityFailed(f"'brokers' {not_running} are not running; nothing changed")
    down = {int(n.split("-")[1]) for n in _already_down("local/")} | (set(programs) - set(running))
    guardrails.check_replica_share(
        len(set(victims) | down),
        len(programs),
        f"Kafka brokers (counting those already down: {sorted(down)})",
        configuration,
    )
    names = [f"kafka-{b}" for b in victims]
    how = "stopped (SIGTERM)" if graceful else "killed (SIGKILL)"
    marker = FaultMarker(
        id=markers.new_id(FAMILY),
        family=FAMILY,
        kind=KIND,
        target=f"local/{','.join(names)}",
        scope={"brokers": ",".join(names)},
        description=f"{how} Kafka broker(s) {victims} for {seconds:g}s"
        + (f" (leader of {topic}-{partition})" if topic else ""),
        undo="kafka.start_brokers",
        undo_args={"programs": names},
        expires_at=time.time() + seconds,
    )
    record = engine.activate(marker, lambda: {"brokers": local.stop_brokers(victims, graceful)})
    return {**record, "target": "local", "brokers": victims}


def _lose_kubernetes(
    brokers: list[int] | None,
    topic: str | None,
    partition: int,
    count: int,
    graceful: bool,
    seconds: float,
    statefulset: str,
    namespace: str | None,
    offset: int,
    configuration: Configuration,
    secrets: Secrets,
) -> dict[str, Any]:
    from chaosext.kafka import kubernetes as k8s

    ns = kube.namespace_of(namespace, configuration)
    sts, pods = k8s.broker_pods(statefulset, ns, configuration, secrets)
    total = int(sts.spec.replicas or 0)
    alive = sorted(o + offset for o, p in pods.items() if p.metadata.deletion_timestamp is None and o < total)
    victims = _victims(brokers, topic, partition, count, alive, configuration, secrets)
    known = [o + offset for o in range(total)]
    unknown = [b for b in victims if b not in known]
    if unknown:
        raise ActivityFailed(
            f"'brokers' {unknown} are not brokers of statefulset {ns}/{statefulset} "
            f"(known: {known}, broker_id_offset={offset})"
        )
    # brokers already down (held by another fault, crashed, not yet recreated) count against the share
    down = {b for b in known if b not in alive}
    guardrails.check_replica_share(
        len(set(victims) | down),
        total,
        f"Kafka broker pods (counting those already down: {sorted(down)})",
        configuration,
    )
    names = [f"{statefulset}-{b - offset}" for b in victims]
    grace = None if graceful else 0
    image = str(sts.spec.template.spec.containers[0].image or "registry.k8s.io/pause:3.10")
    context = kube.current_context(secrets)
    fault_id = markers.new_id(FAMILY)
    expires_at = time.time() + seconds
    marker = FaultMarker(
        id=fault_id,
        family=FAMILY,
        kind=KIND,
        target=f"statefulset/{ns}/{statefulset}",
        scope={"statefulset": statefulset, "namespace": ns},
        description=f"{'stopped' if graceful else 'killed'} and held down pod(s) {names} of statefulset "
        f"{ns}/{statefulset} for {seconds:g}s" + (f" (leader of {topic}-{partition})" if topic else ""),
        undo="kafka.release_brokers",
        undo_args={
            "fault_id": fault_id,
            "statefulset": statefulset,
            "namespace": ns,
            "context": context,
            "pods": names,
        },
        expires_at=expires_at,
    )

    def apply() -> dict[str, Any]:
        return k8s.delete_and_hold(fault_id, statefulset, ns, names, grace, expires_at, image, context)

    record = engine.activate(marker, apply)
    return {**record, "target": "kubernetes", "brokers": victims}
