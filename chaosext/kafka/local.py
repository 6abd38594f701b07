"""The local stack's side of the Kafka faults: broker programs ``kafka-<id>`` and the consumer
program (``order-consumer``) under the stack's supervisor."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext.common import procs
from chaosext.common.waiting import WaitTimeout, wait_until
from chaosext.faults import engine, guardrails, markers
from chaosext.faults.markers import FaultMarker
from chaosext.faults.paths import faults_dir
from chaosext.faults.undoers import undoer
from chaosext.kafka.driver import BROKER_LOSS, FAMILY, SLOW, BrokerLoss, ConsumerSlowdown
from chaosext.kafka.throttle import is_throttler
from chaosext.stack.config import load_config
from chaosext.stack.supervisor import Supervisor

__all__ = [
    "broker_programs",
    "consumer_pid",
    "lose_brokers",
    "pause_marker",
    "resume_consumer",
    "slow_consumer",
    "start_brokers",
    "start_throttle",
    "stop_brokers",
    "stop_consumer",
    "stop_throttle",
    "wait_consumer_back",
    "wait_consumer_stopped",
]


def _supervisor() -> Supervisor:
    sup = Supervisor(load_config())
    if not sup.is_running():
        raise ActivityFailed("the local stack is not running (start it with `chaosext stack up`)")
    return sup


def broker_programs() -> dict[int, dict[str, Any]]:
    """Supervisor info of every ``kafka-<id>`` program, by broker id."""
    return {
        int(name.split("-", 1)[1]): info
        for name, info in _supervisor().processes().items()
        if name.startswith("kafka-") and name.split("-", 1)[1].isdigit()
    }


def _wait_state(sup: Supervisor, name: str, states: set[str], timeout: float) -> str:
    try:
        return wait_until(f"{name} to reach {'/'.join(sorted(states))}",
                          lambda: str(sup.processes().get(name, {}).get("statename", "")),
                          done=lambda state: state in states, timeout_s=timeout, interval_s=0.1)
    except WaitTimeout as exc:
        raise ActivityFailed(
            f"{name} did not reach {'/'.join(sorted(states))} within {timeout:g}s (state {exc.last})"
        ) from None


def stop_brokers(ids: list[int], graceful: bool) -> list[dict[str, Any]]:
    """Stop (SIGTERM: controlled shutdown) or kill (SIGKILL, no shutdown at all) the brokers, and keep
    them stopped: the supervisor is told the program is stopping, so it does not restart it."""
    sup = _supervisor()
    infos = sup.processes()
    done = []
    for broker_id in ids:
        name = f"kafka-{broker_id}"
        pid = int(infos[name]["pid"])
        started = time.time()
        if graceful:
            sup.stop_program(name, True)
        else:
            # freeze first so the SIGTERM the supervisor sends is never handled, then SIGKILL:
            # an ungraceful crash, and the supervisor sees a program it was stopping (no restart)
            os.kill(pid, signal.SIGSTOP)
            sup.stop_program(name, False)
            os.kill(pid, signal.SIGKILL)
            _wait_state(sup, name, {"STOPPED", "EXITED"}, 15)
        done.append(
            {
                "broker": broker_id,
                "program": name,
                "pid": pid,
                "how": "SIGTERM (graceful)" if graceful else "SIGKILL (ungraceful)",
                "took_s": round(time.time() - started, 2),
            }
        )
    return done


@undoer("kafka.start_brokers")
def start_brokers(programs: list[str]) -> None:
    """Start the broker programs again (idempotent; a stack that is down is left alone)."""
    sup = Supervisor(load_config())
    if not sup.is_running():
        return
    for name in programs:
        state = sup.processes().get(name, {}).get("statename")
        if state == "STOPPING":  # interrupted mid-kill: the supervisor finishes the stop first
            state = _wait_state(sup, name, {"STOPPED", "EXITED", "FATAL"}, 30)
        if state not in ("RUNNING", "STARTING"):
            sup.start_program(name, False)


def _consumer_info(program: str) -> dict[str, Any]:
    info = _supervisor().processes().get(program)
    if info is None:
        raise ActivityFailed(f"'consumer' {program!r} is not a program of the local stack")
    return info


def consumer_pid(program: str) -> int:
    info = _consumer_info(program)
    if info["statename"] != "RUNNING" or not info["pid"]:
        raise ActivityFailed(f"'consumer' {program!r} is not running (state {info['statename']})")
    return int(info["pid"])


def stop_consumer(program: str) -> dict[str, Any]:
    """Stop the consumer program gracefully (it leaves its group)."""
    pid = consumer_pid(program)
    _supervisor().stop_program(program, True)
    return {"program": program, "pid": pid, "stopped": True}


@undoer("kafka.resume_consumer")
def resume_consumer(program: str, pid: int | None = None) -> None:
    """Undo for pause and slow: continue a frozen process, start a stopped program (idempotent)."""
    if pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
    sup = Supervisor(load_config())
    if sup.is_running() and sup.processes().get(program, {}).get("statename") not in ("RUNNING", "STARTING"):
        sup.start_program(program, False)


def start_throttle(pid: int, pause_ms: float, run_ms: float, until: float) -> int:
    log = open(faults_dir() / "kafka-throttle.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chaosext.kafka.throttle",
            "--pid",
            str(pid),
            "--pause-ms",
            str(pause_ms),
            "--run-ms",
            str(run_ms),
            "--until",
            str(until),
        ],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,
        close_fds=True,
    )
    log.close()
    return proc.pid


@undoer("kafka.stop_throttle")
def stop_throttle(throttle_pid: int, program: str, pid: int) -> None:
    """Undo of a slow-down: end the throttler (only if that pid still is one), then continue the consumer."""
    if is_throttler(throttle_pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(throttle_pid, signal.SIGTERM)

        def gone() -> bool:
            procs.reap(throttle_pid)
            return not is_throttler(throttle_pid)

        with contextlib.suppress(WaitTimeout):  # the consumer is continued whatever the throttler does
            wait_until(f"throttler {throttle_pid} to end", gone, timeout_s=5, interval_s=0.05)
    resume_consumer(program, pid)


# ---- the driver (chaosext.kafka.driver.KafkaDriver) -----------------------------------------------


def _held_down() -> set[str]:
    """The broker programs other chaosext faults hold down now."""
    down: set[str] = set()
    for m in markers.list_markers(family=FAMILY, kind=BROKER_LOSS):
        if m.undo_key == "kafka.start_brokers":
            down.update(m.undo_args.get("programs") or [])
    return down


def lose_brokers(loss: BrokerLoss, configuration: Configuration, secrets: Secrets) -> dict[str, Any]:
    """Stop (SIGTERM) or kill (SIGKILL) the chosen ``kafka-<id>`` programs for ``loss.seconds``."""
    from chaosext.kafka.brokers import victims as choose

    brokers, topic, partition, count = loss.brokers, loss.topic, loss.partition, loss.count
    graceful, seconds = loss.graceful, loss.seconds
    programs = broker_programs()
    running = sorted(i for i, info in programs.items() if info["statename"] == "RUNNING")
    victims = choose(brokers, topic, partition, count, running, configuration, secrets)
    unknown = [b for b in victims if b not in programs]
    if unknown:
        raise ActivityFailed(
            f"'brokers' {unknown} are not brokers of the local stack (known: {sorted(programs)})"
        )
    not_running = [b for b in victims if b not in running]
    if not_running:
        raise ActivityFailed(f"'brokers' {not_running} are not running; nothing changed")
    down = {int(n.split("-")[1]) for n in _held_down()} | (set(programs) - set(running))
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
        kind=BROKER_LOSS,
        target=f"local/{','.join(names)}",
        scope={"brokers": ",".join(names)},
        description=f"{how} Kafka broker(s) {victims} for {seconds:g}s"
        + (f" (leader of {topic}-{partition})" if topic else ""),
        undo="kafka.start_brokers",
        undo_args={"programs": names},
        expires_at=time.time() + seconds,
    )
    record = engine.activate(marker, lambda: {"brokers": stop_brokers(victims, graceful)})
    return {**record, "target": "local", "brokers": victims}


def pause_marker(kind: str, consumer: str, seconds: float, namespace: str | None, configuration: Configuration,
                 secrets: Secrets, description: str) -> tuple[FaultMarker, Callable[[], Any]]:
    """A pause stops the supervisor program (it leaves its group); undo starts it again."""
    fault_id = markers.new_id(FAMILY)
    expires_at = time.time() + seconds
    pid = consumer_pid(consumer)
    marker = FaultMarker(
        id=fault_id,
        family=FAMILY,
        kind=kind,
        target=f"local/{consumer}",
        scope={"consumer": consumer},
        description=description,
        undo="kafka.resume_consumer",
        undo_args={"program": consumer, "pid": pid},
        expires_at=expires_at,
    )
    return marker, lambda: stop_consumer(consumer)


def slow_consumer(slowdown: ConsumerSlowdown, configuration: Configuration, secrets: Secrets) -> dict[str, Any]:
    """Freeze the consumer with SIGSTOP for ``share`` of every ``period`` (a throttler process)."""
    consumer, seconds, share, period = slowdown.consumer, slowdown.seconds, slowdown.share, slowdown.period
    fault_id = markers.new_id(FAMILY)
    expires_at = time.time() + seconds
    pid = consumer_pid(consumer)
    pause_ms, run_ms = period * share * 1000, period * (1 - share) * 1000
    marker = FaultMarker(
        id=fault_id,
        family=FAMILY,
        kind=SLOW,
        target=f"local/{consumer}",
        scope={"consumer": consumer},
        description=f"slowed consumer {consumer!r} (frozen {share:.0%} of every {period:g}s) "
        f"for {seconds:g}s",
        undo="kafka.stop_throttle",
        undo_args={"throttle_pid": 0, "program": consumer, "pid": pid},
        expires_at=expires_at,
    )

    def apply_local() -> dict[str, Any]:
        throttle_pid = start_throttle(pid, pause_ms, run_ms, expires_at)
        engine.record(marker, throttle_pid=throttle_pid)
        return {
            "program": consumer,
            "pid": pid,
            "throttle_pid": throttle_pid,
            "frozen_ms_per_period": round(pause_ms),
            "running_ms_per_period": round(run_ms),
        }

    return engine.activate(marker, apply_local)


def wait_consumer_stopped(consumer: str, marker: FaultMarker, timeout: float, configuration: Configuration,
                          secrets: Secrets) -> None:
    """Nothing to wait for: the supervisor has stopped the program when the pause returns."""


def wait_consumer_back(consumer: str, marker: FaultMarker, timeout: float, configuration: Configuration,
                       secrets: Secrets) -> dict[str, Any] | None:
    """None: the supervisor has started the program when the undo returns."""
    return None
