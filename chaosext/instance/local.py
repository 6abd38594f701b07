"""Instances on the local stack: supervisor programs ``<service>-<n>`` (or ``<service>``)."""

from __future__ import annotations

import os
import random
import signal as signals
import time
import xmlrpc.client
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext.faults import engine, guardrails, markers
from chaosext.faults.markers import FaultMarker
from chaosext.faults.undoers import undoer
from chaosext.instance.driver import long_enough
from chaosext.stack.config import SERVICE_REPLICAS, load_config
from chaosext.stack.supervisor import Supervisor

__all__ = ["instances", "instances_ready", "kill", "kill_instances", "pick", "programs", "start", "stop", "stop_instances",
           "supervisor"]

FAMILY = "instance"


NOT_RUNNING = "the local stack is not running (start it with `chaosext stack up`)"


def supervisor() -> Supervisor:
    sup = Supervisor(load_config())
    if not sup.is_running():
        raise ActivityFailed(NOT_RUNNING)
    return sup


def programs() -> dict[str, dict[str, Any]]:
    """Every program of the stack's supervisord with its state and pid, by name, from one XML-RPC
    call (the answer itself says whether supervisord runs: no separate check first)."""
    try:
        infos = Supervisor(load_config()).rpc.getAllProcessInfo()
    except (OSError, xmlrpc.client.Fault, xmlrpc.client.ProtocolError):
        raise ActivityFailed(NOT_RUNNING) from None
    return {info["name"]: info for info in infos}


def _known_replicas(service: str) -> dict[str, dict[str, Any]] | None:
    """The state of a sample service's replicas (``SERVICE_REPLICAS``), asked of supervisord for
    just those programs in one call: a fraction of listing them all, whose answer takes
    supervisord and this process several times longer to write and read. None for another
    service, or when supervisord does not know one of the names (it runs another config)."""
    names = SERVICE_REPLICAS.get(service)
    if not names:
        return None
    try:
        answers = Supervisor(load_config()).infos_of(names)
    except (OSError, xmlrpc.client.Fault, xmlrpc.client.ProtocolError):
        raise ActivityFailed(NOT_RUNNING) from None
    if any("faultCode" in answer for answer in answers):
        return None
    return {answer["name"]: answer for answer in answers}


def _is_replica(name: str, service: str) -> bool:
    return name == service or (name.startswith(f"{service}-") and name[len(service) + 1:].isdigit())


def instances(service: str) -> dict[str, dict[str, Any]]:
    """The supervisor programs that are replicas of ``service``, by name."""
    found = _known_replicas(service)
    if found is not None:
        return found
    procs = programs()
    found = {name: info for name, info in procs.items() if _is_replica(name, service)}
    if not found:
        known = sorted({n.rsplit("-", 1)[0] if n[-1].isdigit() else n for n in procs})
        raise ActivityFailed(f"'service' {service!r} is not a service of the local stack (known: {', '.join(known)})")
    return found


def _signal_number(name: str) -> int:
    try:
        return int(signals.Signals[name.upper() if name.upper().startswith("SIG") else f"SIG{name.upper()}"])
    except KeyError:
        raise ActivityFailed(f"'signal' must be a signal name such as SIGKILL or SIGTERM, got {name!r}") from None


def pick(service: str, count: int, configuration: Configuration, names: list[str] | None = None,
         found: dict[str, dict[str, Any]] | None = None) -> list[str]:
    """The replicas to hit (``names``, else ``count`` running ones at random), within the
    guardrails; ``found``: the replicas of ``service`` when the caller listed them already."""
    found = instances(service) if found is None else found
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
    found = instances(service)  # listed once: the choice, the guardrails and the pids share it
    chosen = pick(service, count, configuration, names, found)
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


# ---- the driver (chaosext.instance.driver.InstanceDriver) -----------------------------------------


def kill_instances(service: str, count: int, signal: str, namespace: str | None, label_selector: str | None,
                   configuration: Configuration, secrets: Secrets) -> dict[str, Any]:
    """Signal the processes of ``count`` running replicas (supervisor programs)."""
    killed = kill(service, count, signal, configuration)
    return {"target": "local", "service": service, "killed": killed, "at": time.time()}


def stop_instances(service: str, count: int, seconds: float, kind: str, namespace: str | None,
                   configuration: Configuration, secrets: Secrets) -> dict[str, Any]:
    """Stop ``count`` replicas under the supervisor for ``seconds`` (started again on undo)."""
    names = pick(service, count, configuration)
    marker = FaultMarker(
        id=markers.new_id(FAMILY), family=FAMILY, kind="stop", target=f"local/{service}", scope={"service": service},
        description=f"stopped {', '.join(names)} for {seconds:g}s",
        undo="instance.start", undo_args={"names": names},
        expires_at=time.time() + seconds,
    )

    def apply() -> dict[str, Any]:
        stop(names)
        return {"stopped": names}

    return engine.activate(marker, apply)


def instances_ready(service: str, namespace: str | None, label_selector: str | None, running_for_s: float | None,
                    configuration: Configuration, secrets: Secrets) -> dict[str, Any]:
    rows = [{"instance": n, "state": i["statename"], "pid": i["pid"],
             "running_for_s": round(i["now"] - i["start"], 1) if i["statename"] == "RUNNING" else None}
            for n, i in sorted(instances(service).items())]
    ready = sum(1 for r in rows if r["state"] == "RUNNING" and long_enough(r["running_for_s"], running_for_s))
    return {"service": service, "total": len(rows), "ready": ready, "instances": rows}
