"""``chaosext cleanup``: remove every leftover fault.

1. Every fault marker of this machine (state dir) is undone: the marker holds what the fault
   changed, so this restores exactly. A marker whose undo key no family registers is reported
   as an error naming the key and the marker file (and left in place).
2. Families whose local driver can find leftovers by their own marks (stress cgroups) are asked
   for those no marker accounts for.
3. Then, when a kube config is reachable, every family's Kubernetes driver that can find
   leftovers in the cluster by the marks its faults leave (labels, annotations, placeholder
   pods) is asked for them: ``remove_leftovers(context, dry_run)`` removes them;
   families with only ``find_leftovers(context)`` report what a person must look at.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from typing import Any

from chaosext.discovery import family_packages
from chaosext.faults import markers, undoers
from chaosext.faults.engine import undo

__all__ = ["cleanup_all", "kube_reachable"]


def kube_reachable() -> bool:
    return os.path.exists(os.path.expanduser(os.environ.get("KUBECONFIG", "~/.kube/config")))


def _cluster_leftovers(context: str | None, dry_run: bool) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for family in family_packages():
        name = f"chaosext.{family}.kubernetes"
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        remover = getattr(module, "remove_leftovers", None)
        finder = getattr(module, "find_leftovers", None)
        try:
            if remover is not None:
                found = remover(context, dry_run)
                action = "would remove" if dry_run else "removed"
            elif finder is not None:
                found = finder(context)
                action = "found (restore it with its marker, or by hand)"
            else:
                continue
        except Exception as exc:  # an unreachable cluster must not hide the local results
            rows.append({"family": family, "action": "error", "description": f"cluster not checked: {exc}"})
            continue
        for row in found:
            rows.append({"family": family, "action": action,
                         "description": ", ".join(f"{k}={v}" for k, v in row.items() if k != "family")})
    return rows


def _local_leftovers(dry_run: bool) -> list[dict[str, Any]]:
    """Leftovers on this machine no marker accounts for: families whose local driver can find
    them by their own marks (``chaosext.<family>.local.remove_leftovers(dry_run)``)."""
    rows: list[dict[str, Any]] = []
    for family in family_packages():
        name = f"chaosext.{family}.local"
        if importlib.util.find_spec(name) is None:
            continue
        remover = getattr(importlib.import_module(name), "remove_leftovers", None)
        if remover is None:
            continue
        for row in remover(dry_run):
            rows.append({"family": family, "action": "would remove" if dry_run else "removed",
                         "description": ", ".join(f"{k}={v}" for k, v in row.items())})
    return rows


def cleanup_all(dry_run: bool = False, kube: bool | None = None, context: str | None = None) -> list[dict[str, Any]]:
    report: list[dict[str, Any]] = []
    for marker in markers.list_markers():
        row = {"id": marker.id, "family": marker.family, "kind": marker.kind,
               "action": "would remove" if dry_run else "removed", "description": marker.description}
        try:
            # an unknown undo key is reported (key and marker file), never skipped in silence
            undoers.resolve(marker.undo, str(markers.path_of(marker.id)))
            if not dry_run:
                undo(marker.id, "cleanup")
        except undoers.UnknownUndo as exc:
            row.update(action="error", description=f"{marker.description}: {exc}")
        report.append(row)
    report.extend(_local_leftovers(dry_run))
    if kube if kube is not None else kube_reachable():
        report.extend(_cluster_leftovers(context, dry_run))
    return report
