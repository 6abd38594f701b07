"""A small Prometheus HTTP API client: instant and range queries, with timeouts and clear errors.

The URL comes from the configuration key ``prometheus_url`` (or chaostoolkit-prometheus's
``prometheus_base_url``), else ``CHAOSEXT_PROMETHEUS_URL``, else the local stack's Prometheus.
chaostoolkit-prometheus's ``query``/``query_interval`` are not called because they send requests
without a client timeout (a hung Prometheus would hang the abort watcher) and return the raw
document; its configuration key is honoured.
"""

from __future__ import annotations

import math
from typing import Any

import requests
from chaoslib.exceptions import ActivityFailed

from chaosext.errors import ToolUnreachable
from chaosext.target import setting, target_of

__all__ = ["PrometheusClient", "prometheus_url", "scalar"]


def prometheus_url(configuration: dict[str, Any] | None) -> str:
    url = setting(configuration, "prometheus_url") or (configuration or {}).get("prometheus_base_url")
    if url:
        return str(url).rstrip("/")
    if target_of(configuration) == "kubernetes":
        raise ActivityFailed(
            "'prometheus_url' is not configured: on the kubernetes target set the configuration "
            "key prometheus_url (or CHAOSEXT_PROMETHEUS_URL)"
        )
    from chaosext.stack.config import load_config

    return str(load_config().endpoints()["prometheus"]).rstrip("/")


class PrometheusClient:
    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _get(self, path: str, params: dict[str, Any]) -> Any:
        try:
            resp = requests.get(f"{self.url}{path}", params=params, timeout=self.timeout)
        except requests.RequestException as exc:
            raise ToolUnreachable(f"Prometheus at {self.url} is unreachable: {exc}") from None
        try:
            doc = resp.json()
        except ValueError:
            doc = {}
        if resp.status_code != 200 or doc.get("status") != "success":
            detail = doc.get("error") or resp.text.strip()[:300]
            raise ActivityFailed(f"Prometheus rejected the query {params.get('query')!r}: {detail}")
        return doc["data"]

    def query(self, promql: str, at: float | None = None) -> list[dict[str, Any]]:
        """Instant vector (or scalar, as a one-sample vector) of ``promql`` at time ``at`` (default: now)."""
        params: dict[str, Any] = {"query": promql}
        if at is not None:
            params["time"] = f"{at:.3f}"
        data = self._get("/api/v1/query", params)
        if data.get("resultType") == "scalar":
            return [{"metric": {}, "value": data["result"]}]
        result: list[dict[str, Any]] = data.get("result", [])
        return result

    def query_range(self, promql: str, start: float, end: float, step: float = 1.0) -> list[dict[str, Any]]:
        data = self._get(
            "/api/v1/query_range",
            {"query": promql, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"},
        )
        result: list[dict[str, Any]] = data.get("result", [])
        return result


def scalar(samples: list[dict[str, Any]], empty: float | None = None) -> float | None:
    """The single number of an instant query (the first sample; NaN counts as no data)."""
    for sample in samples:
        value = float(sample["value"][1])
        if not math.isnan(value):
            return value
    return empty
