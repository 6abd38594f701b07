"""Entry point: `PYTHONPATH=cluster/services python -m checkout_api`."""

from __future__ import annotations

from servicekit.logs import setup_logging
from servicekit.service import main_guard, run

from .app import build_app
from .settings import SERVICE, load_settings


def main() -> None:
    settings = load_settings()
    setup_logging(settings.base.service, settings.base.instance, settings.base.log_level)
    run(settings.base, build_app(settings))


if __name__ == "__main__":
    main_guard(SERVICE, main)
