"""Rollouts on the local stack: one replica at a time through the load balancer.

A replica is drained in HAProxy, restarted (or re-released with a changed environment) under
the supervisor, waited for until its own /readyz answers and HAProxy's health check sees it UP,
then put back in rotation. A release whose replicas never become ready stalls after the first
replica, with the others still serving: what a Kubernetes Deployment does with maxUnavailable 0.
"""

from __future__ import annotations

import configparser
import contextlib
import time
from typing import Any

import requests
from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext.common.waiting import WaitTimeout, wait_until
from chaosext.faults import engine, markers
from chaosext.faults.markers import FaultMarker
from chaosext.faults.undoers import undoer
from chaosext.rollout import haproxy
from chaosext.stack.config import StackConfig, load_config
from chaosext.stack.supervisor import Supervisor

__all__ = ["restart_workload", "restore_release", "rollout_status", "start_failing_rollout", "wait_for_rollout"]

FAMILY = "rollout"


def _replicas(config: StackConfig, service: str) -> list[str]:
    sup = Supervisor(config)
    if not sup.is_running():
        raise ActivityFailed("the local stack is not running (start it with `chaosext stack up`)")
    names = sorted(n for n in sup.processes() if n.startswith(f"{service}-") and n[len(service) + 1:].isdigit())
    if not names:
        raise ActivityFailed(f"'name' {service!r} is not a replicated service of the local stack "
                             "(checkout-api, payment-service)")
    return names


def _ready_url(config: StackConfig, replica: str) -> str:
    port = getattr(config.ports, replica.replace("-", "_"))
    scheme = "https" if replica.startswith("payment") else "http"
    return f"{scheme}://{config.host}:{port}/readyz"


def _replica_ready(config: StackConfig, service: str, replica: str) -> bool:
    try:
        ok = requests.get(_ready_url(config, replica), timeout=1, verify=str(config.ca_file)).status_code == 200
    except requests.RequestException:
        return False
    return ok and haproxy.server_states(service).get(replica, {}).get("status", "").startswith("UP")


def _wait(config: StackConfig, service: str, replica: str, timeout: float) -> bool:
    try:
        return wait_until(f"{replica} ready", lambda: _replica_ready(config, service, replica), timeout_s=timeout)
    except WaitTimeout:
        return False


def _drain(service: str, replica: str, timeout: float = 5.0) -> None:
    haproxy.set_state(service, replica, "drain")
    # best effort: a replica still serving long requests after ``timeout`` is stopped anyway
    with contextlib.suppress(WaitTimeout):
        wait_until(f"{replica} drained", lambda: haproxy.server_states(service)[replica]["sessions"],
                   done=lambda sessions: sessions <= 0, timeout_s=timeout, interval_s=0.1)


