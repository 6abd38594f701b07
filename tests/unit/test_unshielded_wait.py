"""Applying a fault is shielded from SIGINT/SIGTERM, waiting for it to take effect is not: Ctrl-C
during a long wait inside ``apply`` interrupts at once and the fault is undone before the
interrupt propagates; a signal that came during the shielded write is delivered when the wait
starts."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from markers_support import make_marker
from recording_undo import calls

from chaosext.faults import engine, markers


def _signal_later(signum: int, after: float) -> threading.Timer:
    timer = threading.Timer(after, os.kill, (os.getpid(), signum))
    timer.start()
    return timer


def _wait_long(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.05)


def test_ctrl_c_during_the_wait_interrupts_and_undoes(tmp_path: Path) -> None:
    log = tmp_path / "undo.jsonl"
    marker = make_marker(log, "waiting")

    def apply() -> dict[str, Any]:
        with engine.unshielded():
            _wait_long(30)
        return {}

    timer = _signal_later(signal.SIGINT, 0.3)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        engine.activate(marker, apply)
    timer.cancel()
    assert time.monotonic() - started < 2.0
    assert markers.load(marker.id) is None
    assert [c["label"] for c in calls(log)] == ["waiting"]


def test_a_signal_during_the_write_waits_for_the_write_then_stops_the_wait(tmp_path: Path) -> None:
    log = tmp_path / "undo.jsonl"
    marker = make_marker(log, "written")
    steps: list[str] = []

    def apply() -> dict[str, Any]:
        os.kill(os.getpid(), signal.SIGTERM)  # arrives while the change is being made
        time.sleep(0.1)
        steps.append("write finished")
        with engine.unshielded():
            steps.append("wait started")  # never: the deferred SIGTERM is delivered first
            _wait_long(30)
        return {}

    with pytest.raises(SystemExit) as stopped:
        engine.activate(marker, apply)
    assert stopped.value.code == 128 + signal.SIGTERM
    assert steps == ["write finished"]
    assert markers.load(marker.id) is None and [c["label"] for c in calls(log)] == ["written"]


def test_outside_a_shield_it_changes_nothing() -> None:
    before = signal.getsignal(signal.SIGINT)
    with engine.unshielded():
        assert signal.getsignal(signal.SIGINT) is before
    assert signal.getsignal(signal.SIGINT) is before
