"""Process lookups on psutil: is a pid still the process we started, what does it run, who is in a group.

A pid alone can be reused once its process is gone, so a process is identified by its pid and its
start time (:func:`start_ticks`, the value pid files and fault markers keep). A zombie counts as gone.
"""

from __future__ import annotations

import contextlib
import os
import subprocess

import psutil

__all__ = ["cmdline", "end", "group_alive", "live", "pids_named", "reap", "start_ticks"]

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_GONE = (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)


def live(pid: int) -> psutil.Process | None:
    """The process ``pid`` if it exists and has not exited, else None."""
    try:
        proc = psutil.Process(pid)
        if proc.status() in _GONE:
            return None
    except (psutil.Error, ValueError):
        return None
    return proc


def start_ticks(pid: int) -> int | None:
    """When ``pid`` started, in clock ticks since boot (field 22 of /proc/PID/stat); None if it is gone.

    Stable for the life of the process and unaffected by changes of the wall clock, so it tells
    the process we started from a later one that got the same pid.
    """
    proc = live(pid)
    if proc is None:
        return None
    try:
        return round((proc.create_time() - psutil.boot_time()) * CLOCK_TICKS)
    except psutil.Error:
        return None


def cmdline(pid: int) -> list[str]:
    """The argv of a live process; empty if it is gone or not readable."""
    proc = live(pid)
    if proc is None:
        return []
    try:
        return proc.cmdline()
    except psutil.Error:
        return []


def reap(pid: int) -> None:
    """Collect ``pid``'s exit status if it is a child of this process that has exited."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def group_alive(pgid: int) -> bool:
    """Does any live process belong to process group ``pgid``? Exited children of ours are reaped."""
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) != pgid:
                continue
            if proc.status() in _GONE:
                reap(proc.pid)
                continue
        except (OSError, psutil.Error):
            continue
        return True
    return False


def pids_named(prefix: str) -> list[int]:
    """Live processes whose name starts with ``prefix``, sorted."""
    found = []
    for proc in psutil.process_iter(["name", "status"]):
        name, status = proc.info.get("name") or "", proc.info.get("status")
        if name.startswith(prefix) and status not in _GONE:
            found.append(proc.pid)
    return sorted(found)


def end(proc: subprocess.Popen[bytes], grace_s: float = 10.0, kill_wait_s: float = 10.0) -> int | None:
    """Stop a child: SIGTERM, SIGKILL if it is still running after ``grace_s``; its exit status."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=kill_wait_s)
    return proc.returncode
