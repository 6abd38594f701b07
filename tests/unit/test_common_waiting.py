"""chaosext.common.waiting: the one polling loop (tests/support.wait_until is built on it)."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from chaosext.common.waiting import WaitTimeout, eventually, wait_until, wait_until_async


def test_returns_the_first_value_that_counts_as_done() -> None:
    values = iter([0, 1, 2, 3])
    assert wait_until("three", lambda: next(values), done=lambda n: n == 3, timeout_s=5, interval_s=0.01) == 3
    truthy = iter([None, "", "up"])
    assert wait_until("up", lambda: next(truthy), timeout_s=5, interval_s=0.01) == "up"


def test_probe_errors_propagate_unless_retried() -> None:
    answers: list[object] = [ConnectionError("starting"), ConnectionError("starting"), "up", "up"]

    def server() -> object:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    with pytest.raises(ConnectionError):
        wait_until("a server", server, timeout_s=5, interval_s=0.01)
    assert wait_until("a server", server, timeout_s=5, interval_s=0.01, retry_on=(ConnectionError,)) == "up"
    assert answers == ["up"]


def test_timeout_names_what_and_keeps_the_last_value() -> None:
    started = time.monotonic()
    with pytest.raises(WaitTimeout) as failure:
        wait_until("three replicas", lambda: 2, done=lambda n: n == 3, timeout_s=0.2, interval_s=0.05,
                   on_timeout=lambda: "log tail")
    assert 0.2 <= time.monotonic() - started < 2
    assert failure.value.what == "three replicas" and failure.value.last == 2
    assert isinstance(failure.value, TimeoutError)
    assert "three replicas" in str(failure.value) and "last seen: 2" in str(failure.value)
    assert str(failure.value).endswith("\nlog tail")


def test_a_retried_error_is_the_last_value_on_timeout() -> None:
    def refused() -> None:
        raise ConnectionRefusedError("nobody home")

    with pytest.raises(WaitTimeout) as failure:
        wait_until("the port", refused, timeout_s=0.05, interval_s=0.01, retry_on=(OSError,))
    assert isinstance(failure.value.last, ConnectionRefusedError)


def test_eventually_says_whether_it_held_without_raising() -> None:
    assert eventually("now", lambda: True, timeout_s=0.1) is True
    calls = itertools.count()
    assert eventually("never", lambda: next(calls) < 0, timeout_s=0.1, interval_s=0.02) is False
    assert next(calls) >= 3  # it kept polling until the timeout


def test_the_async_form_awaits_its_probe() -> None:
    values = iter([1, 2, 3])

    async def probe() -> int:
        return next(values)

    assert asyncio.run(wait_until_async("three", probe, done=lambda n: n == 3, timeout_s=5, interval_s=0.01)) == 3

    async def stuck() -> int:
        return 1

    with pytest.raises(WaitTimeout, match="waiting for two; last seen: 1"):
        asyncio.run(wait_until_async("two", stuck, done=lambda n: n == 2, timeout_s=0.05, interval_s=0.01))
