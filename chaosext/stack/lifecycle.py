"""The stack's lifecycle: ``up`` (idempotent, waits for health), ``status`` and ``down`` (leaves nothing).

Python API for tests and fault actions::

    from chaosext.stack import lifecycle
    from chaosext.stack.config import load_config

    config = load_config()
    lifecycle.up(config, progress=print)     # -> status dict
    lifecycle.status(config)                 # -> {"healthy", "components", "endpoints", ...}
    lifecycle.down(config)
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from chaosext.errors import ComponentError
from chaosext.stack import health, procs
from chaosext.stack.config import StackConfig, load_config
from chaosext.stack.install import missing_components
from chaosext.stack.kafka import ensure_topics, format_storage
from chaosext.stack.programs import Program, programs, supervisord_conf
from chaosext.stack.render import write_component_files, write_if_changed
from chaosext.stack.supervisor import Supervisor
from chaosext.stack.tls import ensure_tls
from chaosext.stack.toxiproxy import ensure_proxies

__all__ = ["down", "prepare", "status", "up"]

Progress = Callable[[str], None]
SERVICES = ("checkout-api", "payment-service", "order-consumer")
KAFKA = ("kafka-1", "kafka-2", "kafka-3")
KAFKA_STOP_GRACE_S = 6.0


def _quiet(_: str) -> None:
    return None


@contextmanager
def _exclusive(config: StackConfig, progress: Progress) -> Iterator[None]:
    """One `up`/`down` at a time per state dir (a second caller waits for the first)."""
    config.state.mkdir(parents=True, exist_ok=True)
    with open(config.state / ".lifecycle.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress("another `stack up`/`down` is running on this state dir; waiting for it")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def prepare(config: StackConfig, progress: Progress = _quiet) -> list[Program]:
    """Write every generated file (TLS, component configs, supervisord.conf), format Kafka's storage."""
    missing = missing_components(config)
    if missing:
        raise ComponentError(
            f"not installed: {', '.join(missing)}; fix: run `chaosext install` (or scripts/setup.sh)"
        )
    for sub in ("logs", "redis", "prometheus/data", "toxiproxy", "haproxy", "services"):
        (config.state / sub).mkdir(parents=True, exist_ok=True)
    if ensure_tls(config):
        progress(f"tls: stack CA and payment certificate written to {config.tls}")
    for service in SERVICES:
        path = config.service_config_file(service)
        if not path.exists():
            write_if_changed(path, "{}\n")
    hashes = write_component_files(config)
    progs = programs(config, hashes)
    write_if_changed(config.supervisor_conf, supervisord_conf(config, progs))
    for line in format_storage(config):
        progress(line)
    return progs


def _check_ports_free(config: StackConfig, progs: list[Program]) -> None:
    owner = {port: prog.name for prog in progs for port in prog.ports}
    busy = procs.listeners(procs.stack_ports(config), config.host)
    if busy:
        lines = [
            f"port {b.port}/{b.kind} (for {owner.get(b.port, '?')}) is taken by pid {b.pid} {b.process}"
            for b in busy
        ]
        raise ComponentError(
            "cannot start the stack: "
            + "; ".join(lines)
            + ". Stop those processes (or `chaosext stack down` if it is a stale stack), "
            "or move the stack with CHAOSEXT_PORT_OFFSET"
        )


def _run_checks(config: StackConfig, names: list[str] | None = None) -> dict[str, tuple[bool, str]]:
    checks = health.checks(config)
    selected = {n: c for n, c in checks.items() if names is None or n in names}
    with ThreadPoolExecutor(max_workers=len(selected) or 1) as pool:
        futures = {name: pool.submit(check) for name, check in selected.items()}
        return {name: fut.result() for name, fut in futures.items()}


def _wait_healthy(
    config: StackConfig, sup: Supervisor, progress: Progress, started: float, timeout: float
) -> None:
    deadline = started + timeout
    healthy: set[str] = set()
    topics_done = proxies_done = False
    last: dict[str, tuple[bool, str]] = {}
    last_note = time.monotonic()
    while True:
        pending = [n for n in health.checks(config) if n not in healthy]
        last = _run_checks(config, pending)
        for name, (ok, _) in last.items():
            if ok:
                healthy.add(name)
                progress(f"{name}: healthy ({time.monotonic() - started:.1f}s)")
        if not proxies_done and health.port_open(config.host, config.ports.toxiproxy_api):
            try:
                for name in ensure_proxies(config):
                    progress(f"toxiproxy: proxy {name} created")
                proxies_done = True
            except ComponentError as exc:  # the API may not be fully up yet: try again next round
                last["toxiproxy"] = (False, str(exc))
        if not topics_done and all(k in healthy for k in KAFKA):
            try:
                for topic in ensure_topics(config):
                    progress(f"kafka: topic {topic} created")
                topics_done = True
            except ComponentError as exc:
                if time.monotonic() > deadline:
                    raise
                last["kafka-topics"] = (False, str(exc))
        if topics_done and len(healthy) == len(health.checks(config)):
            # a component may have gone down while others came up: confirm everything once more
            final = _run_checks(config)
            bad = {n: r for n, r in final.items() if not r[0]}
            if not bad:
                return
            healthy -= set(bad)
            last = bad
        if time.monotonic() > deadline:
            break
        if time.monotonic() - last_note > 10:
            waiting = sorted(n for n in health.checks(config) if n not in healthy)
            progress(f"waiting for: {', '.join(waiting)} ({time.monotonic() - started:.0f}s)")
            last_note = time.monotonic()
        time.sleep(0.3)
    states = sup.processes()
    problems = []
    for name, (ok, detail) in sorted(last.items()):
        if ok:
            continue
        state = states.get(name, {}).get("statename", "not running")
        problems.append(f"  {name}: {state}, {detail}; log: {config.logs / (name + '.log')}")
    raise ComponentError(f"the stack did not become healthy within {timeout:.0f}s:\n" + "\n".join(problems))


