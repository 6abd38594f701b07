"""Create the stack's Toxiproxy proxies (``payment``, ``capture``) through Toxiproxy's HTTP API."""

from __future__ import annotations

import requests

from chaosext.errors import ComponentError
from chaosext.stack.config import StackConfig
from chaosext.stack.render import toxiproxy_proxies

__all__ = ["ensure_proxies"]


def ensure_proxies(config: StackConfig) -> list[str]:
    """Create or fix the proxies that are missing or differ; returns the names it changed.

    Existing proxies with the right addresses are left alone, toxics included (a running
    experiment's toxics are not the stack's business).
    """
    api = config.url(config.ports.toxiproxy_api)
    try:
        current = requests.get(f"{api}/proxies", timeout=5).json()
        wanted = [
            p
            for p in toxiproxy_proxies(config)
            if p["name"] not in current
            or current[str(p["name"])]["listen"] != p["listen"]
            or current[str(p["name"])]["upstream"] != p["upstream"]
        ]
        if not wanted:
            return []
        resp = requests.post(f"{api}/populate", json=wanted, timeout=5)
    except (requests.RequestException, ValueError) as exc:
        raise ComponentError(f"toxiproxy: the API at {api} did not answer: {exc}") from None
    if resp.status_code not in (200, 201):
        raise ComponentError(f"toxiproxy: POST {api}/populate -> {resp.status_code}: {resp.text.strip()}")
    return [str(p["name"]) for p in wanted]
