"""The state directory's reaper: one detached process that undoes every fault when its duration
ends, even when ``chaos run`` was killed with SIGKILL.

``activate`` calls :func:`ensure_running` after recording a timed fault: a reaper is started only
if none holds the lock file ``reaper.lock`` in the faults directory (it also holds the reaper's
pid, for people). The reaper watches the marker files, undoes each expired fault in a forked
child (so a slow undo, a broker restart, delays no other expiry and each undo runs in its own
fault's environment), retries an undo that fails, and exits once no timed marker has been left
for ``--idle`` seconds; lingering that long spares the next faults of a run a process start.

``python -m chaosext.faults.reaper [--idle SECONDS]`` (``--lock-fd`` is for ``ensure_running``)
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from chaosext.faults import markers
from chaosext.faults.paths import faults_dir

__all__ = ["ATTEMPTS", "IDLE_S", "ensure_running", "lock_path", "main", "running_pid"]

IDLE_S = 30.0
"""How long the reaper stays once no timed marker is left."""
ATTEMPTS = 5
"""Undo attempts for one expired fault (1, 2, 3... s apart: the target may be restarting)."""
POLL_S = 0.2
"""How often the markers are read: a fault ends at most this late."""


def lock_path(home: Path | None = None) -> Path:
    return (home or faults_dir()) / "reaper.lock"


def _try_lock(fh: IO[str] | int) -> bool:
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def running_pid() -> int | None:
    """The pid of this state directory's reaper, or None if none is running (its lock is free)."""
    with open(lock_path(), "a+") as fh:
        if _try_lock(fh):
            fcntl.flock(fh, fcntl.LOCK_UN)
            return None
        fh.seek(0)
        text = fh.read().strip()
    return int(text) if text.isdigit() else 0


def ensure_running(home: Path | None = None) -> None:
    """Start the reaper unless one is running (``home``: the faults directory, when the caller
    has it). Called after the marker is saved: a reaper about to exit re-reads the markers after
    it released the lock, so it either sees this marker or its lock was already free here and a
    new reaper starts. The lock is taken here and handed to the reaper (the child's copy of the
    descriptor holds it), so faults activated in quick succession start one reaper, not one each.
    The usual case, a reaper holds the lock, costs three system calls (open, flock, close)."""
    fd = os.open(lock_path(home), os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o666)
    if not _try_lock(fd):
        os.close(fd)
        return
    with os.fdopen(fd, "a+") as fh:
        with open((home or faults_dir()) / "reaper.log", "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "chaosext.faults.reaper", "--lock-fd", str(fh.fileno())],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # not in chaos run's process group: survives its SIGKILL
                close_fds=True,
                pass_fds=(fh.fileno(),),
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        _claim(fh, proc.pid)


def _say(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


def _only_the_fault_environment(fault_id: str) -> None:
    """In a forked child: drop the settings the reaper inherited from whichever run started it
    that the fault's own run did not have (undo then sets the fault's own)."""
    marker = markers.load(fault_id)
    if marker is None:
        return
    for key in list(os.environ):
        if (key.startswith("CHAOSEXT_") or key in markers.ENV_KEYS) and key not in marker.env \
                and key != "CHAOSEXT_STATE_DIR":  # where this reaper found the marker
            del os.environ[key]


def _undo_with_retries(fault_id: str) -> int:
    """In a forked child: undo one expired fault, retrying; the exit status for the reaper."""
    from chaosext.faults.engine import undo
    from chaosext.faults.undoers import UnknownUndo

    _only_the_fault_environment(fault_id)

    for attempt in range(1, ATTEMPTS + 1):
        try:
            undo(fault_id, "expired")
            _say(f"reaper removed {fault_id}")
            return 0
        except UnknownUndo as exc:  # no retry makes an unregistered undo known
            _say(f"reaper attempt {attempt} for {fault_id}: {exc}")
            break
        except Exception as exc:  # keep trying: the target may be restarting
            _say(f"reaper attempt {attempt} for {fault_id}: {exc}")
            if attempt < ATTEMPTS:
                time.sleep(attempt)
    _say(f"reaper gave up on {fault_id}: `chaosext cleanup` undoes it")
    return 1


def _fork_undo(fault_id: str, lock: IO[str]) -> int:
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            lock.close()  # the lock is the reaper's: an undo outliving it must not hold it
            status = _undo_with_retries(fault_id)
        finally:
            sys.stdout.flush()
            os._exit(status)
    return pid


def _preload(marker: markers.FaultMarker) -> None:
    """Import the engine and the marker's undo function here, once: every later undo child
    inherits them instead of importing them again (a Kubernetes client takes a while)."""
    from chaosext.faults import engine, undoers  # noqa: F401 - imported for the children

    with contextlib.suppress(Exception):  # an unknown key is reported by the child
        undoers.resolve(marker.undo)


@dataclass
class _Watch:
    """The reaper's state: undos under way (fault id by child pid) and faults given up on."""

    lock: IO[str]
    working: dict[int, str] = field(default_factory=dict)
    given_up: set[str] = field(default_factory=set)

    def collect(self) -> None:
        for pid in list(self.working):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                fault_id = self.working.pop(pid)
                if os.waitstatus_to_exitcode(status) != 0:
                    self.given_up.add(fault_id)

    def step(self) -> bool:
        """Start an undo for every expired fault not being undone; whether any timed fault (or
        undo) is left to wait for."""
        self.collect()
        busy = set(self.working.values())
        now = time.time()
        waiting = bool(self.working)
        for marker in markers.list_markers():
            if marker.expires_at is None or marker.id in self.given_up:
                continue
            waiting = True
            if marker.expires_at <= now and marker.id not in busy:
                _preload(marker)
                self.working[_fork_undo(marker.id, self.lock)] = marker.id
        return waiting


def _claim(fh: IO[str], pid: int) -> None:
    """Write the pid of the reaper holding the lock into the lock file."""
    fh.truncate(0)
    fh.write(str(pid))
    fh.flush()


def _relock(fh: IO[str]) -> bool:
    """Take the lock back; False if another reaper holds it. A caller of ``running_pid`` holds it
    for an instant only, so a few tries tell the two apart."""
    for _ in range(5):
        if _try_lock(fh):
            return True
        time.sleep(0.1)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaosext.faults.reaper")
    parser.add_argument("--idle", type=float, default=IDLE_S, help="seconds to stay once no timed fault is left")
    parser.add_argument("--lock-fd", type=int, help="the lock, already taken by the starter (ensure_running)")
    args = parser.parse_args(argv)
    idle_s = args.idle
    if args.lock_fd is not None:
        os.set_inheritable(args.lock_fd, False)  # nothing the reaper starts may hold its lock
        fh = os.fdopen(args.lock_fd, "a+")
    else:
        fh = open(lock_path(), "a+")  # noqa: SIM115 - held for the reaper's life
        if not _try_lock(fh):
            return 0  # another reaper is on duty
        _claim(fh, os.getpid())
    watch = _Watch(fh)
    home = faults_dir()
    idle_since = time.monotonic()
    while True:
        if not home.is_dir():
            return 0  # the state directory was removed: nothing is left to watch, and reading it would recreate it
        if watch.step():
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since >= idle_s:
            fcntl.flock(fh, fcntl.LOCK_UN)
            # a fault saved while the lock was held found a reaper running: it is seen here
            if not watch.step():
                return 0
            if not _relock(fh):
                return 0  # a new reaper took over
            _claim(fh, os.getpid())
            idle_since = time.monotonic()
        time.sleep(POLL_S)


if __name__ == "__main__":
    sys.exit(main())
