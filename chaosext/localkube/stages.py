"""KWOK's default stages plus the one change chaosext's readiness faults need.

Pods run no containers under KWOK, so no readiness probe ever runs: KWOK's ``pod-ready`` stage
marks every scheduled pod Ready. A pod whose template a readiness fault changed carries the label
``chaosext.io/fault=readiness``; such pods are kept out of ``pod-ready`` here, so they stay not
Ready, as their failing probe would keep them on a real cluster (kind runs the real probe).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from chaosext.localkube.build import STAGES_FILE

__all__ = ["READINESS_FAULT_LABEL", "write_stages"]

READINESS_FAULT_LABEL = ("chaosext.io/fault", "readiness")


def _patch(doc: dict[str, Any]) -> dict[str, Any]:
    if doc.get("kind") == "Stage" and doc.get("metadata", {}).get("name") == "pod-ready":
        key, value = READINESS_FAULT_LABEL
        expressions = doc["spec"]["selector"].setdefault("matchExpressions", [])
        expressions.append({"key": f'.metadata.labels["{key}"]', "operator": "NotIn", "values": [value]})
    return doc


def write_stages(bin_dir: Path, state_dir: Path) -> Path:
    """Write the stages KWOK runs with into the state dir; returns its path."""
    docs = [d for d in yaml.safe_load_all((bin_dir / STAGES_FILE).read_text()) if d]
    target = state_dir / "kwok-stages.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump_all([_patch(d) for d in docs], sort_keys=False))
    return target
