"""``wait_until`` for the tests: chaosext's own (chaosext.common.waiting), failing the test on timeout."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from chaosext.common.waiting import WaitTimeout
from chaosext.common.waiting import wait_until as _wait_until

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
    """chaosext.common.waiting.wait_until, with a probe's errors meaning "not yet" by default (the
    component may be starting; ``retry_on=()`` lets them fail the test at once) and an
    AssertionError on timeout, naming ``what`` and the last value or error."""
    try:
        return _wait_until(what, probe, done=done, timeout_s=timeout, interval_s=interval, retry_on=retry_on,
                           on_timeout=on_timeout)
    except WaitTimeout as exc:
        raise AssertionError(str(exc)) from None
