"""``wait_until``: poll a condition until it holds or a timeout passes, then say what was awaited.

The one polling loop of chaosext (and, through tests/support, of the tests): the probe runs at
once, then every ``interval_s`` and one last time at the deadline; the timeout error names what was
awaited and the last value (or error) the probe gave, so callers can build their own message from it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["WaitTimeout", "eventually", "wait_until"]

T = TypeVar("T")


class WaitTimeout(TimeoutError):
    """``what`` did not happen within ``timeout_s``; ``last`` is the probe's last value or error."""

    def __init__(self, what: str, timeout_s: float, last: object, detail: str = "") -> None:
        self.what, self.timeout_s, self.last = what, timeout_s, last
        message = f"timed out after {timeout_s:g} s waiting for {what}; last seen: {last!r}"
        super().__init__(message + (f"\n{detail}" if detail else ""))


def wait_until(
    what: str,
    probe: Callable[[], T],
    *,
    done: Callable[[T], Any] | None = None,
    timeout_s: float = 30.0,
    interval_s: float = 0.25,
    retry_on: tuple[type[BaseException], ...] = (),
    on_timeout: Callable[[], str] | None = None,
) -> T:
    """Call ``probe`` until its value counts as done, and return that value.

    Done means truthy, or ``done(value)`` holding when ``done`` is given (for values that may be
    falsy). A probe raising one of ``retry_on`` means "not yet"; any other error propagates at once.
    After ``timeout_s`` raises :class:`WaitTimeout` (with ``on_timeout()`` appended, e.g. a log tail).
    """
    deadline = time.monotonic() + timeout_s
    last: object = None
    while True:
        try:
            value = probe()
        except retry_on as exc:
            last = exc
        else:
            if done(value) if done is not None else value:
                return value
            last = value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WaitTimeout(what, timeout_s, last, on_timeout() if on_timeout is not None else "")
        time.sleep(min(interval_s, remaining))


def eventually(what: str, probe: Callable[[], Any], *, timeout_s: float, interval_s: float = 0.25) -> bool:
    """Best effort: did ``probe`` return something truthy within ``timeout_s``? (No error on timeout.)"""
    try:
        wait_until(what, probe, timeout_s=timeout_s, interval_s=interval_s)
    except WaitTimeout:
        return False
    return True
