"""Loading Chaos Toolkit journals and reading the few fields everything else needs."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chaosext.errors import UsageError

__all__ = [
    "Journal",
    "JournalError",
    "activity_name",
    "evidence",
    "experiment_title",
    "load_journal",
    "parse_time",
    "slugify",
    "started_at",
]

Journal = dict[str, Any]

_REQUIRED = ("experiment", "status", "steady_states")


class JournalError(UsageError):
    """A journal file is missing, unreadable or not a Chaos Toolkit journal (exit code 2)."""


def load_journal(path: Path) -> Journal:
    """Read and check one journal; any problem raises :class:`JournalError` naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise JournalError(f"{path}: journal file not found") from None
    except IsADirectoryError:
        raise JournalError(f"{path}: is a directory, not a journal file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise JournalError(f"{path}: cannot read journal: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JournalError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise JournalError(
            f"{path}: not a Chaos Toolkit journal (a JSON {type(data).__name__}, not an object)"
        )
    missing = [key for key in _REQUIRED if key not in data]
    if missing:
        raise JournalError(
            f"{path}: not a Chaos Toolkit journal (missing {', '.join(repr(k) for k in missing)})"
        )
    if not isinstance(data["experiment"], dict) or not isinstance(data["steady_states"], dict):
        raise JournalError(
            f"{path}: not a Chaos Toolkit journal ('experiment'/'steady_states' are not objects)"
        )
    return data


def evidence(journal: Journal) -> dict[str, Any]:
    """The ``chaosext`` evidence block (see :mod:`chaosext.evidence.archive`), or an empty dict."""
    block = journal.get("chaosext")
    return block if isinstance(block, dict) else {}


def experiment_title(journal: Journal) -> str:
    experiment = journal.get("experiment")
    title = experiment.get("title") if isinstance(experiment, dict) else None
    return str(title) if title else "untitled experiment"


def activity_name(run: Any) -> str:
    """The name of the activity of a journal run entry (or of a bare activity)."""
    if not isinstance(run, dict):
        return "?"
    activity = run.get("activity", run)
    if not isinstance(activity, dict):
        return "?"
    return str(activity.get("name") or activity.get("type") or "?")


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 string or a unix timestamp as an aware datetime; None when absent or malformed."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), tz=UTC)
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def started_at(journal: Journal) -> datetime | None:
    return parse_time(journal.get("start"))


def slugify(text: str, max_length: int = 60) -> str:
    """``Checkout survives a pod kill!`` -> ``checkout-survives-a-pod-kill``."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "experiment"
