"""KWOK's default stages plus the one change chaosext's readiness faults need.

Pods run no containers under KWOK, so no readiness probe ever runs: KWOK's ``pod-ready`` stage
marks every scheduled pod Ready. A pod whose template a readiness fault changed carries the label
``chaosext.io/fault=readiness``; such pods are kept out of ``pod-ready`` here, so they stay not
Ready, as their failing probe would keep them on a real cluster (kind runs the real probe).

KWOK also plays the kubelet's exec endpoint: the ClusterExec below runs a command sent to any
container (``kubectl exec``, the API's pods/exec) on this machine, in ``<state>/exec``. Faults
that work through exec (resource stress) are so tested through the real API server's exec path;
the command runs on the host, not in a container's cgroup (there is none).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from chaosext.localkube.build import STAGES_FILE

__all__ = ["READINESS_FAULT_LABEL", "local_exec", "write_stages"]

READINESS_FAULT_LABEL = ("chaosext.io/fault", "readiness")


def _patch(doc: dict[str, Any]) -> dict[str, Any]:
    if doc.get("kind") == "Stage" and doc.get("metadata", {}).get("name") == "pod-ready":
        key, value = READINESS_FAULT_LABEL
        expressions = doc["spec"]["selector"].setdefault("matchExpressions", [])
        expressions.append({"key": f'.metadata.labels["{key}"]', "operator": "NotIn", "values": [value]})
    return doc


def local_exec(work_dir: Path) -> dict[str, Any]:
    """Every pod's every container: exec runs the command locally, in ``work_dir``."""
    return {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterExec",
            "metadata": {"name": "chaosext-local-exec"},
            "spec": {"execs": [{"local": {"workDir": str(work_dir)}}]}}


def write_stages(bin_dir: Path, state_dir: Path) -> Path:
    """Write the stages (and the exec rule) KWOK runs with into the state dir; returns its path."""
    docs = [d for d in yaml.safe_load_all((bin_dir / STAGES_FILE).read_text()) if d]
    work_dir = state_dir / "exec"
    work_dir.mkdir(parents=True, exist_ok=True)
    target = state_dir / "kwok-stages.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump_all([*(_patch(d) for d in docs), local_exec(work_dir)], sort_keys=False))
    return target