def up(
    config: StackConfig | None = None, progress: Progress = _quiet, timeout: float | None = None
) -> dict[str, Any]:
    """Bring the stack up (or leave it up) and wait until every component is healthy; returns status()."""
    config = config or load_config()
    with _exclusive(config, progress):
        _up(config, progress, timeout or config.up_timeout)
    return status(config)


def _up(config: StackConfig, progress: Progress, timeout: float) -> None:
    started = time.monotonic()
    sup = Supervisor(config)
    progs = prepare(config, progress)
    if sup.is_running():
        changed = sup.update(force_after={"kafka-": KAFKA_STOP_GRACE_S})
        if changed:
            progress(f"supervisor: configuration changed, restarted {', '.join(changed)}")
        restarted = sup.start_stopped()
        if restarted:
            progress(f"supervisor: started {', '.join(restarted)}")
    else:
        leftovers = procs.stack_processes(config)
        if leftovers:
            killed = procs.kill_tree(leftovers)
            progress(f"removed {len(killed)} leftover process(es) of an earlier stack: {killed}")
        _check_ports_free(config, progs)
        progress(f"supervisor: starting {len(progs)} programs (logs in {config.logs})")
        sup.start_daemon()
    _wait_healthy(config, sup, progress, started, timeout)
    progress(f"stack up: all {len(progs)} components healthy in {time.monotonic() - started:.1f}s")


def status(config: StackConfig | None = None) -> dict[str, Any]:
    """Every component's supervisor state, pid and health, plus the endpoints."""
    config = config or load_config()
    sup = Supervisor(config)
    infos = sup.processes()
    results = _run_checks(config) if infos else {}
    progs = programs(config)
    components = []
    for prog in progs:
        info = infos.get(prog.name, {})
        state = info.get("statename", "NOT RUNNING")
        ok, detail = results.get(prog.name, (False, "supervisord is not running"))
        running = state == "RUNNING"
        components.append(
            {
                "name": prog.name,
                "healthy": running and ok,
                "state": state,
                "pid": info.get("pid") or None,
                "uptime_s": (info["now"] - info["start"]) if running else 0,
                "ports": prog.ports,
                "detail": detail,
                "log": str(prog.log_file(config)),
            }
        )
    return {
        "healthy": bool(components) and all(c["healthy"] for c in components),
        "supervisor": {
            "pid": sup.pid(),
            "socket": str(config.supervisor_socket),
            "config": str(config.supervisor_conf),
        },
        "components": components,
        "endpoints": config.endpoints(),
    }


def down(
    config: StackConfig | None = None, progress: Progress = _quiet, timeout: float = 60.0
) -> dict[str, Any]:
    """Stop everything; kill leftovers by pid; verify that no stack port is still open."""
    config = config or load_config()
    with _exclusive(config, progress):
        return _down(config, progress, timeout)


def _down(config: StackConfig, progress: Progress, timeout: float) -> dict[str, Any]:
    started = time.monotonic()
    sup = Supervisor(config)
    if sup.pid() is not None:
        # services first, while Kafka is still there: the consumer leaves its group cleanly (else
        # the next start waits a session timeout to rebalance) and producers flush
        services = {p.name for p in programs(config) if p.group == "service"}
        progress(f"supervisor: stopping the services ({', '.join(sorted(services))})")
        sup.stop_all(timeout=timeout / 3, only=services)
        progress("supervisor: stopping the infrastructure")
        killed_programs = sup.stop_all(timeout=timeout / 2, force_after={"kafka-": KAFKA_STOP_GRACE_S})
        if killed_programs:
            progress(
                f"{', '.join(killed_programs)}: no clean shutdown in {KAFKA_STOP_GRACE_S:.0f}s "
                "(no controller quorum left), killed"
            )
        sup.shutdown(timeout=15)
    leftovers = procs.stack_processes(config)
    killed = procs.kill_tree(leftovers) if leftovers else []
    if killed:
        progress(f"killed {len(killed)} leftover process(es): {killed}")
    remaining = procs.wait_gone(procs.stack_ports(config), timeout=10, host=config.host)
    if remaining:
        lines = [f"port {r.port}/{r.kind}: pid {r.pid} {r.process}" for r in remaining]
        raise ComponentError(
            "the stack is stopped but these ports are still open (not processes of this stack, "
            f"so they were left alone): {'; '.join(lines)}"
        )
    config.supervisor_socket.unlink(missing_ok=True)
    progress(f"stack down in {time.monotonic() - started:.1f}s: no process left, every port closed")
    return {"killed": killed, "ports_open": []}
