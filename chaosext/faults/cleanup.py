"""``chaosext cleanup``: remove every leftover fault (markers, then cluster objects)."""

from __future__ import annotations

from typing import Any

from chaosext.faults import markers
from chaosext.faults.engine import undo

__all__ = ["cleanup_all"]


def cleanup_all(dry_run: bool = False) -> list[dict[str, Any]]:
    report: list[dict[str, Any]] = []
    for marker in markers.list_markers():
        row = {"id": marker.id, "family": marker.family, "kind": marker.kind,
               "description": marker.description}
        if not dry_run:
            undo(marker.id)
        report.append(row)
    return report
