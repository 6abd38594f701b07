"""checkout-api HTTP application."""

from __future__ import annotations

import asyncio
import json
import logging
import time

from aiohttp import web
from prometheus_client import Counter
from servicekit.bulkhead import Bulkhead, BulkheadFull
from servicekit.config import Tunables
from servicekit.errors import json_error, read_json_object, require_amount, require_currency, require_str
from servicekit.kafka import BackgroundProducer, PublishFailure
from servicekit.logs import KAFKA_CORRELATION_HEADER, correlation_id
from servicekit.readiness import Readiness
from servicekit.service import make_app
from servicekit.tls import ClientTrust

from .catalog import Catalog
from .payment_client import Order, PaymentClient, PaymentFailure
from .settings import TUNABLE_DEFAULTS, ZERO_ALLOWED, Settings

log = logging.getLogger("checkout")

CHECKOUT_ORDERS = Counter("checkout_orders", "Checkout requests by outcome", ["outcome"])


class Checkout:
    def __init__(self, settings: Settings, tunables: Tunables) -> None:
        self.settings = settings
        self.tunables = tunables
        self.trust = ClientTrust(settings.ca_file)
        self.payments = PaymentClient(settings.payment_url, self.trust, settings.dns_server, tunables)
        self.catalog = Catalog(settings.catalog_url, self.trust, settings.dns_server, tunables)
        self.catalog_pool = Bulkhead("catalog", lambda: int(tunables["catalog_bulkhead_size"]))
        self.producer = BackgroundProducer(settings.kafka_bootstrap, settings.base.instance)

    async def on_startup(self, app: web.Application) -> None:
        await self.payments.start()
        await self.catalog.start()
        self.producer.start()
        if self.trust.watcher is not None:
            self.trust.watcher.start()

    async def on_cleanup(self, app: web.Application) -> None:
        if self.trust.watcher is not None:
            await self.trust.watcher.stop()
        await self.producer.stop()
        await self.catalog.close()
        await self.payments.close()

    def _fail(self, outcome: str, status: int, detail: str, retry_after: int | None = 1) -> web.Response:
        CHECKOUT_ORDERS.labels(outcome=outcome).inc()
        headers = {"Retry-After": str(retry_after)} if retry_after else None
        log.warning("checkout failed: %s", detail, extra={"reason": outcome, "status": status})
        return json_error(status, outcome, detail, headers)

    async def checkout(self, request: web.Request) -> web.Response:
        body = await read_json_object(request)
        order = Order(
            order_id=require_str(body, "order_id"),
            amount=require_amount(body),
            currency=require_currency(body),
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(self.tunables["total_budget_s"])
        try:
            payment, replayed = await self.payments.charge(order, deadline)
        except BulkheadFull as exc:
            return self._fail("bulkhead_full", 503, str(exc))
        except PaymentFailure as exc:
            return self._fail(exc.reason, exc.status, exc.detail, exc.retry_after)
        event = {
            **order.as_json(),
            "payment_id": payment["payment_id"],
            "ts": time.time(),
            "correlation_id": correlation_id(),
        }
        try:
            await self.producer.send(
                self.settings.orders_topic,
                key=order.order_id.encode(),
                value=json.dumps(event).encode(),
                headers=[(KAFKA_CORRELATION_HEADER, correlation_id().encode())],
                timeout=deadline - loop.time(),
            )
        except PublishFailure as exc:
            # payment is idempotent on order_id, so the client may simply retry the whole checkout
            return self._fail("publish_failed", 503, str(exc))
        CHECKOUT_ORDERS.labels(outcome="paid").inc()
        log.info("order paid", extra={"order_id": order.order_id, "payment_id": payment["payment_id"]})
        return web.json_response(
            {
                **order.as_json(),
                "status": "paid",
                "payment_id": payment["payment_id"],
                "payment_replayed": replayed,
                "instance": self.settings.base.instance,
            },
            status=201,
        )

    async def catalog_handler(self, request: web.Request) -> web.Response:
        try:
            async with self.catalog_pool.slot():
                return web.json_response(self.catalog.snapshot())
        except BulkheadFull as exc:
            return json_error(503, "bulkhead_full", str(exc), {"Retry-After": "1"})


def build_app(settings: Settings, tunables: Tunables | None = None) -> web.Application:
    tunables = tunables or Tunables(TUNABLE_DEFAULTS, settings.base.config_file, ZERO_ALLOWED)
    readiness = Readiness()
    checkout = Checkout(settings, tunables)
    readiness.add("kafka_producer", lambda: checkout.producer.ready)
    app = make_app(tunables, readiness)
    app.on_startup.append(checkout.on_startup)
    app.on_cleanup.append(checkout.on_cleanup)
    app.router.add_post("/api/checkout", checkout.checkout)
    app.router.add_get("/api/catalog", checkout.catalog_handler)
    return app
