"""A small client for the stack DNS server's HTTP control API (see ``chaosext.dns.server``)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import requests
from chaoslib.exceptions import ActivityFailed

from chaosext.errors import ToolUnreachable
from chaosext.target import setting

__all__ = ["DnsControl", "control_url"]

log = logging.getLogger("chaosext")


def control_url(configuration: dict[str, Any] | None) -> str:
    """``dns_control_url`` from configuration / ``CHAOSEXT_DNS_CONTROL_URL``, else the local stack's."""
    url = setting(configuration, "dns_control_url")
    if url:
        return str(url).rstrip("/")
    from chaosext.stack.config import load_config

    return load_config().endpoints()["dns_control"].rstrip("/")


class DnsControl:
    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200,)) -> Any:
        try:
            resp = requests.request(method, f"{self.url}{path}", json=body, timeout=self.timeout)
        except requests.RequestException as exc:
            raise ToolUnreachable(f"the DNS server's control API {self.url} is unreachable: {exc}") from None
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

    def put(self, name: str, fault: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("PUT", f"/faults/{quote(name, safe='*')}", fault)
        return result

    def delete(self, name: str) -> bool:
        """Remove the fault on ``name``; True if there was one. An unreachable server has none."""
        try:
            resp = requests.delete(f"{self.url}/faults/{quote(name, safe='*')}", timeout=self.timeout)
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
