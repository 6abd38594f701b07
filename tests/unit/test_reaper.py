"""The reaper: a real detached process on the test's state directory undoes a fault when (and
only when) its duration ends, retries an undo that fails, and leaves a fault rolled back earlier."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
from markers_support import make_marker
from recording_undo import calls
from support import wait_until

from chaosext.faults import engine, markers

REAPER = [sys.executable, "-m", "chaosext.faults.reaper"]


def _reapers_of(fault_id: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if proc.info["cmdline"] and proc.info["cmdline"][-2:] == ["chaosext.faults.reaper", fault_id]:
            found.append(proc)
    return found


def test_activate_starts_a_reaper_that_undoes_the_fault_when_it_expires(tmp_path: Path, state_dir: Path) -> None:
    log = tmp_path / "undo.jsonl"
    marker = make_marker(log, "expiring", expires_in=1.0)

    engine.activate(marker, lambda: {})
    assert markers.load(marker.id) is not None

    wait_until("the reaper to undo the expired fault", lambda: markers.load(marker.id) is None and calls(log), timeout=20)
    [call] = calls(log)
    assert call["label"] == "expiring"
    assert call["pid"] != os.getpid(), "undone by the detached reaper, not by the test process"
    assert call["at"] >= marker.expires_at, "not undone before its duration ended"
    assert call["state_dir"] == str(state_dir)
    reaper_log = (state_dir / "faults" / "reaper.log").read_text()
    assert f"reaper removed {marker.id}" in reaper_log
    wait_until("the reaper to exit", lambda: not _reapers_of(marker.id), timeout=10)


def test_a_fault_rolled_back_before_expiry_is_left_alone_by_its_reaper(tmp_path: Path) -> None:
    log = tmp_path / "undo.jsonl"
    marker = make_marker(log, "rolled-back", expires_in=5)
    engine.activate(marker, lambda: {})
    wait_until("the reaper to start", lambda: _reapers_of(marker.id), timeout=10)

    engine.undo(marker.id)

    wait_until("the reaper to exit", lambda: not _reapers_of(marker.id), timeout=10)
    assert [c["label"] for c in calls(log)] == ["rolled-back"], "undone once, by the rollback"


def test_the_reaper_undoes_an_already_expired_marker_and_exits_0(tmp_path: Path) -> None:
    log = tmp_path / "undo.jsonl"
    marker = make_marker(log, "expired", expires_in=-5)
    markers.save(marker)

    proc = subprocess.run([*REAPER, marker.id], capture_output=True, text=True, timeout=20)

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"reaper removed {marker.id}" in proc.stdout
    assert markers.load(marker.id) is None
    assert [c["label"] for c in calls(log)] == ["expired"]


def test_the_reaper_retries_an_undo_that_fails(tmp_path: Path) -> None:
    log, flag = tmp_path / "undo.jsonl", tmp_path / "fail-once"
    flag.touch()
    marker = make_marker(log, "flaky", expires_in=-1, undo="recording_undo:fail_once", flag=str(flag))
    markers.save(marker)

    proc = subprocess.run([*REAPER, marker.id], capture_output=True, text=True, timeout=20)

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"reaper attempt 1 for {marker.id}: target not ready yet" in proc.stdout
    assert markers.load(marker.id) is None
    assert [c["label"] for c in calls(log)] == ["flaky"]


def test_the_reaper_of_a_fault_already_gone_exits_0_at_once() -> None:
    started = time.monotonic()
    proc = subprocess.run([*REAPER, "unit-000000000000"], capture_output=True, text=True, timeout=20)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert time.monotonic() - started < 15
