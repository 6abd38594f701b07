"""``wait_until``: poll a condition until it holds or a timeout passes, then say what was awaited.

The one polling loop of chaosext (and, through tests/support, of the tests), for plain and for async
probes: the probe runs at once, then every ``interval_s`` and one last time at the deadline; the
timeout error names what was awaited and the last value (or error) the probe gave, so callers can
build their own message from it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

__all__ = ["WaitTimeout", "eventually", "wait_until", "wait_until_async"]

T = TypeVar("T")
Retry = tuple[type[BaseException], ...]


class WaitTimeout(TimeoutError):
    """``what`` did not happen within ``timeout_s``; ``last`` is the probe's last value or error."""

    def __init__(self, what: str, timeout_s: float, last: object, detail: str = "") -> None:
        self.what, self.timeout_s, self.last = what, timeout_s, last
        message = f"timed out after {timeout_s:g} s waiting for {what}; last seen: {last!r}"
        super().__init__(message + (f"\n{detail}" if detail else ""))


class _Poll(Generic[T]):
    """The bookkeeping of one wait: the deadline, the last answer, and when to try again."""

    def __init__(self, what: str, done: Callable[[T], Any] | None, timeout_s: float, interval_s: float,
                 on_timeout: Callable[[], str] | None) -> None:
        self.what, self.done, self.timeout_s, self.interval_s = what, done, timeout_s, interval_s
        self.on_timeout = on_timeout
        self.deadline = time.monotonic() + timeout_s
        self.last: object = None

    def answered(self, value: T) -> bool:
        """Record the probe's value; True if it counts as done."""
        self.last = value
        return bool(self.done(value) if self.done is not None else value)

    def pause(self) -> float:
        """How long to sleep before the next try; WaitTimeout once the deadline has passed."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            detail = self.on_timeout() if self.on_timeout is not None else ""
            raise WaitTimeout(self.what, self.timeout_s, self.last, detail)
        return min(self.interval_s, remaining)


def wait_until(
    what: str,
    probe: Callable[[], T],
    *,
    done: Callable[[T], Any] | None = None,
    timeout_s: float = 30.0,
    interval_s: float = 0.25,
    retry_on: Retry = (),
    on_timeout: Callable[[], str] | None = None,
) -> T:
    """Call ``probe`` until its value counts as done, and return that value.

    Done means truthy, or ``done(value)`` holding when ``done`` is given (for values that may be
    falsy). A probe raising one of ``retry_on`` means "not yet"; any other error propagates at once.
    After ``timeout_s`` raises :class:`WaitTimeout` (with ``on_timeout()`` appended, e.g. a log tail).
    """
    poll: _Poll[T] = _Poll(what, done, timeout_s, interval_s, on_timeout)
    while True:
        try:
            value = probe()
        except retry_on as exc:
            poll.last = exc
        else:
            if poll.answered(value):
                return value
        time.sleep(poll.pause())


async def wait_until_async(
    what: str,
    probe: Callable[[], Awaitable[T]],
    *,
    done: Callable[[T], Any] | None = None,
    timeout_s: float = 30.0,
    interval_s: float = 0.25,
    retry_on: Retry = (),
) -> T:
    """:func:`wait_until` for a coroutine probe, sleeping with ``asyncio.sleep``."""
    poll: _Poll[T] = _Poll(what, done, timeout_s, interval_s, None)
    while True:
        try:
            value = await probe()
        except retry_on as exc:
            poll.last = exc
        else:
            if poll.answered(value):
                return value
        await asyncio.sleep(poll.pause())


def eventually(what: str, probe: Callable[[], Any], *, timeout_s: float, interval_s: float = 0.25) -> bool:
    """Best effort: did ``probe`` return something truthy within ``timeout_s``? (No error on timeout.)"""
    try:
        wait_until(what, probe, timeout_s=timeout_s, interval_s=interval_s)
    except WaitTimeout:
        return False
    return True
