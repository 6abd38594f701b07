"""A bulkhead: at most `limit` concurrent users of a pool; when full, callers are refused at once."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from prometheus_client import Gauge

BULKHEAD_IN_USE = Gauge("bulkhead_in_use", "Slots in use per bulkhead pool", ["pool"])
BULKHEAD_LIMIT = Gauge("bulkhead_limit", "Slots per bulkhead pool", ["pool"])


class BulkheadFull(Exception):
    def __init__(self, pool: str, limit: int) -> None:
        super().__init__(f"bulkhead '{pool}' is full ({limit} in use)")
        self.pool = pool
        self.limit = limit


class Bulkhead:
    """Non-blocking: the limit is read at each acquire, so a config reload changes it live."""

    def __init__(self, pool: str, limit: Callable[[], int]) -> None:
        self.pool = pool
        self._limit = limit
        self.in_use = 0
        self._gauge = BULKHEAD_IN_USE.labels(pool=pool)
        self._gauge.set(0)
        BULKHEAD_LIMIT.labels(pool=pool).set_function(lambda: float(self._limit()))

    def slot(self) -> _Slot:
        return _Slot(self)

    def _acquire(self) -> None:
        limit = self._limit()
        if self.in_use >= limit:
            raise BulkheadFull(self.pool, limit)
        self.in_use += 1
        self._gauge.set(self.in_use)

    def _release(self) -> None:
        self.in_use -= 1
        self._gauge.set(self.in_use)


class _Slot:
    def __init__(self, bulkhead: Bulkhead) -> None:
        self._bulkhead = bulkhead

    async def __aenter__(self) -> None:
        self._bulkhead._acquire()

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._bulkhead._release()
