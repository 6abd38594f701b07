"""Argument checks for the activities: each returns the value in its usable form, or raises chaoslib's
ActivityFailed naming the bad argument and what it must be, before anything changes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chaoslib.exceptions import ActivityFailed

__all__ = [
    "choice",
    "fraction",
    "in_range",
    "milliseconds",
    "non_empty",
    "number",
    "positive",
    "positive_int",
    "seconds",
    "whole",
]


def number(name: str, value: Any, unit: str = "") -> float:
    """Any real number (an int, a float or their text; not a bool)."""
    what = f"a number of {unit}" if unit else "a number"
    if isinstance(value, bool):
        raise ActivityFailed(f"'{name}' must be {what}, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ActivityFailed(f"'{name}' must be {what}, got {value!r}") from None


def seconds(name: str, value: Any, zero_ok: bool = False) -> float:
    """A duration: more than 0 seconds, or at least 0 with ``zero_ok``."""
    if zero_ok:
        duration = number(name, value, "seconds")
        if duration < 0:
            raise ActivityFailed(f"'{name}' must not be negative, got {value!r}")
        return duration
    return positive(name, value, "seconds")


def positive(name: str, value: Any, unit: str) -> float:
    """A number of ``unit`` greater than 0 (a duration, a latency bound)."""
    found = number(name, value, unit)
    if found <= 0:
        raise ActivityFailed(f"'{name}' must be a positive number of {unit}, got {value!r}")
    return found


def milliseconds(name: str, value: Any, maximum: float | None = None) -> float:
    """A delay: at least 0 ms (and at most ``maximum``)."""
    delay = number(name, value, "milliseconds")
    if maximum is not None and not 0 <= delay <= maximum:
        raise ActivityFailed(f"'{name}' must be between 0 and {maximum:g} ms, got {value!r}")
    if delay < 0:
        raise ActivityFailed(f"'{name}' must not be negative, got {value!r}")
    return delay


def in_range(name: str, value: Any, above: float, at_most: float) -> float:
    """A number greater than ``above`` and at most ``at_most``."""
    found = number(name, value)
    if not above < found <= at_most:
        raise ActivityFailed(f"'{name}' must be greater than {above:g} and at most {at_most:g}, got {value!r}")
    return found


def fraction(name: str, value: Any, one_ok: bool = True, example: str = "0.99") -> float:
    """A ratio above 0 and up to 1 (below 1 unless ``one_ok``), e.g. a quantile or an SLO target."""
    if isinstance(value, bool):
        raise ActivityFailed(f"'{name}' must be a number between 0 and 1 (e.g. {example}), got {value!r}")
    try:
        ratio = float(value)
    except (TypeError, ValueError):
        raise ActivityFailed(f"'{name}' must be a number between 0 and 1 (e.g. {example}), got {value!r}") from None
    if not (0 < ratio <= 1 if one_ok else 0 < ratio < 1):
        upper = "1" if one_ok else "1 (both excluded)"
        raise ActivityFailed(f"'{name}' must be between 0 (excluded) and {upper}, e.g. {example}, got {value!r}")
    return ratio


def whole(name: str, value: Any, minimum: int = 0, maximum: int | None = None, text_ok: bool = True) -> int:
    """A whole number (an int, or its text unless ``text_ok`` is false; not a bool or a float) from
    ``minimum`` (to ``maximum``)."""
    what = f"a whole number >= {minimum}" if maximum is None else f"a whole number from {minimum} to {maximum}"
    if isinstance(value, bool) or not isinstance(value, int | str) or (isinstance(value, str) and not text_ok):
        raise ActivityFailed(f"'{name}' must be {what}, got {value!r}")
    try:
        count = int(value)
    except ValueError:
        raise ActivityFailed(f"'{name}' must be {what}, got {value!r}") from None
    if count < minimum or (maximum is not None and count > maximum):
        raise ActivityFailed(f"'{name}' must be {what}, got {value!r}")
    return count


def positive_int(name: str, value: Any) -> int:
    return whole(name, value, 1)


def choice(name: str, value: Any, options: Iterable[str]) -> str:
    """One of ``options``, exactly as given."""
    allowed = tuple(options)
    if value not in allowed:
        raise ActivityFailed(f"'{name}' must be one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def non_empty(name: str, value: Any) -> str:
    """A string with at least one character."""
    if not isinstance(value, str) or not value:
        raise ActivityFailed(f"'{name}' must be a non-empty string, got {value!r}")
    return value
