"""/healthz and /readyz: readiness is the conjunction of named checks."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

log = logging.getLogger("readiness")

Check = Callable[[], bool | Awaitable[bool]]


class Readiness:
    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}

    def add(self, name: str, check: Check) -> None:
        self._checks[name] = check

    async def evaluate(self) -> dict[str, bool]:
        results: dict[str, bool] = {}
        for name, check in self._checks.items():
            try:
                outcome = check()
                if inspect.isawaitable(outcome):
                    outcome = await outcome
                results[name] = bool(outcome)
            except Exception as exc:
                log.warning("readiness check %s failed: %s", name, exc)
                results[name] = False
        return results

    async def readyz(self, request: web.Request) -> web.Response:
        checks = await self.evaluate()
        ready = all(checks.values())
        return web.json_response({"ready": ready, "checks": checks}, status=200 if ready else 503)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})
