"""A circuit breaker that opens on the failure rate of the calls that ended over a sliding time window.

Written here because the maintained Python breakers (aiobreaker, pybreaker, circuitbreaker,
purgatory) count consecutive failures only. A consecutive count opens on a burst of failures that
end together amid mostly successful calls: when one of two replicas dies, the requests in flight to
it fail at once although every other call succeeds, and the breaker then refuses every call for
its reset time. Opening on the share of failed calls over a window, once the window holds enough
calls to judge (the model of resilience4j's time-based sliding window), opens on an outage and
rides out such a burst.

States: CLOSED (calls pass and are counted), OPEN (calls fail fast with BreakerOpen for ``reset_s``),
HALF_OPEN (one trial call passes: its success closes the breaker with an empty window, its failure
opens it again).
"""

from __future__ import annotations

import enum
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


class BreakerState(enum.Enum):
    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2


@dataclass(frozen=True)
class BreakerSettings:
    failure_ratio: float  # opens when at least this share of the window's calls failed (1: only when all did)
    min_calls: int  # ... and the window holds at least this many calls
    window_s: float  # the window: calls that ended within the last window_s seconds
    reset_s: float  # how long it stays open before one trial call may pass

    def __post_init__(self) -> None:
        if not 0 < self.failure_ratio <= 1:
            raise ValueError(f"failure_ratio must be in (0, 1], got {self.failure_ratio!r}")
        if self.min_calls < 1:
            raise ValueError(f"min_calls must be at least 1, got {self.min_calls!r}")
        if not (self.window_s > 0 and self.reset_s > 0):
            raise ValueError(f"window_s and reset_s must be > 0, got {self.window_s!r}, {self.reset_s!r}")


class BreakerOpen(Exception):
    """The breaker refused the call; ``retry_after_s`` is what is left of its open time."""

    def __init__(self, name: str, retry_after_s: float, calls: int, failures: int) -> None:
        super().__init__(f"the {name} circuit breaker is open ({failures} of the last {calls} calls failed); "
                         f"retry in {max(1, math.ceil(retry_after_s))}s")
        self.retry_after_s = retry_after_s


Listener = Callable[[BreakerState, BreakerState, str], None]


class RateBreaker:
    """Counts the calls that end in 1 s buckets; exceptions of the ``exclude`` types are answers
    (not failures), a cancelled call is not counted at all."""

    def __init__(self, name: str, settings: BreakerSettings, *, exclude: tuple[type[BaseException], ...] = (),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.settings = settings
        self.exclude = exclude
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._buckets: deque[list[int]] = deque()  # [second, calls, failures], oldest first
        self._opened_at = 0.0
        self._opened_with = (0, 0)  # (calls, failures) of the window that opened it
        self._trial_running = False
        self._listeners: list[Listener] = []

    def configure(self, settings: BreakerSettings) -> None:
        """New settings apply to the next call; the state and the window's counts are kept."""
        self.settings = settings

    def add_listener(self, listener: Listener) -> None:
        """``listener(old, new, why)`` is called on every state change."""
        self._listeners.append(listener)

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self.retry_after_s == 0:
            self._change(BreakerState.HALF_OPEN, f"{self.settings.reset_s:g}s open: one trial call may pass")
        return self._state

    @property
    def retry_after_s(self) -> float:
        """Seconds left before a trial call may pass (0 when not open)."""
        if self._state is not BreakerState.OPEN:
            return 0.0
        return max(0.0, self._opened_at + self.settings.reset_s - self._clock())

    def window(self) -> tuple[int, int]:
        """(calls, failures) that ended within the window."""
        self._trim()
        return sum(b[1] for b in self._buckets), sum(b[2] for b in self._buckets)

    async def call(self, fn: Callable[..., Awaitable[T]], *args: object) -> T:
        trial = self._admit()
        try:
            result = await fn(*args)
        except self.exclude:
            self._ended(failed=False, trial=trial)
            raise
        except Exception:
            self._ended(failed=True, trial=trial)
            raise
        except BaseException:
            if trial:
                self._trial_running = False  # cancelled: the next call is the trial
            raise
        self._ended(failed=False, trial=trial)
        return result

    def _admit(self) -> bool:
        """Lets the call pass (True when it is the half-open trial) or raises BreakerOpen."""
        state = self.state
        if state is BreakerState.CLOSED:
            return False
        if state is BreakerState.HALF_OPEN and not self._trial_running:
            self._trial_running = True
            return True
        calls, failures = self._opened_with
        # half-open with its trial call running: ask to come back in a second
        raise BreakerOpen(self.name, max(self.retry_after_s, 1.0), calls, failures)

    def _ended(self, *, failed: bool, trial: bool) -> None:
        if trial:
            self._trial_running = False
            if failed:
                self._open("the trial call failed", 1, 1)
            else:
                self._buckets.clear()
                self._change(BreakerState.CLOSED, "the trial call succeeded")
            return
        if self._state is not BreakerState.CLOSED:
            return  # a call admitted before the breaker opened: its outcome no longer counts
        second = int(self._clock())
        if self._buckets and self._buckets[-1][0] == second:
            bucket = self._buckets[-1]
        else:
            bucket = [second, 0, 0]
            self._buckets.append(bucket)
        bucket[1] += 1
        bucket[2] += int(failed)
        if failed:
            calls, failures = self.window()
            if calls >= self.settings.min_calls and failures >= self.settings.failure_ratio * calls:
                self._open(f"{failures} of the last {calls} calls failed within {self.settings.window_s:g}s",
                           calls, failures)

    def _open(self, why: str, calls: int, failures: int) -> None:
        self._opened_at = self._clock()
        self._opened_with = (calls, failures)
        self._buckets.clear()
        self._change(BreakerState.OPEN, why)

    def _trim(self) -> None:
        oldest = self._clock() - self.settings.window_s
        while self._buckets and self._buckets[0][0] + 1 <= oldest:
            self._buckets.popleft()

    def _change(self, new: BreakerState, why: str) -> None:
        old, self._state = self._state, new
        if old is not new:
            for listener in self._listeners:
                listener(old, new, why)
