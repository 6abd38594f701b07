"""The local stack's side of the Kafka faults: broker programs ``kafka-<id>`` and the consumer
program (``order-consumer``) under the stack's supervisor."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from typing import Any

from chaoslib.exceptions import ActivityFailed

from chaosext.common import procs
from chaosext.common.waiting import WaitTimeout, wait_until
from chaosext.faults.paths import faults_dir
from chaosext.kafka.throttle import is_throttler
from chaosext.stack.config import load_config
from chaosext.stack.supervisor import Supervisor

__all__ = [
    "broker_programs",
    "consumer_pid",
    "resume_consumer",
    "start_brokers",
    "start_throttle",
    "stop_brokers",
    "stop_consumer",
    "stop_throttle",
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
