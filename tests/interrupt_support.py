"""Interrupting real runs, shared by every fault family's tests: ``chaos run`` signalled in the
middle of a fault (the rollbacks must run), and a process SIGKILLed right after a fault (nothing
rolls back: the marker stays for ``chaosext cleanup``). A module of its own, like stack_support."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stack_support import REPO, chaosext
from support import wait_until

CHAOS = str(Path(sys.executable).parent / "chaos")


def _default_sigint() -> None:
    # a shell that starts jobs in the background hands them SIGINT ignored; a terminal would not
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def waiting_in_sleep(pid: int) -> bool:
    """The run has reached its ``sleep`` step (a process provider child of ``pid``)."""
    import psutil

    return any(c.name() == "sleep" for c in psutil.Process(pid).children(recursive=True))


def interrupt_run(
    experiment: Path,
    journal: Path,
    sig: signal.Signals,
    ready: Callable[[], Any],
    what: str,
    *,
    at_wait_step: bool = False,
    timeout: float = 60,
    finish_timeout: float = 90,
    chaos_args: tuple[str, ...] = (),
) -> tuple[dict[str, Any], str]:
    """Start ``chaos run --rollback-strategy always EXPERIMENT`` in its own session, wait until
    ``ready()`` holds (and, with ``at_wait_step``, until the run sleeps in its wait step), then send
    ``sig`` to its process group, as a terminal's Ctrl-C or a CI runner's stop does. Returns the
    journal, checked to say ``interrupted``, and the run's output."""
    proc = subprocess.Popen(
        [CHAOS, *chaos_args, "run", "--rollback-strategy", "always", "--journal-path", str(journal), str(experiment)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        preexec_fn=_default_sigint,
    )
    try:
        wait_until(what, ready, timeout=timeout)
        if at_wait_step:
            wait_until("the experiment to reach its wait step", lambda: waiting_in_sleep(proc.pid), timeout=timeout)
        os.killpg(proc.pid, sig)
        out, _ = proc.communicate(timeout=finish_timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    data: dict[str, Any] = json.loads(journal.read_text())
    assert data["status"] == "interrupted", out[-2000:]
    return data, out


def assert_rollbacks_succeeded(journal: dict[str, Any], count: int = 1) -> None:
    assert [r["status"] for r in journal["rollbacks"]] == ["succeeded"] * count, journal["rollbacks"]


def sigkilled_after(code: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``python -c CODE`` (it makes a fault, then SIGKILLs itself: nothing rolls back)."""
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, timeout=timeout, capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    return proc


def cleanup_removes(count: int = 1) -> subprocess.CompletedProcess[str]:
    """``chaosext cleanup --no-kube`` removes exactly ``count`` leftover faults."""
    out = chaosext("cleanup", "--no-kube")
    assert f"{count} leftover fault(s) removed" in out.stderr, out.stderr
    return out
