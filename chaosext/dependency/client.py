"""A small Toxiproxy API client with timeouts and clear errors.

chaostoolkit-toxiproxy's own client is not reused for calls because it sends requests without a
timeout and turns HTTP errors into ``None`` (then a TypeError); its configuration keys
(``toxiproxy_url``, or ``toxiproxy_host`` + ``toxiproxy_port``) are honoured. Calls go over
this thread's keep-alive session for the URL (``chaosext.common.http``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from chaoslib.exceptions import ActivityFailed

from chaosext.common import http
from chaosext.errors import ToolUnreachable
from chaosext.faults.engine import NothingChanged
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
        from chaosext.stack.config import default_url

        return default_url("toxiproxy_api")
    except Exception:
        return DEFAULT_URL


def _segment(name: str) -> str:
    """``name`` as one path segment: a ``?``, ``#`` or ``/`` in it cannot reach another route."""
    return quote(name, safe="")


class ToxiproxyClient:
    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _send(self, method: str, path: str, json: Any = None, follow: bool = True) -> http.Answer:
        try:
            return http.call(self.url, method, path, json, timeout=self.timeout, follow=follow)
        except http.Failed as exc:
            error = ToolUnreachable(f"Toxiproxy at {self.url} is unreachable: {exc}")
            raise (error if exc.sent else NothingChanged(error)) from None

    def _call(self, method: str, path: str, json: Any = None, ok: tuple[int, ...] = (200, 201, 204)) -> Any:
        try:
            resp = self._send(method, path, json)
        except NothingChanged as unsent:
            raise unsent.error from None
        return self._answer(method, path, resp, ok)

    @staticmethod
    def _answer(method: str, path: str, resp: http.Answer, ok: tuple[int, ...] = (200, 201, 204)) -> Any:
        if resp.status_code not in ok:
            raise ActivityFailed(f"Toxiproxy {method} {path} answered {resp.status_code}: {resp.text.strip()}")
        return resp.json() if resp.content else None

    def _change(self, proxy: str, method: str, path: str, json: Any) -> dict[str, Any]:
        """A fault's one request changing ``proxy``, without asking first whether it exists.
        Raises :class:`NothingChanged` when Toxiproxy certainly changed nothing: it was not
        reached, or it refused the request (4xx; the usual 404 means no such proxy, and the
        error then names the argument and the known proxies). A redirect is not followed (a
        name such as ``a/../b`` is cleaned into another proxy's path) and changed nothing either."""
        resp = self._send(method, path, json, follow=False)
        if 300 <= resp.status_code < 500:
            raise NothingChanged(self._refused(proxy, method, path, resp))
        result: dict[str, Any] = self._answer(method, path, resp)
        return result

    def _refused(self, proxy: str, method: str, path: str, resp: http.Answer) -> Exception:
        """The error for a change Toxiproxy refused: the proxy does not exist (the usual case),
        else Toxiproxy's own answer."""
        try:
            self.proxy(proxy)
        except ActivityFailed as exc:
            return exc
        return ActivityFailed(f"Toxiproxy {method} {path} answered {resp.status_code}: {resp.text.strip()}")

    def proxy(self, name: str) -> dict[str, Any]:
        proxies: dict[str, Any] = self._call("GET", "/proxies")
        if name not in proxies:
            raise ActivityFailed(
                f"'proxy' {name!r} does not exist on Toxiproxy {self.url} (known: {', '.join(sorted(proxies))})"
            )
        result: dict[str, Any] = proxies[name]
        return result

    def add_toxic(self, proxy: str, name: str, toxic: dict[str, Any]) -> dict[str, Any]:
        """Add a toxic to ``proxy``; :class:`NothingChanged` when the proxy does not exist or
        Toxiproxy was not reached."""
        return self._change(proxy, "POST", f"/proxies/{_segment(proxy)}/toxics", {"name": name, **toxic})

    def disable(self, proxy: str) -> dict[str, Any]:
        """Refuse connections on ``proxy``; :class:`NothingChanged` when it does not exist or
        Toxiproxy was not reached."""
        return self._change(proxy, "POST", f"/proxies/{_segment(proxy)}", {"enabled": False})

    def remove_toxic(self, proxy: str, name: str) -> bool:
        self._call("DELETE", f"/proxies/{proxy}/toxics/{name}", ok=(200, 204, 404))
        return True

    def set_enabled(self, proxy: str, enabled: bool) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"/proxies/{proxy}", json={"enabled": enabled})
        return result
