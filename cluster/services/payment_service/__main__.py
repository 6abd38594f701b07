"""Entry point: `PYTHONPATH=cluster/services python -m payment_service`."""

from __future__ import annotations

import logging

from aiohttp import web
from servicekit.logs import setup_logging
from servicekit.service import main_guard, run
from servicekit.tls import ServerTls

from .app import build_app
from .settings import SERVICE, load_settings

log = logging.getLogger("payment")


def main() -> None:
    settings = load_settings()
    setup_logging(settings.base.service, settings.base.instance, settings.base.log_level)
    app = build_app(settings)
    tls: ServerTls | None = None
    if settings.tls_cert_file and settings.tls_key_file:
        tls = ServerTls(settings.tls_cert_file, settings.tls_key_file)
        watcher = tls.watcher

        async def watch(_: web.Application) -> None:
            watcher.start()

        async def unwatch(_: web.Application) -> None:
            await watcher.stop()

        app.on_startup.append(watch)
        app.on_cleanup.append(unwatch)
    else:
        log.warning("TLS_CERT_FILE/TLS_KEY_FILE unset: serving plain HTTP")
    run(settings.base, app, tls.context if tls else None)


if __name__ == "__main__":
    main_guard(SERVICE, main)