def restart_workload(name: str, kind: str = "deployment", namespace: str | None = None, timeout: float = 300,
                     wait: bool = True, configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """One replica at a time: drain, restart, wait ready, put back (so it always waits; ``kind``,
    ``namespace`` and ``wait`` are for the Kubernetes driver)."""
    config = load_config()
    sup = Supervisor(config)
    started = time.monotonic()
    steps = []
    for replica in _replicas(config, name):
        _drain(name, replica)
        sup.stop_program(replica, True)
        sup.start_program(replica, True)
        remaining = timeout - (time.monotonic() - started)
        haproxy.set_state(name, replica, "ready")
        if not _wait(config, name, replica, max(1.0, remaining)):
            raise ActivityFailed(f"rolling restart of {name}: {replica} did not become ready within {timeout}s")
        steps.append({"replica": replica, "ready_after_s": round(time.monotonic() - started, 2)})
    return {"target": "local", "name": name, "replicas": steps, "waited_s": round(time.monotonic() - started, 2),
            "rollout": rollout_status(name, configuration=configuration)}


def wait_for_rollout(name: str, kind: str = "deployment", namespace: str | None = None, timeout: float = 300,
                     configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    config = load_config()
    try:
        return wait_until(f"the rollout of {name}", lambda: rollout_status(name, configuration=configuration),
                          done=lambda state: state["complete"], timeout_s=timeout, interval_s=0.5)
    except WaitTimeout as exc:
        raise ActivityFailed(f"rollout of {name} did not complete within {timeout}s: {exc.last}"
                             f" (config {config.state})") from None


def rollout_status(name: str, kind: str = "deployment", namespace: str | None = None,
                   configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    config = load_config()
    replicas = _replicas(config, name)
    servers = haproxy.server_states(name)
    env = _program_envs(config)
    rows = []
    for replica in replicas:
        rows.append({"replica": replica, "lb_status": servers.get(replica, {}).get("status"),
                     "ready": _replica_ready(config, name, replica),
                     "release": "failing-readiness" if 'READY_FAIL="1"' in env.get(replica, "") else "current"})
    ready = sum(1 for r in rows if r["ready"])
    # the newest release is the failing one while such a rollout is under way
    newest = "failing-readiness" if any(r["release"] == "failing-readiness" for r in rows) else "current"
    updated = sum(1 for r in rows if r["release"] == newest)
    return {"name": name, "replicas": len(rows), "ready_replicas": ready, "available_replicas": ready,
            "updated_replicas": updated, "unavailable_replicas": len(rows) - ready,
            "complete": ready == len(rows) and updated == len(rows), "stalled": updated < len(rows) and ready < len(rows),
            "instances": rows}


def _parser(config: StackConfig) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(config.supervisor_conf)
    return parser


def _program_envs(config: StackConfig) -> dict[str, str]:
    parser = _parser(config)
    return {s.split(":", 1)[1]: parser.get(s, "environment", fallback="") for s in parser.sections()
            if s.startswith("program:")}


def _set_environment(config: StackConfig, replica: str, environment: str) -> None:
    parser = _parser(config)
    section = f"program:{replica}"
    parser.set(section, "environment", environment)
    with open(config.supervisor_conf, "w") as fh:
        parser.write(fh)
    Supervisor(config).update()


def start_failing_rollout(name: str, kind: str, namespace: str | None, seconds: float, settle_timeout: float,
                          configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    config = load_config()
    replicas = _replicas(config, name)
    first = replicas[0]
    original = _program_envs(config)[first]
    fault_id = markers.new_id(FAMILY)
    marker = FaultMarker(
        id=fault_id, family=FAMILY, kind="failing-readiness", target=f"local/{name}",
        scope={"workload": name, "name": name},
        description=f"release of {name} whose replicas fail readiness (on {first}), for {seconds:g}s",
        undo="rollout.local_release",
        undo_args={"name": name, "replica": first, "environment": original},
        expires_at=time.time() + seconds,
    )

    def apply() -> dict[str, Any]:
        with engine.deliberate_wait():  # in-flight requests finish before the replica restarts
            _drain(name, first)
        _set_environment(config, first, original + ',READY_FAIL="1"')
        haproxy.set_state(name, first, "ready")  # its health check keeps it out while not ready
        return {"replica": first, "environment_added": {"READY_FAIL": "1"}}

    record = engine.activate(marker, apply)
    with engine.deliberate_wait():
        stalled = not _wait(config, name, first, settle_timeout)
    record["rollout"] = rollout_status(name, configuration=configuration)
    record["rollout"]["stalled"] = stalled
    return record


@undoer("rollout.local_release")
def restore_release(name: str, replica: str, environment: str, timeout: float = 60) -> None:
    config = load_config()
    _set_environment(config, replica, environment)
    sup = Supervisor(config)
    if sup.processes().get(replica, {}).get("statename") not in ("RUNNING", "STARTING"):
        sup.start_program(replica, True)
    haproxy.set_state(name, replica, "ready")
    _wait(config, name, replica, timeout)
