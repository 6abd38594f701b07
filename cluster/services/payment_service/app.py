"""payment-service HTTP application: /charge, /capture, /ledger, /captures."""

from __future__ import annotations

import logging
import random
import uuid
from typing import Any

from aiohttp import web
from prometheus_client import Counter
from redis.asyncio import Redis
from redis.exceptions import RedisError
from servicekit.config import Tunables
from servicekit.errors import (
    ApiError,
    bad_request,
    read_json_object,
    require_amount,
    require_currency,
    require_str,
)
from servicekit.readiness import Readiness
from servicekit.service import make_app

from .ledger import Ledger
from .settings import TUNABLE_DEFAULTS, Settings

log = logging.getLogger("payment")

CHARGES = Counter("payment_charges", "Charge requests by result", ["result"])
CAPTURES = Counter("payment_captures", "Capture requests by result", ["result"])


def _idempotency_key(request: web.Request) -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        raise bad_request("header 'Idempotency-Key' is required", "missing_idempotency_key")
    if len(key) > 128 or not key.isprintable():
        raise bad_request("header 'Idempotency-Key' must be at most 128 printable characters")
    return key


class Payments:
    def __init__(self, settings: Settings, tunables: Tunables) -> None:
        self.settings = settings
        self.tunables = tunables
        self.redis = Redis.from_url(
            settings.redis_url, socket_timeout=2.0, socket_connect_timeout=2.0, health_check_interval=10
        )
        self.charges = Ledger(self.redis, "charge")
        self.captures = Ledger(self.redis, "capture")

    async def close(self, app: web.Application) -> None:
        await self.redis.aclose()

    async def redis_ready(self) -> bool:
        return bool(await self.redis.ping())

    async def _record(
        self, ledger: Ledger, metric: Counter, request: web.Request, id_field: str, prefix: str, verb: str
    ) -> web.Response:
        key = _idempotency_key(request)
        body = await read_json_object(request)
        req: dict[str, Any] = {
            "order_id": require_str(body, "order_id"),
            "amount": require_amount(body),
            "currency": require_currency(body),
        }
        if verb == "captured" and "payment_id" in body:
            req["payment_id"] = require_str(body, "payment_id")
        response = {
            **req,
            id_field: f"{prefix}_{uuid.uuid4().hex}",
            "status": verb,
            "idempotency_key": key,
            "instance": self.settings.base.instance,
        }
        try:
            outcome = await ledger.record_once(key, req, response)
        except (RedisError, OSError) as exc:
            metric.labels(result="error").inc()
            raise ApiError(503, "ledger_unavailable", f"the ledger (Redis) is unavailable: {exc}",
                           {"Retry-After": "1"}) from None
        if outcome.conflict:
            metric.labels(result="conflict").inc()
            raise ApiError(409, "idempotency_conflict",
                           f"Idempotency-Key {key!r} was already used with a different request body")
        if outcome.created:
            metric.labels(result=verb).inc()
            log.info("%s", verb, extra={"idempotency_key": key, "order_id": req["order_id"]})
            return web.json_response(outcome.response, status=201)
        metric.labels(result="replayed").inc()
        log.info("replayed", extra={"idempotency_key": key, "order_id": req["order_id"]})
        return web.json_response(outcome.response, status=200, headers={"Idempotent-Replayed": "true"})

    async def charge(self, request: web.Request) -> web.Response:
        ratio = float(self.tunables["unavailable_ratio"])
        if ratio > 0 and random.random() < ratio:
            CHARGES.labels(result="unavailable").inc()
            return web.json_response(
                {"error": "payment_unavailable", "detail": "payment is temporarily unavailable (unavailable_ratio)"},
                status=503, headers={"Retry-After": "1"},
            )
        return await self._record(self.charges, CHARGES, request, "payment_id", "pay", "charged")

    async def capture(self, request: web.Request) -> web.Response:
        return await self._record(self.captures, CAPTURES, request, "capture_id", "cap", "captured")

    async def _summary(self, ledger: Ledger, name: str) -> web.Response:
        counts = await self._counts(ledger)
        return web.json_response({
            name: counts,
            f"total_{name}": sum(counts.values()),
            f"double_{name}": sum(1 for c in counts.values() if c > 1),
        })

    async def _counts(self, ledger: Ledger) -> dict[str, int]:
        try:
            return await ledger.counts()
        except (RedisError, OSError) as exc:
            raise ApiError(503, "ledger_unavailable", f"the ledger (Redis) is unavailable: {exc}") from None

    async def ledger(self, request: web.Request) -> web.Response:
        return await self._summary(self.charges, "charges")

    async def captures_summary(self, request: web.Request) -> web.Response:
        return await self._summary(self.captures, "captures")

    async def _one(self, ledger: Ledger, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        try:
            count, record = await ledger.count(key)
        except (RedisError, OSError) as exc:
            raise ApiError(503, "ledger_unavailable", f"the ledger (Redis) is unavailable: {exc}") from None
        if record is None:
            raise ApiError(404, "not_found", f"no {ledger.kind} under key {key!r}")
        return web.json_response({"key": key, "count": count, "response": record["response"]})

    async def ledger_one(self, request: web.Request) -> web.Response:
        return await self._one(self.charges, request)

    async def capture_one(self, request: web.Request) -> web.Response:
        return await self._one(self.captures, request)


def build_app(settings: Settings, tunables: Tunables | None = None) -> web.Application:
    tunables = tunables or Tunables(TUNABLE_DEFAULTS, settings.base.config_file)
    payments = Payments(settings, tunables)
    readiness = Readiness()
    readiness.add("redis", payments.redis_ready)
    if settings.ready_fail:
        readiness.add("ready_fail_unset", lambda: False)
    app = make_app(tunables, readiness)
    app.on_cleanup.append(payments.close)
    app.router.add_post("/charge", payments.charge)
    app.router.add_post("/capture", payments.capture)
    app.router.add_get("/ledger", payments.ledger)
    app.router.add_get("/ledger/{key}", payments.ledger_one)
    app.router.add_get("/captures", payments.captures_summary)
    app.router.add_get("/captures/{key}", payments.capture_one)
    return app
