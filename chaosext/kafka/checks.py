"""Argument checks of the Kafka activities: each names the bad argument, before anything changes.

The general checks (whole numbers, choices, seconds) are chaosext.common.checks, offered here too so
that the Kafka modules ask one module."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chaoslib.exceptions import ActivityFailed

from chaosext.common.checks import choice, non_empty, positive_int, seconds, whole

__all__ = ["broker_ids", "choice", "non_empty", "positive_int", "seconds", "timestamp_ms", "whole"]


def broker_ids(value: Any) -> list[int] | None:
    """``brokers`` as given: None, one id, a list of ids or a comma string."""
    if value is None or value == "" or value == []:
        return None
    items = (
        value.split(",") if isinstance(value, str) else value if isinstance(value, list | tuple) else [value]
    )
    ids = [whole("brokers", v if not isinstance(v, str) else v.strip(), 0) for v in items]
    if len(set(ids)) != len(ids):
        raise ActivityFailed(f"'brokers' lists a broker twice: {value!r}")
    return ids


def timestamp_ms(value: Any) -> int:
    """``to_timestamp``: ISO-8601 (with a zone, or UTC), or epoch seconds / milliseconds."""
    if isinstance(value, bool):
        raise ActivityFailed(f"'to_timestamp' must be an ISO-8601 time or epoch seconds, got {value!r}")
    if isinstance(value, int | float):
        number = float(value)
        return int(number if number > 1e11 else number * 1000)
    if isinstance(value, str):
        try:
            return timestamp_ms(float(value))
        except ValueError:
            pass
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ActivityFailed(
                f"'to_timestamp' must be an ISO-8601 time or epoch seconds, got {value!r}"
            ) from None
        if moment.tzinfo is None:
            from datetime import UTC

            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp() * 1000)
    raise ActivityFailed(f"'to_timestamp' must be an ISO-8601 time or epoch seconds, got {value!r}")
