"""Where a load run keeps its files: ``<state>/traffic/<run id>/`` (targets, Vegeta results, log, meta)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from chaoslib.exceptions import ActivityFailed

from chaosext.common.settings import state_root

__all__ = ["LoadRun", "latest_run", "list_runs", "load_run", "runs_dir"]


def runs_dir() -> Path:
    path = state_root() / "traffic"
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class LoadRun:
    """One background Vegeta attack and where its results go."""

    id: str
    scenario: str
    url: str
    rate: float
    duration: float
    timeout_s: float
    started_at: float
    pid: int | None = None
    command: list[str] = field(default_factory=list)
    targets_count: int = 0

    @property
    def dir(self) -> Path:
        return runs_dir() / self.id

    @property
    def targets(self) -> Path:
        return self.dir / "targets.jsonl"

    @property
    def results(self) -> Path:
        return self.dir / "results.bin"

    @property
    def log(self) -> Path:
        return self.dir / "vegeta.log"

    def save(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / "meta.json.tmp"
        tmp.write_text(json.dumps(asdict(self), indent=2, sort_keys=True))
        os.replace(tmp, self.dir / "meta.json")

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "results": str(self.results), "log": str(self.log)}


def load_run(run_id: str) -> LoadRun:
    path = runs_dir() / str(run_id) / "meta.json"
    try:
        return LoadRun(**json.loads(path.read_text()))
    except FileNotFoundError:
        known = ", ".join(r.id for r in list_runs()[-5:]) or "none"
        raise ActivityFailed(
            f"'run_id' {run_id!r}: no such load run in {runs_dir()} (latest: {known})"
        ) from None


def list_runs() -> list[LoadRun]:
    """Every recorded load run, oldest first."""
    out: list[LoadRun] = []
    for meta in runs_dir().glob("*/meta.json"):
        try:
            out.append(LoadRun(**json.loads(meta.read_text())))
        except (OSError, ValueError, TypeError):
            continue
    return sorted(out, key=lambda r: r.started_at)


def latest_run() -> LoadRun:
    runs = list_runs()
    if not runs:
        raise ActivityFailed(
            f"no load run recorded in {runs_dir()}: start one with chaosext.traffic.actions.start_load"
        )
    return runs[-1]
