"""Private backups of what a certificate fault replaced (they hold private keys): files in the
fault's own 0700 directory under the faults state dir, never in a marker, a result or a log."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from chaosext.faults.paths import faults_dir

__all__ = ["drop", "load", "save"]


def save(fault_id: str, content: dict[str, Any]) -> str:
    folder = faults_dir() / f"{fault_id}.backup"
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / "backup.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(content, fh)
    return str(path)


def load(path: str) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(Path(path).read_text())
    except FileNotFoundError:
        return None
    return data


def drop(path: str) -> None:
    shutil.rmtree(Path(path).parent, ignore_errors=True)
