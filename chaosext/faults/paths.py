"""Where the fault markers live (see docs/architecture.md): ``faults`` under the state root."""

from __future__ import annotations

from pathlib import Path

from chaosext.common.settings import state_root

__all__ = ["faults_dir", "state_root"]


def faults_dir() -> Path:
    path = state_root() / "faults"
    path.mkdir(parents=True, exist_ok=True)
    return path
