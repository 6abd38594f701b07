"""The product catalog: served from memory; optionally refreshed from CATALOG_URL on its own connector.

When the refresh fails the last good copy is served, flagged stale (stale-but-safe)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import aiohttp
from servicekit.config import Tunables
from servicekit.dependency import DEP_DURATION, DEP_REQUESTS, classify_error
from servicekit.dns import fresh_connector
from servicekit.tls import ClientTrust

log = logging.getLogger("catalog")

BUILTIN_ITEMS: list[dict[str, Any]] = [
    {"sku": "book-001", "name": "Release It!", "price": 39.5, "currency": "EUR"},
    {"sku": "book-002", "name": "Site Reliability Engineering", "price": 45.0, "currency": "EUR"},
    {"sku": "mug-001", "name": "Chaos mug", "price": 12.0, "currency": "EUR"},
    {"sku": "tee-001", "name": "Blast radius t-shirt", "price": 25.0, "currency": "EUR"},
]


class Catalog:
    def __init__(self, url: str | None, trust: ClientTrust, dns_server: tuple[str, int] | None,
                 tunables: Tunables) -> None:
        self.url = url
        self.trust = trust
        self.dns_server = dns_server
        self.tunables = tunables
        self.items: list[dict[str, Any]] = list(BUILTIN_ITEMS)
        self.source = "builtin"
        self.fetched_at = time.time()
        self.stale = False
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None

    def snapshot(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "source": self.source,
            "stale": self.stale,
            "age_s": round(time.time() - self.fetched_at, 3),
        }

    async def start(self) -> None:
        if self.url is None:
            return
        self._session = aiohttp.ClientSession(connector=fresh_connector(self.dns_server, limit=4))
        self._task = asyncio.get_running_loop().create_task(self._refresh_loop(), name="catalog-refresh")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()

    async def _refresh_loop(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(float(self.tunables["catalog_refresh_s"]))

    async def refresh(self) -> None:
        assert self._session is not None and self.url is not None
        started = time.perf_counter()
        outcome = "ok"
        try:
            async with self._session.get(
                self.url, ssl=self.trust.context, timeout=aiohttp.ClientTimeout(total=2.0)
            ) as resp:
                resp.raise_for_status()
                body = await resp.json(content_type=None)
            items = body.get("items") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise ValueError("catalog answer has no 'items' list")
            self.items, self.source, self.fetched_at, self.stale = items, "upstream", time.time(), False
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            outcome = classify_error(exc)
            self.stale = True
            log.warning("catalog refresh failed, serving the last good copy: %s", exc)
        finally:
            DEP_REQUESTS.labels(dependency="catalog", outcome=outcome).inc()
            DEP_DURATION.labels(dependency="catalog").observe(time.perf_counter() - started)
