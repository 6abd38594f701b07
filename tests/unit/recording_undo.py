"""Undo functions for unit tests' fault markers, registered as ``unit.record`` and
``unit.fail_once``; markers name them the old way (``"recording_undo:record"``), which still
resolves for a registered function and is importable by reaper processes. Each call is
appended to a JSON-lines file, so a test can see whether, when, in which process and in which
environment a fault was undone. Importable by reaper processes through PYTHONPATH (conftest)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from chaosext.faults.undoers import undoer

__all__ = ["calls", "fail_once", "record"]


@undoer("unit.record")
def record(log: str, label: str) -> None:
    entry = {"label": label, "pid": os.getpid(), "at": time.time(),
             "state_dir": os.environ.get("CHAOSEXT_STATE_DIR"), "probe_env": os.environ.get("CHAOSEXT_UNIT_PROBE")}
    with open(log, "a") as fh:
        fh.write(json.dumps(entry) + "\n")


@undoer("unit.fail_once")
def fail_once(log: str, label: str, flag: str) -> None:
    """Fails while ``flag`` exists (removing it), then records: an undo whose target is restarting."""
    if os.path.exists(flag):
        os.unlink(flag)
        raise RuntimeError("target not ready yet")
    record(log, label)


def calls(log: str | Path) -> list[dict[str, Any]]:
    path = Path(log)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
