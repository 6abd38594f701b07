"""``wait_until``: poll a condition until it holds or a deadline passes (no bare sleeps in tests)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["wait_until"]

T = TypeVar("T")


def wait_until(
    what: str,
    probe: Callable[[], T],
    timeout: float = 30.0,
    interval: float = 0.25,
    *,
    done: Callable[[T], Any] | None = None,
    retry_on: tuple[type[BaseException], ...] = (Exception,),
    on_timeout: Callable[[], str] | None = None,
) -> T:
    """Call ``probe`` every ``interval`` seconds until its value counts as done, and return it.

    Done means truthy, or ``done(value)`` holding when ``done`` is given (for values that may be
    falsy, such as ``None`` for "gone"). A probe raising one of ``retry_on`` means "not yet"
    (the component may be starting); pass ``retry_on=()`` to let its errors fail the test at once.
    The probe runs at least once and once more at the deadline. On timeout an AssertionError names
    ``what`` and shows the last value or error, plus ``on_timeout()`` (e.g. a component's log).
    """
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = probe()
        except retry_on as exc:
            last = exc
        else:
            if (done(value) if done is not None else value):
                return value
            last = value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            extra = on_timeout() if on_timeout is not None else ""
            raise AssertionError(
                f"timed out after {timeout:g} s waiting for {what}; last seen: {last!r}" + (f"\n{extra}" if extra else "")
            )
        time.sleep(min(interval, remaining))
