"""Common service skeleton: base settings from the environment, the app with standard routes, the runner."""

from __future__ import annotations

import logging
import os
import socket
import ssl
import sys
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from .config import Tunables
from .env import env_int, env_str
from .logs import setup_logging
from .metrics import metrics_handler
from .middleware import observe
from .readiness import Readiness, healthz

log = logging.getLogger("service")

TUNABLES_KEY = web.AppKey("tunables", Tunables)
READINESS_KEY = web.AppKey("readiness", Readiness)


@dataclass(frozen=True)
class BaseSettings:
    service: str
    instance: str
    host: str
    port: int
    log_level: str
    config_file: str | None


def base_settings(service: str, default_port: int) -> BaseSettings:
    name = env_str("SERVICE_NAME", service)
    port = env_int("PORT", default_port, minimum=1)
    return BaseSettings(
        service=name,
        instance=env_str("INSTANCE", f"{socket.gethostname()}:{port}"),
        host=env_str("HOST", "127.0.0.1"),
        port=port,
        log_level=env_str("LOG_LEVEL", "INFO"),
        config_file=os.environ.get("CONFIG_FILE", "").strip() or None,
    )


def make_app(tunables: Tunables, readiness: Readiness) -> web.Application:
    app = web.Application(middlewares=[observe], client_max_size=1024 * 1024)
    app[TUNABLES_KEY] = tunables
    app[READINESS_KEY] = readiness
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readiness.readyz)
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/admin/config", tunables.handler)

    async def start_tunables(_: web.Application) -> None:
        await tunables.start()

    async def stop_tunables(_: web.Application) -> None:
        await tunables.stop()

    app.on_startup.append(start_tunables)
    app.on_cleanup.append(stop_tunables)
    return app


def run(settings: BaseSettings, app: web.Application, ssl_context: ssl.SSLContext | None = None) -> None:
    scheme = "https" if ssl_context else "http"
    log.info("listening on %s://%s:%d", scheme, settings.host, settings.port)
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        ssl_context=ssl_context,
        print=None,
        access_log=None,
        shutdown_timeout=5.0,
        handle_signals=True,
    )


def main_guard(service: str, body: Callable[[], None]) -> None:
    """Run `body`; configuration errors become one clear line on stderr and exit code 2."""
    try:
        body()
    except (ValueError, OSError) as exc:
        if not logging.getLogger().handlers:
            setup_logging(service, "-", "INFO")
        log.error("%s cannot start: %s", service, exc)
        print(f"{service}: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)
