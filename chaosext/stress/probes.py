"""Stress probes: which replicas are under stress now, and what their limits did to them."""

from __future__ import annotations

from typing import Any

from chaoslib.types import Configuration, Secrets

from chaosext.faults import markers

__all__ = ["stress_status"]


def stress_status(
    service: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> list[dict[str, Any]]:
    """Every active stress fault (of ``service`` only, if given). Locally each stressed replica
    also reports its cgroup figures so far: ``nr_throttled`` CPU periods and ``throttled_s``,
    ``memory_bytes``/``memory_peak_bytes`` and ``limit_hits`` (times the memory limit was hit);
    an experiment can require ``nr_throttled > 0`` to prove the stress really bit."""
    rows = []
    for marker in markers.list_markers(family="stress"):
        if not markers.matches(marker, {"service": service}):
            continue
        row: dict[str, Any] = {"id": marker.id, "kind": marker.kind, "target": marker.target,
                               "description": marker.description, "expires_at": marker.expires_at}
        if marker.undo_key == "stress.local":
            from chaosext.stress import local

            row["replicas"] = local.group_stats(marker.undo_args.get("replicas", []))
        else:
            row["pods"] = marker.undo_args.get("pods", [])
        rows.append(row)
    return rows
