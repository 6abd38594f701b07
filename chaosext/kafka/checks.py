"""Argument checks shared by the Kafka activities: each names the bad argument, before anything changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chaoslib.exceptions import ActivityFailed

__all__ = ["broker_ids", "choice", "positive_int", "timestamp_ms", "whole"]


def whole(name: str, value: Any, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ActivityFailed(f"'{name}' must be a whole number >= {minimum}, got {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise ActivityFailed(f"'{name}' must be a whole number >= {minimum}, got {value!r}") from None
    if number < minimum:
        raise ActivityFailed(f"'{name}' must be a whole number >= {minimum}, got {value!r}")
    return number


def positive_int(name: str, value: Any) -> int:
    return whole(name, value, 1)


def choice(name: str, value: Any, options: tuple[str, ...]) -> str:
    if value not in options:
        raise ActivityFailed(f"'{name}' must be one of {', '.join(options)}, got {value!r}")
    return str(value)


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
