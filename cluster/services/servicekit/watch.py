"""Polling file watcher: calls back when any watched file's (mtime, size, inode) changes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Sequence

log = logging.getLogger("watch")

Stamp = tuple[int, int, int] | None


def file_stamp(path: str) -> Stamp:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class FileWatcher:
    """Polls `paths` every `interval` seconds; `on_change()` returns True once the change is taken.

    If the callback returns False (e.g. a certificate and key caught half-written), the old stamp is
    kept so the next poll tries again.
    """

    def __init__(self, paths: Sequence[str], on_change: Callable[[], bool], interval: float = 1.0) -> None:
        self.paths = list(paths)
        self.on_change = on_change
        self.interval = interval
        self._stamps = [file_stamp(p) for p in self.paths]
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="file-watcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def mark_current(self) -> None:
        self._stamps = [file_stamp(p) for p in self.paths]

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            stamps = [file_stamp(p) for p in self.paths]
            if stamps == self._stamps:
                continue
            try:
                taken = self.on_change()
            except Exception:
                log.exception("reload callback failed for %s", self.paths)
                taken = False
            if taken:
                self._stamps = stamps
