"""Processes and listening ports of the stack, found with psutil (for `down`, `status` and the bench)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import psutil

from chaosext.common.waiting import WaitTimeout, wait_until
from chaosext.stack.config import StackConfig

__all__ = ["Listener", "kill_tree", "listeners", "rss_bytes", "stack_processes", "stack_ports", "wait_gone"]


@dataclass(frozen=True)
class Listener:
    port: int
    kind: str  # "tcp" or "udp"
    pid: int | None
    process: str


def stack_ports(config: StackConfig) -> set[int]:
    return set(config.ports.as_dict().values())


def listeners(ports: Iterable[int], host: str = "127.0.0.1") -> list[Listener]:
    """Sockets listening (TCP) or bound (UDP) on ``host``/any address at one of ``ports``."""
    wanted = set(ports)
    found: list[Listener] = []
    for conn in psutil.net_connections(kind="inet"):
        if not conn.laddr or conn.laddr.port not in wanted or conn.laddr.ip not in (host, "0.0.0.0", "::"):
            continue
        tcp = conn.type == 1  # SOCK_STREAM
        if tcp and conn.status != psutil.CONN_LISTEN:
            continue
        if not tcp and conn.raddr:
            continue
        name = ""
        if conn.pid:
            try:
                name = psutil.Process(conn.pid).name()
            except psutil.Error:
                name = "?"
        found.append(Listener(conn.laddr.port, "tcp" if tcp else "udp", conn.pid, name))
    return sorted(found, key=lambda item: (item.port, item.kind))


def _inside(path: str, root: Path) -> bool:
    try:
        return Path(path).resolve().is_relative_to(root)
    except (OSError, ValueError):
        return False


def stack_processes(config: StackConfig) -> list[psutil.Process]:
    """Every process that works in the stack's state dir (supervisord and its programs run there),
    except this process and its ancestors."""
    root = config.state.resolve()
    me = psutil.Process()
    spared = {me.pid, *(p.pid for p in me.parents())}  # a shell cd'ed into the state dir is not ours
    found = []
    for proc in psutil.process_iter(["pid", "cwd"]):
        cwd = proc.info.get("cwd")
        if proc.pid not in spared and cwd and _inside(cwd, root):
            found.append(proc)
    return found


def kill_tree(procs: Iterable[psutil.Process]) -> list[int]:
    """SIGKILL the processes and their children; returns the pids signalled."""
    targets: dict[int, psutil.Process] = {}
    for proc in procs:
        try:
            for child in proc.children(recursive=True):
                targets[child.pid] = child
            targets[proc.pid] = proc
        except psutil.Error:
            continue
    killed = []
    for pid, proc in targets.items():
        try:
            proc.kill()
            killed.append(pid)
        except psutil.Error:
            pass
    psutil.wait_procs(list(targets.values()), timeout=5)
    return killed


def wait_gone(ports: Iterable[int], timeout: float, host: str = "127.0.0.1") -> list[Listener]:
    """Wait until nothing listens on ``ports``; returns what still does at the deadline."""
    wanted = list(ports)
    try:
        return wait_until("the ports to be free", lambda: listeners(wanted, host), done=lambda found: not found,
                          timeout_s=timeout, interval_s=0.2)
    except WaitTimeout as exc:
        return cast(list[Listener], exc.last)


def rss_bytes(proc: psutil.Process) -> int:
    """Resident memory of a process and all its descendants."""
    total = 0
    try:
        family = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for member in family:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            continue
    return total
