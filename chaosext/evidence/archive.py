"""Journals as evidence: what a run records next to Chaos Toolkit's journal, and where it is kept.

The contract (filled by the experiments' controls and by :func:`enrich`)
------------------------------------------------------------------------
Every chaosext run adds a top-level ``"chaosext"`` object to its Chaos Toolkit journal::

    journal["chaosext"] = {
        "commit": "<git SHA of the checkout (HEAD)>",
        "experiment_commit": "<SHA of the last commit touching the experiment file>",
        "experiment_dirty": false,            # the experiment file differs from that commit
        "experiment_file": "experiments/payment-pod-kill.yaml",   # relative to the repo
        "target": "local" | "kubernetes",
        "versions": {"chaostoolkit": "1.19.0", "chaostoolkit-lib": "1.44.0",
                     "chaosext-backend": "0.1.0", "python": "3.11.2"},
        "fault_window": {"start": "<ISO-8601>", "end": "<ISO-8601>"},
        "slo": {                              # figures of the checkout SLO
            "before": {"client_p99_ms": 210.0, "server_p99_ms": 180.0, "error_rate": 0.0002},
            "during": {...same keys, the WORST value inside the fault window...},
            "after":  {...same keys...}
        },
        "timeline": {
            "series": {                       # [[unix_ts, value], ...], sorted or not
                "client_p99_ms": [[1721030400.0, 212.0], ...],
                "server_p99_ms": [[1721030400.0, 181.0], ...],
                "error_rate":    [[1721030400.0, 0.0002], ...]
            },
            "thresholds": {"p99_ms": 500.0, "error_rate": 0.005}
        },
        "log": {                              # the human part of the experiment log, all optional
            "hypothesis": "One pod kill does not raise checkout 5xx above 0.5%",
            "scope": "staging / payment-service / 30 s / single pod",
            "root_cause": "checkout-api retried 5x with no backoff",
            "fix": "exponential backoff + circuit breaker PR #482"
        },
        "abort": {"reason": "...", "at": "<ISO-8601>", "figures": {...}}   # only when a guardrail halted
    }

Units: latencies in milliseconds, ``error_rate`` as a ratio (0.005 = 0.5%). Every key is optional:
the gate, the report and compare degrade gracefully ("no timeline recorded"). Extra numeric keys
in ``slo.<phase>`` are shown as they are.

Archiving (:func:`archive`) writes the redacted journal to ``journals/<YYYY-MM-DD>-<slug>[-N].json``
(the date is the run's start, UTC; the slug is the experiment title's) and, when given, the run's
log next to it as ``.log``, both scrubbed by :mod:`chaosext.evidence.redact`.
"""

from __future__ import annotations

import json
import platform
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from chaosext.errors import UsageError
from chaosext.evidence.journal import Journal, evidence, experiment_title, load_journal, slugify, started_at
from chaosext.evidence.redact import Redactor, find_leaks

__all__ = ["TARGETS", "archive", "enrich", "git_facts", "tool_versions"]

TARGETS = ("local", "kubernetes")
_DISTRIBUTIONS = (
    "chaostoolkit",
    "chaostoolkit-lib",
    "chaosext-backend",
    "chaostoolkit-kubernetes",
    "chaostoolkit-prometheus",
    "chaostoolkit-toxiproxy",
)


