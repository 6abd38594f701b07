"""Instances on the local stack: supervisor programs ``<service>-<n>`` (or ``<service>``)."""

from __future__ import annotations

import os
import random
import signal as signals
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration

from chaosext.faults import guardrails
from chaosext.faults.undoers import undoer
from chaosext.stack.config import load_config
from chaosext.stack.supervisor import Supervisor

__all__ = ["instances", "kill", "start", "stop", "supervisor"]


def supervisor() -> Supervisor:
    sup = Supervisor(load_config())
    if not sup.is_running():
        raise ActivityFailed("the local stack is not running (start it with `chaosext stack up`)")
    return sup


def instances(service: str) -> dict[str, dict[str, Any]]:
    """The supervisor programs that are replicas of ``service``, by name."""
    procs = supervisor().processes()
    found = {name: info for name, info in procs.items()
             if name == service or (name.startswith(f"{service}-") and name[len(service) + 1:].isdigit())}
    if not found:
        known = sorted({n.rsplit("-", 1)[0] if n[-1].isdigit() else n for n in procs})
        raise ActivityFailed(f"'service' {service!r} is not a service of the local stack (known: {', '.join(known)})")
    return found


def _signal_number(name: str) -> int:
    try:
        return int(signals.Signals[name.upper() if name.upper().startswith("SIG") else f"SIG{name.upper()}"])
    except KeyError:
        raise ActivityFailed(f"'signal' must be a signal name such as SIGKILL or SIGTERM, got {name!r}") from None


def pick(service: str, count: int, configuration: Configuration, names: list[str] | None = None) -> list[str]:
    found = instances(service)
    if names:
        unknown = [n for n in names if n not in found]
        if unknown:
            raise ActivityFailed(f"'instances' {unknown} are not replicas of {service!r} ({sorted(found)})")
        chosen = list(names)
    else:
        running = [n for n, i in found.items() if i["statename"] == "RUNNING"]
        if len(running) < count:
            raise ActivityFailed(f"only {len(running)} of {len(found)} replicas of {service!r} are running; "
                                 f"cannot hit {count}")
        chosen = random.sample(sorted(running), count)
    guardrails.check_replica_share(len(chosen), len(found), f"replicas of {service!r}", configuration)
    return chosen


def kill(service: str, count: int, signal: str, configuration: Configuration,
         names: list[str] | None = None) -> list[dict[str, Any]]:
    signum = _signal_number(signal)
    chosen = pick(service, count, configuration, names)
    found = instances(service)
    killed = []
    for name in chosen:
        pid = int(found[name]["pid"])
        if pid <= 0:
            raise ActivityFailed(f"{name} has no running process to kill")
        os.kill(pid, signum)
        killed.append({"instance": name, "pid": pid, "signal": signals.Signals(signum).name})
    return killed


def stop(names: list[str]) -> None:
    sup = supervisor()
    for name in names:
        sup.stop_program(name, True)


@undoer("instance.start")
def start(names: list[str]) -> None:
    """Start the programs again (idempotent: already running is fine)."""
    sup = Supervisor(load_config())
    if not sup.is_running():
        return
    procs = sup.processes()
    for name in names:
        if procs.get(name, {}).get("statename") not in ("RUNNING", "STARTING"):
            sup.start_program(name, True)
