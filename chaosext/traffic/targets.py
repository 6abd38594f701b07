"""Vegeta targets: what each request of a load run is (JSON target format, one per line)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from chaosext.common import checks

__all__ = ["MAX_TARGETS", "SCENARIOS", "write_targets"]

SCENARIOS = ("checkout", "catalog")
MAX_TARGETS = 250_000  # beyond this Vegeta cycles through the file (checkout: idempotent replays)


def _checkout(base_url: str, run_id: str, index: int) -> dict[str, object]:
    order_id = f"load-{run_id}-{index}"
    body = json.dumps({"order_id": order_id, "amount": 12.5, "currency": "EUR"}).encode()
    return {
        "method": "POST",
        "url": f"{base_url}/api/checkout",
        "body": base64.b64encode(body).decode(),
        "header": {"Content-Type": ["application/json"], "X-Correlation-ID": [order_id]},
    }


def _catalog(base_url: str, run_id: str, index: int) -> dict[str, object]:
    return {"method": "GET", "url": f"{base_url}/api/catalog"}


def write_targets(path: Path, scenario: str, base_url: str, run_id: str, count: int) -> int:
    """Write ``count`` targets (at most MAX_TARGETS; a GET scenario needs only one). Returns how many."""
    checks.choice("scenario", scenario, SCENARIOS)
    make = _checkout if scenario == "checkout" else _catalog
    total = 1 if scenario == "catalog" else max(1, min(int(count), MAX_TARGETS))
    base = base_url.rstrip("/")
    with path.open("w") as fh:
        for index in range(total):
            fh.write(json.dumps(make(base, run_id, index), separators=(",", ":")) + "\n")
    return total
