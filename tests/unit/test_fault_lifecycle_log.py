"""A fault's lifecycle reaches Chaos Toolkit's own logger (the run's console and chaostoolkit.log):
which fault became active, on what, until when; then how and when it ended."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from markers_support import make_marker

from chaosext.faults import engine


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def toolkit_log() -> Iterator[Lines]:
    """A handler on the ``chaostoolkit`` logger, as `chaos run` configures it (not propagating)."""
    toolkit = logging.getLogger("chaostoolkit")
    handler = Lines()
    saved = (toolkit.level, toolkit.propagate)
    toolkit.setLevel(logging.INFO)
    toolkit.propagate = False
    toolkit.addHandler(handler)
    try:
        yield handler
    finally:
        toolkit.removeHandler(handler)
        toolkit.setLevel(saved[0])
        toolkit.propagate = saved[1]


def test_active_then_rolled_back(tmp_path: Path, toolkit_log: Lines) -> None:
    marker = make_marker(tmp_path / "undo.jsonl", "logged")
    engine.activate(marker, lambda: {})
    ended = engine.undo(marker.id)
    assert ended is not None and ended["ended"] == "rolled back"
    active, done = toolkit_log.lines
    assert active.startswith(f"chaosext fault {marker.id} active on unit:logged, until rolled back")
    assert re.match(rf"chaosext fault {marker.id} ended \(rolled back\) at \d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ "
                    r"after \d+\.\d s: unit-test fault logged$", done), done


def test_a_timed_fault_says_until_when(tmp_path: Path, toolkit_log: Lines) -> None:
    marker = make_marker(tmp_path / "undo.jsonl", "timed", expires_in=3600)
    engine.activate(marker, lambda: {})
    try:
        assert re.search(r"until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(3600 s\)", toolkit_log.lines[0]), toolkit_log.lines
    finally:
        engine.undo(marker.id, "cleanup")
    assert "ended (cleanup)" in toolkit_log.lines[-1]


def test_a_failed_apply_says_so(tmp_path: Path, toolkit_log: Lines) -> None:
    marker = make_marker(tmp_path / "undo.jsonl", "broken")

    def apply() -> dict[str, object]:
        raise RuntimeError("target refused")

    with pytest.raises(RuntimeError):
        engine.activate(marker, apply)
    assert len(toolkit_log.lines) == 1 and "ended (apply failed)" in toolkit_log.lines[0]