def _git(cwd: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    out = proc.stdout.strip()
    return out if proc.returncode == 0 and out else None


def git_facts(experiment_path: Path) -> dict[str, Any]:
    """HEAD's SHA, the last commit touching the experiment file and whether the file is modified."""
    folder = experiment_path.resolve().parent
    root = _git(folder, "rev-parse", "--show-toplevel")
    if root is None:
        return {"commit": None, "experiment_commit": None, "experiment_file": str(experiment_path)}
    resolved = experiment_path.resolve()
    relative = str(resolved.relative_to(Path(root).resolve()))
    dirty = _git(Path(root), "status", "--porcelain", "--", relative)
    return {
        "commit": _git(Path(root), "rev-parse", "HEAD"),
        "experiment_commit": _git(Path(root), "log", "-1", "--format=%H", "--", relative),
        "experiment_dirty": dirty is not None,
        "experiment_file": relative,
    }


def tool_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _DISTRIBUTIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def enrich(
    journal: Journal,
    experiment_path: Path,
    target: str,
    *,
    fault_window: Mapping[str, str] | None = None,
    slo: Mapping[str, Mapping[str, float]] | None = None,
    timeline: Mapping[str, Any] | None = None,
    log: Mapping[str, str] | None = None,
) -> Journal:
    """Fill ``journal["chaosext"]`` (in place, also returned); what a control already recorded is kept."""
    if target not in TARGETS:
        raise UsageError(f"--target: {target!r} is not one of {', '.join(TARGETS)}")
    if not experiment_path.is_file():
        raise UsageError(f"--experiment: {experiment_path} is not a file")
    block = dict(evidence(journal))
    block.update(git_facts(experiment_path))
    block["target"] = target
    block["versions"] = {**tool_versions(), **(block.get("versions") or {})}
    extras: dict[str, Any] = {"fault_window": fault_window, "slo": slo, "timeline": timeline, "log": log}
    for key, value in extras.items():
        if value is not None:
            block[key] = dict(value)
    recorded = (block.get("timeline") or {}).get("fault") if isinstance(block.get("timeline"), dict) else None
    if not block.get("fault_window") and isinstance(recorded, list | tuple) and len(recorded) == 2:
        # the abort control records the window as unix seconds in timeline.fault
        start, end = (datetime.fromtimestamp(float(t), UTC).isoformat() for t in recorded)
        block["fault_window"] = {"start": start, "end": end}
    journal["chaosext"] = block
    return journal


def _destination(dest_dir: Path, journal: Journal) -> tuple[Path, str]:
    start = started_at(journal)
    stem = f"{start.date().isoformat() if start else 'undated'}-{slugify(experiment_title(journal))}"
    return dest_dir, stem


def _write_exclusive(dest_dir: Path, stem: str, payload: str) -> Path:
    dest_dir.mkdir(parents=True, exist_ok=True)
    for n in range(1, 10_000):
        path = dest_dir / (f"{stem}.json" if n == 1 else f"{stem}-{n}.json")
        try:
            with path.open("x", encoding="utf-8") as handle:
                handle.write(payload)
        except FileExistsError:
            continue
        return path
    raise UsageError(f"--dest: too many journals named {stem} in {dest_dir}")


def archive(
    journal_path: Path,
    dest_dir: Path = Path("journals"),
    *,
    experiment_path: Path | None = None,
    target: str | None = None,
    log_path: Path | None = None,
) -> Path:
    """Keep one run's journal (redacted, enriched when an experiment file is given) under ``dest_dir``."""
    journal = load_journal(journal_path)
    if experiment_path is not None:
        enrich(journal, experiment_path, target or evidence(journal).get("target") or "local")
    elif target is not None:
        if target not in TARGETS:
            raise UsageError(f"--target: {target!r} is not one of {', '.join(TARGETS)}")
        journal["chaosext"] = {**evidence(journal), "target": target}
    redactor = Redactor.for_journal(journal)
    log_text: str | None = None
    if log_path is not None:
        try:
            log_text = redactor.text(log_path.read_text(encoding="utf-8", errors="replace"))
        except OSError as exc:
            raise UsageError(f"--log: cannot read {log_path}: {exc}") from None
    payload = json.dumps(redactor.data(journal), indent=2, ensure_ascii=False, default=str) + "\n"
    leaks = find_leaks(payload, redactor.known)
    if leaks:  # never write evidence that still holds a secret
        raise UsageError(f"{journal_path}: redaction left {', '.join(leaks)}; not archived")
    dest, stem = _destination(dest_dir, journal)
    path = _write_exclusive(dest, stem, payload)
    if log_text is not None:
        path.with_suffix(".log").write_text(log_text, encoding="utf-8")
    return path
