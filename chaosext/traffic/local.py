"""Local-stack driver: the load goes to the stack's checkout frontend (HAProxy)."""

from __future__ import annotations

from typing import Any

from chaosext.stack.config import load_config
from chaosext.target import setting

__all__ = ["base_url"]


def base_url(configuration: dict[str, Any] | None) -> str:
    url = setting(configuration, "checkout_url")
    return str(url or load_config().endpoints()["checkout"]).rstrip("/")
