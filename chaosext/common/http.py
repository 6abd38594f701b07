"""Requests to the control APIs a fault drives (Toxiproxy, the stack DNS server) over connections
kept open between activities, telling a request that never reached the server from one that may
have.

A fault's change is one request; opening a new connection for each one costs as much as the
request itself, so each thread keeps one connection per server (per thread because neither a
``requests.Session`` nor a urllib3 connection is meant to be shared across threads, and Chaos
Toolkit runs background activities in threads). A plain-HTTP request that does not follow
redirects, with no proxy in the environment, goes straight through urllib3: requests' own
layers (preparing, hooks, cookies, the environment) cost more processor time than the request
itself. Anything else goes through requests, with its handling of proxies, CA bundles and
redirects. (requests would also send credentials from ``~/.netrc``; these control APIs take
none.)
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
import urllib3
from urllib3.exceptions import ConnectTimeoutError, ProxyError
from urllib3.util import Retry

if TYPE_CHECKING:
    from requests.sessions import _Settings

__all__ = ["Answer", "Failed", "call", "never_sent", "session"]

_local = threading.local()
_CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "REQUEST_METHOD")
_HTTP_PROXIES = ("http_proxy", "all_proxy")
_NO_RETRY = Retry(0, read=False)  # requests' own default: fail at once, never send a request twice


def _environment() -> tuple[tuple[str, str], ...]:
    """The environment variables a request's proxies and CA bundle come from: every ``*_proxy``
    (any case, ``no_proxy`` too), the CA bundles, and ``REQUEST_METHOD`` (under CGI,
    ``HTTP_PROXY`` is ignored)."""
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.lower().endswith("_proxy") or k in _CA_VARIABLES))


class _Session(requests.Session):
    """A session that works out the environment's proxy and CA settings once for each value of
    them and each server, instead of at every request (requests reads the whole environment
    several times per call). Their meaning is requests' own: its result is what is kept."""

    def __init__(self) -> None:
        super().__init__()
        self._settings: dict[tuple[Any, ...], _Settings] = {}

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
                                   ) -> _Settings:
        parts = urlsplit(str(url))
        given = tuple(sorted(proxies.items())) if proxies else None
        key = (parts.scheme, parts.netloc, given, stream, verify, cert, _environment())
        settings = self._settings.get(key)
        if settings is None:
            settings = self._settings[key] = super().merge_environment_settings(url, proxies, stream, verify, cert)
        return {**settings, "proxies": dict(settings["proxies"])}


def _mine() -> dict[tuple[str, str], Any]:
    """This thread's sessions and pools, by kind and base URL."""
    kept: dict[tuple[str, str], Any] | None = getattr(_local, "kept", None)
    if kept is None:
        kept = _local.kept = {}
    return kept


def session(base_url: str) -> requests.Session:
    """This thread's requests session for ``base_url`` (created on first use)."""
    kept = _mine()
    found: requests.Session | None = kept.get(("session", base_url))
    if found is None:
        found = kept[("session", base_url)] = _Session()
    return found


def _pool(base_url: str) -> urllib3.HTTPConnectionPool:
    kept = _mine()
    found: urllib3.HTTPConnectionPool | None = kept.get(("pool", base_url))
    if found is None:
        parts = urlsplit(base_url)
        found = kept[("pool", base_url)] = urllib3.HTTPConnectionPool(parts.hostname or "", parts.port or 80, maxsize=1)
    return found


def _direct(base_url: str) -> bool:
    """Whether a request to ``base_url`` may skip requests: plain HTTP, and no proxy for it in
    the environment (requests would send it through one)."""
    return base_url.startswith("http://") and not any(k.lower() in _HTTP_PROXIES for k in os.environ)


@dataclass(frozen=True)
class Answer:
    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


class Failed(Exception):
    """The request failed (the message is requests' own); ``sent``: it may have reached the server."""

    def __init__(self, message: str, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


def never_sent(exc: Exception) -> bool:
    """Whether a failed request never reached the server: the connection to it, or to the proxy
    in between, was refused or could not be opened in time. Any other failure (a reset or a
    timeout while waiting for the answer) may come after the server acted on it."""
    inner = exc.args[0] if isinstance(exc, requests.RequestException) and exc.args else exc
    reason = getattr(inner, "reason", inner)
    if isinstance(reason, ProxyError):
        reason = reason.original_error
    # urllib3's NewConnectionError (refused, no route) is a ConnectTimeoutError too
    return isinstance(reason, ConnectTimeoutError)


def call(base_url: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
         timeout: float = 5.0, follow: bool = True) -> Answer:
    """``method`` ``base_url + path`` with the JSON ``body``; ``follow``: follow redirects.
    Raises :class:`Failed` when no answer came."""
    try:
        if follow or not _direct(base_url):
            resp = session(base_url).request(method, f"{base_url}{path}", json=body, headers=headers,
                                             timeout=timeout, allow_redirects=follow)
            return Answer(resp.status_code, resp.content)
        data = None if body is None else json.dumps(body).encode()
        sent_headers = {**({"Content-Type": "application/json"} if data is not None else {}), **(headers or {})}
        prefix = urlsplit(base_url).path.rstrip("/")  # an API served under a path: http://host/toxiproxy
        answer = _pool(base_url).urlopen(method, f"{prefix}{path}", body=data, headers=sent_headers,
                                         timeout=timeout, retries=_NO_RETRY, redirect=False)
        return Answer(answer.status, answer.data)
    except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
        raise Failed(str(exc), sent=not never_sent(exc)) from None
