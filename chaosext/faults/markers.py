"""Fault markers: one JSON file per active fault, so rollbacks, the expiry reaper and
``chaosext cleanup`` can all find and undo it, even after the experiment process died."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from chaosext.faults.paths import faults_dir
from chaosext.faults.undoers import LEGACY_REFS

__all__ = ["FaultMarker", "Scope", "delete", "list_markers", "load", "matches", "new_id", "path_of", "save"]

Scope = Mapping[str, str | None]
"""A filter on a marker's ``scope``: every key whose value is not None must be equal."""


ENV_KEYS = ("KUBECONFIG", "KUBERNETES_CONTEXT")


def captured_env() -> dict[str, str]:
    """The environment that locates the target (stack ports and state, kube config): undo runs
    in it, even from another process (the reaper, ``chaosext cleanup``)."""
    return {k: v for k, v in os.environ.items() if k.startswith("CHAOSEXT_") or k in ENV_KEYS}


def new_id(family: str) -> str:
    return f"{family}-{uuid.uuid4().hex[:12]}"


@dataclass
class FaultMarker:
    """What a fault changed and how to undo it.

    ``undo`` is the key of a registered undo function (``chaosext.faults.undoers``); it is called
    with ``**undo_args`` and must be idempotent (undoing an already-undone fault is a no-op).
    ``target`` is for people (logs, journals); ``scope`` holds what the fault hit as separate
    fields (``service``, ``workload``, ``namespace``, ``proxy``, ``name``...), which rollbacks
    filter on.
    """

    id: str
    family: str
    kind: str
    target: str
    description: str
    undo: str
    undo_args: dict[str, Any] = field(default_factory=dict)
    scope: dict[str, str] = field(default_factory=dict)
    started_at: float = field(default_factory=time.time)
    expires_at: float | None = None
    owner_pid: int = field(default_factory=os.getpid)
    env: dict[str, str] = field(default_factory=captured_env)

    @property
    def undo_key(self) -> str:
        """``undo`` as a key, also for a marker written with an old ``"module:function"``
        reference: it says which driver made the fault."""
        return LEGACY_REFS.get(self.undo, self.undo)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def path_of(fault_id: str, home: Path | None = None) -> Path:
    """The marker file of ``fault_id`` (in ``home``, the faults directory when the caller has it)."""
    return (home or faults_dir()) / f"{fault_id}.json"


def matches(marker: FaultMarker, scope: Scope | None) -> bool:
    """Whether ``marker`` hit what ``scope`` names (keys given None are not compared)."""
    return all(marker.scope.get(key) == value for key, value in (scope or {}).items() if value is not None)


def save(marker: FaultMarker, home: Path | None = None) -> Path:
    """Write the marker file whole (a temporary file renamed over it): a reader never sees half
    of one. Written with plain ``os`` calls: a buffered text file costs four more system calls,
    each one a chance for another thread to take the interpreter while a fault is applied."""
    path = path_of(marker.id, home)
    tmp = path.with_suffix(".tmp")
    data = memoryview(json.dumps(marker.to_json(), indent=2, sort_keys=True).encode())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    try:
        while data:
            data = data[os.write(fd, data):]
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return path


def load(fault_id: str) -> FaultMarker | None:
    path = path_of(fault_id)
    try:
        return FaultMarker(**json.loads(path.read_text()))
    except FileNotFoundError:
        return None


def delete(fault_id: str, home: Path | None = None) -> bool:
    try:
        path_of(fault_id, home).unlink()
        return True
    except FileNotFoundError:
        return False


def list_markers(family: str | None = None, kind: str | None = None, scope: Scope | None = None) -> list[FaultMarker]:
    out: list[FaultMarker] = []
    for path in sorted(faults_dir().glob("*.json")):
        try:
            marker = FaultMarker(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            continue
        if family and marker.family != family:
            continue
        if kind and marker.kind != kind:
            continue
        if not matches(marker, scope):
            continue
        out.append(marker)
    return out
