"""A background thread that evaluates abort criteria every interval and calls back once when one fires."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from chaosext.controls.criteria import BreachTracker, Criterion

__all__ = ["AbortWatcher"]

logger = logging.getLogger("chaostoolkit")

OnBreach = Callable[[BreachTracker, dict[str, Any]], None]


class AbortWatcher:
    def __init__(
        self,
        criteria: list[Criterion],
        configuration: dict[str, Any] | None,
        interval_s: float,
        on_breach: OnBreach,
    ) -> None:
        self.trackers = [BreachTracker(c) for c in criteria]
        self.configuration = configuration
        self.interval_s = interval_s
        self.on_breach = on_breach
        self.evaluations = 0
        self.fired: BreachTracker | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="chaosext-abort-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def figures(self) -> dict[str, Any]:
        """The latest figure of every criterion (what the journal records)."""
        return {
            t.criterion.name: {"value": t.last_value, "breach_since": t.since, "error": t.last_error}
            for t in self.trackers
        }

    def _check(self, tracker: BreachTracker) -> bool:
        now = time.time()
        try:
            value = tracker.criterion.evaluate(self.configuration)
        except Exception as exc:  # a failing probe must not kill the watcher
            tracker.failed(str(exc), now)
            logger.debug("abort criterion %s could not be evaluated: %s", tracker.criterion.name, exc)
            return False
        return tracker.update(value, now)

    def _loop(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            for tracker in self.trackers:
                if self._stop.is_set():
                    return
                if self._check(tracker):
                    self.fired = tracker
                    self.on_breach(tracker, self.figures())
                    return
            self.evaluations += 1
            next_at += self.interval_s
            self._stop.wait(max(0.0, next_at - time.monotonic()))
