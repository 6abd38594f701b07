"""Fault markers for unit tests, undone by ``recording_undo``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from chaosext.faults import markers
from chaosext.faults.markers import FaultMarker

__all__ = ["make_marker"]


def make_marker(log: Path, label: str = "fault", family: str = "unit", kind: str = "probe",
                expires_in: float | None = None, undo: str = "recording_undo:record", **extra: Any) -> FaultMarker:
    """A marker whose undo appends ``label`` to ``log``; expiring ``expires_in`` s from now if given."""
    return FaultMarker(
        id=markers.new_id(family),
        family=family,
        kind=kind,
        target=f"unit:{label}",
        description=f"unit-test fault {label}",
        undo=undo,
        undo_args={"log": str(log), "label": label, **extra},
        expires_at=None if expires_in is None else time.time() + expires_in,
    )
