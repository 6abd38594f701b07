"""chaosext.common.procs: pid identity, command lines and process groups through psutil."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from support import wait_until

from chaosext.common import procs
from chaosext.localkube import procs as kube_procs

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)", "chaosext-unit-sleeper"]


def test_start_ticks_identifies_a_live_process_and_not_a_finished_one() -> None:
    proc = subprocess.Popen(SLEEPER, start_new_session=True)
    try:
        ticks = procs.start_ticks(proc.pid)
        assert isinstance(ticks, int) and ticks > 0
        # until exec, the child still shows this process's command line
        wait_until("the sleeper's command line", lambda: procs.cmdline(proc.pid)[-1:] == ["chaosext-unit-sleeper"],
                   timeout=10, interval=0.01)
        assert procs.start_ticks(proc.pid) == ticks  # the same across exec
        assert procs.group_alive(proc.pid)
    finally:
        proc.kill()
    # killed but not yet reaped: a zombie counts as gone
    wait_until("the sleeper to exit", lambda: procs.live(proc.pid) is None, timeout=10, interval=0.02)
    assert procs.start_ticks(proc.pid) is None and procs.cmdline(proc.pid) == []
    procs.reap(proc.pid)
    assert not procs.group_alive(proc.pid)


def test_names_and_unknown_pids() -> None:
    assert procs.live(2**22 + 12345) is None
    assert procs.cmdline(-1) == []
    me = procs.live(os.getpid())
    assert me is not None and me.pid in procs.pids_named(me.name())
    assert procs.pids_named("no-such-program-chaosext") == []


def test_control_plane_process_is_known_by_pid_file_then_stopped(tmp_path: Path) -> None:
    pid = kube_procs.spawn(tmp_path, "sleeper", SLEEPER)
    pid_file = (tmp_path / "pids" / "sleeper.pid").read_text().split()
    assert pid_file == [str(pid), str(procs.start_ticks(pid))]
    assert kube_procs.pid_of(tmp_path, "sleeper") == pid
    assert kube_procs.terminate(tmp_path, "sleeper", grace_s=5) is True
    assert kube_procs.pid_of(tmp_path, "sleeper") is None
    assert kube_procs.terminate(tmp_path, "sleeper") is False


def test_a_pid_file_of_a_process_that_died_at_once_names_no_running_process(tmp_path: Path) -> None:
    pid = kube_procs.spawn(tmp_path, "quitter", [sys.executable, "-c", "pass"])
    wait_until("the quitter to exit", lambda: procs.live(pid) is None, timeout=10, interval=0.02)
    (tmp_path / "pids" / "quitter.pid").write_text(f"{pid} None\n")  # what spawn writes when it is gone already
    assert kube_procs.pid_of(tmp_path, "quitter") is None
    assert kube_procs.terminate(tmp_path, "quitter") is False


def test_end_terminates_then_kills_a_child_that_ignores_sigterm() -> None:
    polite = subprocess.Popen(SLEEPER)
    assert procs.end(polite, grace_s=10) == -signal.SIGTERM
    stubborn = subprocess.Popen([sys.executable, "-c", "import signal, sys, time; signal.signal(signal.SIGTERM, "
                                 "signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"],
                                stdout=subprocess.PIPE)
    assert stubborn.stdout is not None and stubborn.stdout.readline() == b"ready\n"
    assert procs.end(stubborn, grace_s=0.2) == -signal.SIGKILL
    assert procs.end(stubborn) == -signal.SIGKILL  # already ended: its status again
    stubborn.stdout.close()
