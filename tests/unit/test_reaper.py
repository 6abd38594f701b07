"""The reaper: one real detached process per state directory undoes every fault when (and only
when) its duration ends, retries an undo that fails, leaves a fault rolled back earlier, and
exits once no timed fault is left."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from markers_support import make_marker
from recording_undo import calls
from support import wait_until

from chaosext.faults import engine, markers, reaper

REAPER = [sys.executable, "-m", "chaosext.faults.reaper"]


def _reapers(state_dir: Path) -> list[psutil.Process]:
    """The reaper processes (not their undo children) working on ``state_dir``."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if "chaosext.faults.reaper" not in (proc.info["cmdline"] or []):
                continue
            if proc.environ().get("CHAOSEXT_STATE_DIR") != str(state_dir):
                continue
            if proc.parent() is not None and "chaosext.faults.reaper" in (proc.parent().cmdline() or []):
                continue  # a forked undo
            found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
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
    assert call["at"] - marker.expires_at < 2, "undone late"
    assert call["state_dir"] == str(state_dir)
    reaper_log = (state_dir / "faults" / "reaper.log").read_text()
    assert f"reaper removed {marker.id}" in reaper_log


def test_a_fault_ends_on_time_after_its_experiment_process_is_sigkilled(tmp_path: Path) -> None:
    log = tmp_path / "undo.jsonl"
    code = ("import os, signal, sys; from pathlib import Path; from markers_support import make_marker; "
            "from chaosext.faults import engine; "
            f"m = make_marker(Path({str(log)!r}), 'killed', expires_in=1.5); engine.activate(m, lambda: {{}}); "
            "print(m.id, m.expires_at, flush=True); os.kill(os.getpid(), signal.SIGKILL)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=20)
    assert proc.returncode == -9, proc.stderr
    fault_id, expires_at = proc.stdout.split()

    wait_until("the reaper to undo the orphaned fault", lambda: markers.load(fault_id) is None and calls(log),
               timeout=20)
    [call] = calls(log)
    assert float(expires_at) <= call["at"] < float(expires_at) + 2, "ended on time though its run was SIGKILLed"


def test_many_faults_share_one_reaper_and_each_ends_on_time(tmp_path: Path, state_dir: Path) -> None:
    log = tmp_path / "undo.jsonl"
    made = [make_marker(log, f"f{i}", expires_in=1.0 + i * 0.5) for i in range(4)]
    for marker in made:
        engine.activate(marker, lambda: {})
    pid = wait_until("the reaper to hold its lock", reaper.running_pid, timeout=10)

    assert [p.pid for p in _reapers(state_dir)] == [pid], "one reaper for the state directory"
    wait_until("every fault to be undone", lambda: len(calls(log)) == 4, timeout=20)
    undone = {c["label"]: c for c in calls(log)}
    for marker in made:
        call = undone[marker.undo_args["label"]]
        assert marker.expires_at is not None
        assert marker.expires_at <= call["at"] < marker.expires_at + 2, f"{marker.id} not undone on time"
    assert markers.list_markers() == []


def test_each_fault_is_undone_in_its_own_run_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reaper was started by the first run; the second run's fault must not be undone with the
    first run's settings."""
    log = tmp_path / "undo.jsonl"
    monkeypatch.setenv("CHAOSEXT_UNIT_PROBE", "first-run")
    first = make_marker(log, "first", expires_in=1.0)
    engine.activate(first, lambda: {})
    monkeypatch.delenv("CHAOSEXT_UNIT_PROBE")
    second = make_marker(log, "second", expires_in=1.0)
    engine.activate(second, lambda: {})

    wait_until("both faults to be undone", lambda: len(calls(log)) == 2, timeout=20)
    assert {c["label"]: c["probe_env"] for c in calls(log)} == {"first": "first-run", "second": None}


def test_a_fault_rolled_back_before_expiry_is_left_alone_by_the_reaper(tmp_path: Path) -> None:
    log = tmp_path / "undo.jsonl"
    marker = make_marker(log, "rolled-back", expires_in=1.5)
    engine.activate(marker, lambda: {})
    wait_until("the reaper to start", reaper.running_pid, timeout=10)

    engine.undo(marker.id)
    other = make_marker(log, "witness", expires_in=2.0)  # the reaper is still watching after that one
    engine.activate(other, lambda: {})

    wait_until("the witness fault to expire", lambda: markers.load(other.id) is None, timeout=20)
    assert [c["label"] for c in calls(log)] == ["rolled-back", "witness"], "the rolled-back fault undone once"


def test_the_reaper_undoes_an_already_expired_marker_and_exits_0(tmp_path: Path) -> None:
    log = tmp_path / "undo.jsonl"
    marker = make_marker(log, "expired", expires_in=-5)
    markers.save(marker)

    proc = subprocess.run([*REAPER, "--idle", "0"], capture_output=True, text=True, timeout=20)

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"reaper removed {marker.id}" in proc.stdout
    assert markers.load(marker.id) is None
    assert [c["label"] for c in calls(log)] == ["expired"]


def test_the_reaper_retries_an_undo_that_fails(tmp_path: Path) -> None:
    log, flag = tmp_path / "undo.jsonl", tmp_path / "fail-once"
    flag.touch()
    marker = make_marker(log, "flaky", expires_in=-1, undo="recording_undo:fail_once", flag=str(flag))
    markers.save(marker)

    proc = subprocess.run([*REAPER, "--idle", "0"], capture_output=True, text=True, timeout=20)

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"reaper attempt 1 for {marker.id}: target not ready yet" in proc.stdout
    assert markers.load(marker.id) is None
    assert [c["label"] for c in calls(log)] == ["flaky"]


def test_the_reaper_gives_up_on_a_fault_it_cannot_undo_and_still_exits(tmp_path: Path) -> None:
    marker = make_marker(tmp_path / "undo.jsonl", "unknown", expires_in=-1, undo="unit.no_such_undo")
    markers.save(marker)
    started = time.monotonic()

    proc = subprocess.run([*REAPER, "--idle", "0"], capture_output=True, text=True, timeout=30)

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"reaper gave up on {marker.id}" in proc.stdout and "'unit.no_such_undo'" in proc.stdout
    assert markers.load(marker.id) is not None, "left for chaosext cleanup to report"
    assert time.monotonic() - started < 25


def test_with_no_marker_the_reaper_exits_0_at_once() -> None:
    started = time.monotonic()
    proc = subprocess.run([*REAPER, "--idle", "0"], capture_output=True, text=True, timeout=20)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert time.monotonic() - started < 10
    assert reaper.running_pid() is None


def test_a_second_reaper_leaves_at_once_and_the_first_exits_when_idle(tmp_path: Path, state_dir: Path) -> None:
    marker = make_marker(tmp_path / "undo.jsonl", "held", expires_in=1.0)
    markers.save(marker)
    first = subprocess.Popen([*REAPER, "--idle", "0.5"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until("the first reaper to hold the lock", reaper.running_pid, timeout=10) == first.pid
        second = subprocess.run([*REAPER, "--idle", "0"], capture_output=True, text=True, timeout=20)
        assert second.returncode == 0 and second.stdout == ""
        assert markers.load(marker.id) is not None, "the second reaper undid nothing"

        assert first.wait(timeout=20) == 0, "the first reaper exits once nothing is left to watch"
        assert markers.load(marker.id) is None
        assert reaper.running_pid() is None
    finally:
        if first.poll() is None:
            first.kill()


def test_ensure_running_starts_no_second_reaper(tmp_path: Path, state_dir: Path) -> None:
    markers.save(make_marker(tmp_path / "undo.jsonl", "long", expires_in=20))
    reaper.ensure_running()
    pid = wait_until("the reaper to hold its lock", reaper.running_pid, timeout=10)
    reaper.ensure_running()
    reaper.ensure_running()
    assert [p.pid for p in _reapers(state_dir)] == [pid]


def test_the_reaper_leaves_when_its_state_directory_is_removed(tmp_path: Path, state_dir: Path) -> None:
    markers.save(make_marker(tmp_path / "undo.jsonl", "far", expires_in=60))
    proc = subprocess.Popen([*REAPER, "--idle", "30"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until("the reaper to hold its lock", reaper.running_pid, timeout=10)
        shutil.rmtree(state_dir)
        assert proc.wait(timeout=10) == 0
        assert not state_dir.exists(), "the reaper recreated the directory it watched"
    finally:
        if proc.poll() is None:
            proc.kill()
