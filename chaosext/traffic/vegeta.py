"""The Vegeta driver: start an attack detached from the experiment, stop it, read its results.

Results are Vegeta's own gob stream (``-output``), written request by request while the attack
runs; they are read with ``vegeta encode -to csv`` (a record cut short at the end of a file still
being written is ignored).
"""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from chaoslib.exceptions import ActivityFailed

from chaosext.common import procs
from chaosext.common.waiting import eventually
from chaosext.errors import ToolMissing
from chaosext.traffic.install import vegeta_binary

__all__ = ["Result", "alive", "attack_command", "read_results", "start", "stop"]

_children: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class Result:
    """One request as the client saw it. ``status`` 0 = no HTTP answer (timeout, refused, reset)."""

    ts: float  # when it was sent (unix seconds)
    status: int
    latency_ms: float
    error: str
    seq: int


def binary() -> str:
    path = vegeta_binary()
    if not path.exists():
        raise ToolMissing(f"vegeta is not installed at {path}; run `chaosext install` first")
    return str(path)


def rate_flag(rate: float) -> str:
    """Vegeta takes an integer count per period: 12.5/s is written 12500/1000s (same even spacing)."""
    if float(rate).is_integer():
        return f"{int(rate)}/1s"
    return f"{round(rate * 1000)}/1000s"


def attack_command(
    targets: Path,
    results: Path,
    rate: float,
    duration: float,
    timeout_s: float,
    max_workers: int,
    workers: int = 10,
) -> list[str]:
    return [
        binary(),
        "attack",
        "-format=json",
        f"-targets={targets}",
        f"-output={results}",
        f"-rate={rate_flag(rate)}",
        f"-duration={duration:g}s",
        f"-timeout={timeout_s:g}s",
        f"-workers={workers}",
        f"-max-workers={max_workers}",
        "-max-body=0",
        "-http2=false",
    ]


def start(command: list[str], log: Path) -> int:
    """Start the attack in its own session (a Ctrl-C to the experiment does not cut it short).
    An attack that dies at once (bad flag, unreadable targets) is an error with Vegeta's own words."""
    with log.open("ab") as fh:
        proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=fh, stderr=fh, start_new_session=True, close_fds=True
        )
    try:
        code = proc.wait(timeout=0.3)
    except subprocess.TimeoutExpired:
        _children[proc.pid] = proc
        return proc.pid
    tail = log.read_text(errors="replace").strip().splitlines()[-3:]
    raise ActivityFailed(f"vegeta attack exited at once with code {code}: {' | '.join(tail)} (log: {log})")


def _reap(pid: int) -> None:
    proc = _children.get(pid)
    if proc is not None and proc.poll() is not None:
        _children.pop(pid, None)


def alive(pid: int | None) -> bool:
    """Is ``pid`` a running vegeta attack (not a zombie, not a recycled pid)?"""
    if not pid:
        return False
    _reap(pid)
    argv = procs.cmdline(pid)
    return bool(argv) and argv[0].endswith("vegeta") and "attack" in argv


def stop(pid: int | None, grace_s: float = 5.0) -> bool:
    """Stop an attack: SIGINT (Vegeta flushes, exits), SIGKILL after ``grace_s``. True if it was running."""
    if not alive(pid):
        return False
    assert pid is not None
    os.kill(pid, signal.SIGINT)
    if not eventually("the attack to flush and exit", lambda: not alive(pid), timeout_s=grace_s, interval_s=0.05):
        os.kill(pid, signal.SIGKILL)
        eventually("the attack to exit", lambda: not alive(pid), timeout_s=2, interval_s=0.05)
    return True


def _parse(text: str) -> list[Result]:
    out: list[Result] = []
    for row in csv.reader(io.StringIO(text)):
        if len(row) < 9:
            continue
        try:
            out.append(
                Result(
                    ts=int(row[0]) / 1e9,
                    status=int(row[1]),
                    latency_ms=int(row[2]) / 1e6,
                    error=row[5],
                    seq=int(row[8]),
                )
            )
        except ValueError:
            continue
    return out


def read_results(path: Path) -> list[Result]:
    """Every complete result in ``path`` (empty if the attack has written nothing yet)."""
    if not path.exists() or path.stat().st_size == 0:
        return []
    try:
        proc = subprocess.run(
            [binary(), "encode", "-to", "csv", str(path)], capture_output=True, text=True, timeout=120
        )
    except subprocess.TimeoutExpired:
        raise ActivityFailed(f"reading load results {path} took more than 120 s") from None
    results = _parse(proc.stdout)
    if proc.returncode != 0 and not results and "EOF" not in proc.stderr:
        raise ActivityFailed(f"cannot read load results {path}: {proc.stderr.strip()[-300:]}")
    return sorted(results, key=lambda r: r.ts)
