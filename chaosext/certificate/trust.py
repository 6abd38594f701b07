"""Has every client re-read its trust bundle? Read from the clients' own metrics
(``tls_reloads_total{kind="client_ca",result="success"}``, exported by the sample services)."""

from __future__ import annotations

import requests
from prometheus_client.parser import text_string_to_metric_families

from chaosext.common.waiting import eventually

__all__ = ["ca_reloads", "ca_reloads_in", "wait_reloaded"]


def ca_reloads(metrics_url: str) -> float | None:
    """How many times the client at ``metrics_url`` re-read its CA bundle; None if it is unreachable."""
    try:
        text = requests.get(metrics_url, timeout=2).text
    except requests.RequestException:
        return None
    return ca_reloads_in(text)


def ca_reloads_in(text: str) -> float | None:
    """The CA-bundle reload count in a client's metrics text; None when it exports none (a client
    that re-reads its CAs some other way, e.g. Prometheus at every scrape)."""
    total: float | None = None
    for family in text_string_to_metric_families(text):
        if family.name == "tls_reloads":  # declared even before the first reload
            total = total or 0.0
        for sample in family.samples:
            if sample.name == "tls_reloads_total" and sample.labels.get("kind") == "client_ca" \
                    and sample.labels.get("result") == "success":
                total = (total or 0.0) + sample.value
    return total


def wait_reloaded(before: dict[str, float | None], timeout: float) -> dict[str, bool]:
    """Until each reachable client's count rose above ``before`` (or ``timeout``): who reloaded."""
    seen = {url: False for url, count in before.items() if count is not None}

    def all_reloaded() -> bool:
        for url in [u for u, done in seen.items() if not done]:
            now = ca_reloads(url)
            seen[url] = now is not None and now > (before[url] or 0.0)
        return all(seen.values())

    eventually("every client to reload its CA", all_reloaded, timeout_s=timeout, interval_s=0.2)
    return seen
