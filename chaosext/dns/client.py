"""A small client for the stack DNS server's HTTP control API (see ``chaosext.dns.server``),
over this thread's keep-alive session for the URL (``chaosext.common.http``)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import requests
from chaoslib.exceptions import ActivityFailed

from chaosext.common import http
from chaosext.errors import ToolUnreachable
from chaosext.faults.engine import NothingChanged
from chaosext.target import setting

__all__ = ["DnsControl", "FaultExists", "control_url"]

log = logging.getLogger("chaosext")


def control_url(configuration: dict[str, Any] | None) -> str:
    """``dns_control_url`` from configuration / ``CHAOSEXT_DNS_CONTROL_URL``, else the local stack's."""
    url = setting(configuration, "dns_control_url")
    if url:
        return str(url).rstrip("/")
    from chaosext.stack.config import default_url

    return default_url("dns_control")


def _fault_path(name: str) -> str:
    return f"/faults/{quote(name, safe='*')}"


class FaultExists(Exception):
    """The name already has a fault on the server (``fault``: that one); nothing was set."""

    def __init__(self, fault: dict[str, Any]) -> None:
        super().__init__(f"already has a fault: {fault}")
        self.fault = fault


class DnsControl:
    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _send(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
              follow: bool = True) -> http.Answer:
        try:
            return http.call(self.url, method, path, body, headers, timeout=self.timeout, follow=follow)
        except http.Failed as exc:
            error = ToolUnreachable(f"the DNS server's control API {self.url} is unreachable: {exc}")
            raise (error if exc.sent else NothingChanged(error)) from None

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        try:
            resp = self._send(method, path, body)
        except NothingChanged as unsent:
            raise unsent.error from None
        return self._answer(method, path, resp)

    @staticmethod
    def _answer(method: str, path: str, resp: http.Answer, ok: tuple[int, ...] = (200,)) -> Any:
        if resp.status_code not in ok:
            try:
                detail = resp.json().get("error", resp.text)
            except ValueError:
                detail = resp.text
            raise ActivityFailed(f"DNS control API {method} {path} answered {resp.status_code}: {detail}")
        return resp.json() if resp.content else None

    def faults(self) -> dict[str, dict[str, Any]]:
        result: dict[str, dict[str, Any]] = self._call("GET", "/faults")["faults"]
        return result

    def put_new(self, name: str, fault: dict[str, Any]) -> dict[str, Any]:
        """Set the fault on ``name`` only if it has none, in one request (``If-None-Match: *``).
        Raises :class:`FaultExists` when it has one, :class:`NothingChanged` (wrapping the
        error) when the server was not reached."""
        resp = self._send("PUT", _fault_path(name), fault, {"If-None-Match": "*"}, follow=False)
        if resp.status_code == 412:
            raise FaultExists(resp.json()["fault"])
        result: dict[str, Any] = self._answer("PUT", _fault_path(name), resp)
        return result

    def delete(self, name: str) -> bool:
        """Remove the fault on ``name``; True if there was one. An unreachable server has none."""
        try:
            resp = http.session(self.url).delete(f"{self.url}{_fault_path(name)}", timeout=self.timeout)
        except requests.ConnectionError as exc:
            # the faults live in the server's memory: a server that is not running holds none
            log.warning(
                "DNS control API %s unreachable while removing %s (nothing to remove): %s",
                self.url,
                name,
                exc,
            )
            return False
        except requests.RequestException as exc:
            raise ActivityFailed(f"the DNS server's control API at {self.url} failed: {exc}") from None
        if resp.status_code not in (200, 404):
            raise ActivityFailed(f"DNS control API DELETE /faults/{name}: {resp.status_code} {resp.text}")
        return resp.status_code == 200
