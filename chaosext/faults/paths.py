"""Where chaosext keeps its state (see docs/architecture.md)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["faults_dir", "state_root"]


def state_root() -> Path:
    env = os.environ.get("CHAOSEXT_STATE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "state"
    return base / "chaosext"


def faults_dir() -> Path:
    path = state_root() / "faults"
    path.mkdir(parents=True, exist_ok=True)
    return path
