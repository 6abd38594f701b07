"""Probes for dependency paths: active faults and the round trip a client sees."""

from __future__ import annotations

import time
from typing import Any

import requests
from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext.common import checks
from chaosext.dependency.client import ToxiproxyClient, toxiproxy_url

__all__ = ["dependency_faults", "http_round_trip_ms"]


def dependency_faults(
    proxy: str = "payment", configuration: Configuration = None, secrets: Secrets = None
) -> dict[str, Any]:
    """The dependency path's state on Toxiproxy: enabled or not, and its active toxics."""
    info = ToxiproxyClient(toxiproxy_url(configuration)).proxy(proxy)
    return {"proxy": proxy, "enabled": bool(info.get("enabled")), "toxics": info.get("toxics", []),
            "listen": info.get("listen"), "upstream": info.get("upstream")}


def http_round_trip_ms(
    url: str,
    samples: int = 3,
    timeout: float = 10.0,
    ca_file: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> float:
    """Median time (ms) of a request to ``url`` over an already-open connection, as a client sees
    it: the first request opens the connection and is not counted."""
    samples = checks.positive_int("samples", samples)
    verify: bool | str = ca_file or True
    timings: list[float] = []
    with requests.Session() as session:
        try:
            session.get(url, timeout=timeout, verify=verify)
            for _ in range(samples):
                start = time.perf_counter()
                session.get(url, timeout=timeout, verify=verify)
                timings.append((time.perf_counter() - start) * 1000)
        except requests.RequestException as exc:
            raise ActivityFailed(f"request to {url} failed: {exc}") from None
    timings.sort()
    return round(timings[len(timings) // 2], 2)
