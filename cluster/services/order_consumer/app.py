"""order-consumer HTTP side (/healthz /readyz /metrics /processed /admin/config) and wiring."""

from __future__ import annotations

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError
from servicekit.config import Tunables
from servicekit.errors import ApiError
from servicekit.kafka import BackgroundProducer
from servicekit.readiness import Readiness
from servicekit.service import make_app
from servicekit.tls import ClientTrust

from .capture import CaptureClient
from .consumer import OrderConsumer
from .processed import ProcessedStore
from .settings import TUNABLE_DEFAULTS, Settings


class ConsumerService:
    def __init__(self, settings: Settings, tunables: Tunables) -> None:
        self.redis = Redis.from_url(
            settings.redis_url, socket_timeout=2.0, socket_connect_timeout=2.0, health_check_interval=10
        )
        self.store = ProcessedStore(self.redis, settings.group_id)
        self.trust = ClientTrust(settings.ca_file)
        self.capture = CaptureClient(settings.capture_url, self.trust, settings.dns_server, tunables)
        self.dlq_producer = BackgroundProducer(settings.kafka_bootstrap, f"{settings.base.instance}-dlq")
        self.consumer = OrderConsumer(settings, tunables, self.store, self.capture, self.dlq_producer)

    async def on_startup(self, app: web.Application) -> None:
        await self.capture.start()
        if self.trust.watcher is not None:
            self.trust.watcher.start()
        self.dlq_producer.start()
        self.consumer.start()

    async def on_cleanup(self, app: web.Application) -> None:
        await self.consumer.stop()
        await self.dlq_producer.stop()
        if self.trust.watcher is not None:
            await self.trust.watcher.stop()
        await self.capture.close()
        await self.redis.aclose()

    async def processed(self, request: web.Request) -> web.Response:
        try:
            orders = await self.store.summary()
        except (RedisError, OSError) as exc:
            raise ApiError(503, "store_unavailable", f"the processed-order store (Redis) is unavailable: {exc}",
                           {"Retry-After": "1"}) from None
        return web.json_response({
            "processed": len(orders),
            "orders": orders,
            "processed_more_than_once": sorted(k for k, v in orders.items() if v > 1),
        })


def build_app(settings: Settings, tunables: Tunables | None = None) -> web.Application:
    tunables = tunables or Tunables(TUNABLE_DEFAULTS, settings.base.config_file)
    service = ConsumerService(settings, tunables)
    readiness = Readiness()
    readiness.add("consumer_group_joined", lambda: service.consumer.joined)
    app = make_app(tunables, readiness)
    app.on_startup.append(service.on_startup)
    app.on_cleanup.append(service.on_cleanup)
    app.router.add_get("/processed", service.processed)
    return app
