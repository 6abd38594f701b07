"""A small Toxiproxy API client with timeouts and clear errors.

chaostoolkit-toxiproxy's own client is not reused for calls because it sends requests without a
timeout and turns HTTP errors into ``None`` (then a TypeError); its configuration keys
(``toxiproxy_url``, or ``toxiproxy_host`` + ``toxiproxy_port``) are honoured.
"""

from __future__ import annotations

from typing import Any

import requests
from chaoslib.exceptions import ActivityFailed

from chaosext.errors import ToolUnreachable
from chaosext.target import setting

__all__ = ["ToxiproxyClient", "toxiproxy_url"]

DEFAULT_URL = "http://127.0.0.1:8474"


def toxiproxy_url(configuration: dict[str, Any] | None) -> str:
    url = setting(configuration, "toxiproxy_url")
    if url:
        return str(url).rstrip("/")
    host = setting(configuration, "toxiproxy_host")
    if host:
        return f"http://{host}:{setting(configuration, 'toxiproxy_port', 8474)}"
    try:
        from chaosext.stack.config import load_config

        return str(load_config().endpoints()["toxiproxy"]).rstrip("/")
    except Exception:
        return DEFAULT_URL


class ToxiproxyClient:
    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, json: Any = None, ok: tuple[int, ...] = (200, 201, 204)) -> Any:
        try:
            resp = requests.request(method, f"{self.url}{path}", json=json, timeout=self.timeout)
        except requests.RequestException as exc:
            raise ToolUnreachable(f"Toxiproxy at {self.url} is unreachable: {exc}") from None
        if resp.status_code not in ok:
            raise ActivityFailed(f"Toxiproxy {method} {path} answered {resp.status_code}: {resp.text.strip()}")
        return resp.json() if resp.content else None

    def proxy(self, name: str) -> dict[str, Any]:
        proxies: dict[str, Any] = self._call("GET", "/proxies")
        if name not in proxies:
            raise ActivityFailed(
                f"'proxy' {name!r} does not exist on Toxiproxy {self.url} (known: {', '.join(sorted(proxies))})"
            )
        result: dict[str, Any] = proxies[name]
        return result

    def add_toxic(self, proxy: str, name: str, toxic: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"/proxies/{proxy}/toxics", json={"name": name, **toxic})
        return result

    def remove_toxic(self, proxy: str, name: str) -> bool:
        self._call("DELETE", f"/proxies/{proxy}/toxics/{name}", ok=(200, 204, 404))
        return True

    def set_enabled(self, proxy: str, enabled: bool) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"/proxies/{proxy}", json={"enabled": enabled})
        return result
