"""Detached processes with pid files and logs in a state dir; stopping kills the whole process group.

Each process is started in a new session (its own process group), so it outlives the command that
started it (`chaosext kube up` returns) and `stop` can end it and anything it spawned.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from chaosext.common import procs
from chaosext.common.waiting import eventually

__all__ = ["is_running", "log_path", "log_tail", "pid_of", "spawn", "terminate"]


def _pid_file(state_dir: Path, name: str) -> Path:
    return state_dir / "pids" / f"{name}.pid"


def log_path(state_dir: Path, name: str) -> Path:
    return state_dir / "logs" / f"{name}.log"


def pid_of(state_dir: Path, name: str) -> int | None:
    """The pid of NAME if it is running (and is the process we started), else None."""
    try:
        pid_text, started = _pid_file(state_dir, name).read_text().split()
        pid = int(pid_text)
    except (OSError, ValueError):
        return None
    procs.reap(pid)
    ticks = procs.start_ticks(pid)
    return pid if ticks is not None and str(ticks) == started else None


def is_running(state_dir: Path, name: str) -> bool:
    return pid_of(state_dir, name) is not None


def spawn(state_dir: Path, name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> int:
    """Start ARGV detached, output appended to logs/NAME.log; writes pids/NAME.pid."""
    log = log_path(state_dir, name)
    log.parent.mkdir(parents=True, exist_ok=True)
    _pid_file(state_dir, name).parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        out.write(f"\n==> {time.strftime('%Y-%m-%dT%H:%M:%S')} starting: {' '.join(argv)}\n".encode())
        out.flush()
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                cwd=state_dir, env=env, start_new_session=True)
    started = procs.start_ticks(proc.pid)
    _pid_file(state_dir, name).write_text(f"{proc.pid} {started}\n")
    return proc.pid


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return procs.group_alive(pgid)


def terminate(state_dir: Path, name: str, grace_s: float = 15.0) -> bool:
    """SIGTERM NAME's process group, SIGKILL after GRACE_S; True if something was stopped.

    Raises RuntimeError if the group is still alive after SIGKILL.
    """
    pid = pid_of(state_dir, name)
    pid_file = _pid_file(state_dir, name)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    pgid = pid  # started with start_new_session: the leader's pid is the group id
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break

        def gone() -> bool:
            procs.reap(pid)
            return not _group_alive(pgid)

        if eventually(f"{name} to exit", gone, timeout_s=wait_s, interval_s=0.1):
            pid_file.unlink(missing_ok=True)
            return True
    procs.reap(pid)
    if _group_alive(pgid):
        raise RuntimeError(f"{name} (process group {pgid}) is still running after SIGKILL")
    pid_file.unlink(missing_ok=True)
    return True


def log_tail(state_dir: Path, name: str, lines: int = 25) -> str:
    try:
        text = log_path(state_dir, name).read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])
