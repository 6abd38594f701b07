"""Tunables: defaults overridden by a JSON file (CONFIG_FILE), hot-reloaded on SIGHUP and on mtime change."""

from __future__ import annotations

import json
import logging
import math
import os
import signal
from asyncio import get_running_loop
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web
from prometheus_client import Counter, Gauge

from .watch import FileWatcher

log = logging.getLogger("config")

CONFIG_RELOADS = Counter("config_reloads", "Config file reloads by result", ["result"])
CONFIG_VALUE = Gauge("config_value", "Effective value of each tunable", ["name"])

Number = int | float


class ConfigError(ValueError):
    """The config file is not usable; the previous values stay in force."""


class Tunables:
    """Effective tunables. Read them at use time (`tunables["name"]`) so a reload applies to the next call."""

    def __init__(self, defaults: Mapping[str, Number], path: str | None,
                 zero_allowed: frozenset[str] = frozenset()) -> None:
        self.defaults = dict(defaults)
        # keys that may be 0 (a switch such as hedge_after_s), besides those whose default is 0
        self.zero_allowed = zero_allowed | {k for k, v in defaults.items() if v == 0}
        self.path = path
        self._values: dict[str, Number] = dict(defaults)
        self._ignored: list[str] = []
        self._listeners: list[Callable[[Tunables], None]] = []
        self._watcher: FileWatcher | None = None
        self.last_error: str | None = None
        self._export()
        if path is not None:
            # a missing file means defaults; a bad file is reported and the defaults apply until it is fixed
            self.reload("start-up")

    def __getitem__(self, name: str) -> Number:
        return self._values[name]

    def snapshot(self) -> dict[str, Any]:
        return {
            "values": dict(self._values),
            "defaults": dict(self.defaults),
            "config_file": self.path,
            "ignored_keys": list(self._ignored),
            "last_error": self.last_error,
        }

    def on_reload(self, listener: Callable[[Tunables], None]) -> None:
        self._listeners.append(listener)

    def _parse(self, path: str) -> tuple[dict[str, Number], list[str]]:
        if not os.path.exists(path):
            return dict(self.defaults), []
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except OSError as exc:
            raise ConfigError(f"CONFIG_FILE {path!r} cannot be read: {exc}") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"CONFIG_FILE {path!r} is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"CONFIG_FILE {path!r} must hold a JSON object")
        values = dict(self.defaults)
        ignored: list[str] = []
        for key, raw in data.items():
            if key not in self.defaults:
                ignored.append(key)
                continue
            default = self.defaults[key]
            zero_ok = key in self.zero_allowed
            if (isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw)
                    or not (raw >= 0 if zero_ok else raw > 0)):
                raise ConfigError(f"CONFIG_FILE key {key!r} must be a number {'>= 0' if zero_ok else '> 0'}, "
                                  f"got {raw!r}")
            if isinstance(default, int):
                if float(raw) != int(raw):
                    raise ConfigError(f"CONFIG_FILE key {key!r} must be an integer, got {raw!r}")
                values[key] = int(raw)
            else:
                values[key] = float(raw)
        return values, ignored

    def reload(self, reason: str) -> bool:
        if self.path is None:
            return True
        try:
            values, ignored = self._parse(self.path)
        except ConfigError as exc:
            self.last_error = str(exc)
            CONFIG_RELOADS.labels(result="error").inc()
            log.error("config reload (%s) rejected, keeping previous values: %s", reason, exc)
            return True  # the file was looked at; wait for the next change
        changed = {k: v for k, v in values.items() if self._values.get(k) != v}
        self._values, self._ignored, self.last_error = values, ignored, None
        self._export()
        CONFIG_RELOADS.labels(result="success").inc()
        log.info("config reloaded (%s)", reason, extra={"changed": changed, "ignored_keys": ignored})
        for listener in self._listeners:
            listener(self)
        return True

    def _export(self) -> None:
        for key, value in self._values.items():
            CONFIG_VALUE.labels(name=key).set(value)

    async def start(self) -> None:
        if self.path is None:
            return
        get_running_loop().add_signal_handler(signal.SIGHUP, self.reload, "sighup")
        self._watcher = FileWatcher([self.path], lambda: self.reload("file changed"))
        self._watcher.start()

    async def stop(self) -> None:
        if self._watcher is not None:
            await self._watcher.stop()

    async def handler(self, request: web.Request) -> web.Response:
        return web.json_response(self.snapshot())
