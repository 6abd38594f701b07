"""checkout's circuit breaker (cluster/services/servicekit/breaker.py) on a clock the test moves:
it opens on the failure rate over its window, not on a run of consecutive failures, and goes
through half-open with a single trial call."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "cluster" / "services"))

from servicekit.breaker import BreakerOpen, BreakerSettings, BreakerState, RateBreaker  # noqa: E402

SETTINGS = BreakerSettings(failure_ratio=0.5, min_calls=10, window_s=10.0, reset_s=5.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Refused(Exception):
    pass


class Rejected(Exception):
    pass


async def _ok() -> str:
    return "ok"


async def _fail() -> str:
    raise Refused("payment refused the connection")


async def _reject() -> str:
    raise Rejected("payment answered 400")


def _run(breaker: RateBreaker, outcomes: str, step_s: float = 0.0, clock: Clock | None = None) -> list[str]:
    """Calls the breaker once per letter (o: success, f: failure, r: an excluded rejection); returns
    what each call gave: ok, failed, rejected or open."""
    seen: list[str] = []
    calls = {"o": _ok, "f": _fail, "r": _reject}
    for letter in outcomes:
        try:
            asyncio.run(breaker.call(calls[letter]))
            seen.append("ok")
        except Refused:
            seen.append("failed")
        except Rejected:
            seen.append("rejected")
        except BreakerOpen:
            seen.append("open")
        if clock is not None:
            clock.now += step_s
    return seen


def _breaker(clock: Clock, settings: BreakerSettings = SETTINGS) -> tuple[RateBreaker, list[tuple[str, str]]]:
    changes: list[tuple[str, str]] = []
    breaker = RateBreaker("payment", settings, exclude=(Rejected,), clock=clock)
    breaker.add_listener(lambda old, new, why: changes.append((old.name, new.name)))
    return breaker, changes


def test_a_burst_of_failures_amid_successes_leaves_it_closed() -> None:
    """Eight failures in a row (the requests in flight to a replica that died) among 30 successes
    within the window: a breaker counting consecutive failures (5) would open, this one does not."""
    clock = Clock()
    breaker, changes = _breaker(clock)
    seen = _run(breaker, "o" * 30 + "f" * 8 + "o" * 10, step_s=0.05, clock=clock)
    assert "open" not in seen and breaker.state is BreakerState.CLOSED and not changes
    assert breaker.window() == (48, 8)


def test_it_opens_once_half_of_enough_calls_failed_and_then_fails_fast() -> None:
    clock = Clock()
    breaker, changes = _breaker(clock)
    seen = _run(breaker, "ooooo" + "fffff" + "ooo", step_s=0.1, clock=clock)
    # the 10th call makes 5 failures of 10: it fails with its own error and opens the breaker
    assert seen == ["ok"] * 5 + ["failed"] * 5 + ["open"] * 3
    assert breaker.state is BreakerState.OPEN and changes == [("CLOSED", "OPEN")]
    with pytest.raises(BreakerOpen, match=r"5 of the last 10 calls failed") as refused:
        asyncio.run(breaker.call(_ok))
    assert 4 <= refused.value.retry_after_s <= 5


def test_fewer_calls_than_min_calls_never_open_it() -> None:
    clock = Clock()
    breaker, _ = _breaker(clock)
    assert _run(breaker, "f" * 9) == ["failed"] * 9
    assert breaker.state is BreakerState.CLOSED


def test_failures_older_than_the_window_are_forgotten() -> None:
    clock = Clock()
    breaker, _ = _breaker(clock)
    _run(breaker, "f" * 9)
    clock.now += 11
    assert _run(breaker, "f" + "o" * 9) == ["failed"] + ["ok"] * 9
    assert breaker.state is BreakerState.CLOSED and breaker.window() == (10, 1)


def test_excluded_errors_are_answers_not_failures() -> None:
    clock = Clock()
    breaker, _ = _breaker(clock)
    assert _run(breaker, "r" * 20) == ["rejected"] * 20
    assert breaker.state is BreakerState.CLOSED and breaker.window() == (20, 0)


def test_half_open_lets_one_trial_through_and_its_outcome_decides() -> None:
    clock = Clock()
    breaker, changes = _breaker(clock)
    _run(breaker, "f" * 10)
    clock.now += 5
    assert breaker.state is BreakerState.HALF_OPEN
    assert _run(breaker, "f") == ["failed"]  # the trial failed: open again for reset_s
    assert breaker.state is BreakerState.OPEN and 4.9 <= breaker.retry_after_s <= 5
    clock.now += 5
    assert _run(breaker, "oo") == ["ok", "ok"]
    assert breaker.state is BreakerState.CLOSED and breaker.window() == (1, 0)
    assert [new for _, new in changes] == ["OPEN", "HALF_OPEN", "OPEN", "HALF_OPEN", "CLOSED"]


def test_only_one_trial_call_runs_while_half_open() -> None:
    clock = Clock()
    breaker, _ = _breaker(clock)
    _run(breaker, "f" * 10)
    clock.now += 5

    async def both() -> list[object]:
        release = asyncio.Event()

        async def slow() -> str:
            await release.wait()
            return "ok"

        trial = asyncio.ensure_future(breaker.call(slow))
        await asyncio.sleep(0)
        second = asyncio.ensure_future(breaker.call(_ok))
        await asyncio.sleep(0)
        release.set()
        return await asyncio.gather(trial, second, return_exceptions=True)

    trial, second = asyncio.run(both())
    assert trial == "ok" and isinstance(second, BreakerOpen)
    assert breaker.state is BreakerState.CLOSED


def test_a_cancelled_call_is_not_counted() -> None:
    clock = Clock()
    breaker, _ = _breaker(clock)

    async def cancelled() -> None:
        task = asyncio.ensure_future(breaker.call(asyncio.sleep, 10))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancelled())
    assert breaker.window() == (0, 0)


def test_new_settings_keep_the_window() -> None:
    clock = Clock()
    breaker, _ = _breaker(clock)
    _run(breaker, "o" * 6 + "f" * 3)
    breaker.configure(BreakerSettings(failure_ratio=0.3, min_calls=10, window_s=10.0, reset_s=5.0))
    assert _run(breaker, "f") == ["failed"]
    assert breaker.state is BreakerState.OPEN  # 4 of 10 >= 0.3


@pytest.mark.parametrize("field, value, message", [
    ("failure_ratio", 0.0, "failure_ratio"), ("failure_ratio", 1.5, "failure_ratio"),
    ("min_calls", 0, "min_calls"), ("window_s", 0.0, "window_s"), ("reset_s", -1.0, "reset_s"),
])
def test_bad_settings_name_the_setting(field: str, value: float, message: str) -> None:
    values = {"failure_ratio": 0.5, "min_calls": 10, "window_s": 10.0, "reset_s": 5.0, field: value}
    with pytest.raises(ValueError, match=message):
        BreakerSettings(**values)  # type: ignore[arg-type]
