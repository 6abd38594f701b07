"""Service tunables on the local stack: the hot-reloaded JSON file each service watches."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import requests

from chaosext.common import checks
from chaosext.stack.config import load_config

__all__ = ["config_path", "effective", "read", "write"]

SERVICES = ("checkout-api", "payment-service", "order-consumer")


def config_path(service: str) -> Path:
    checks.choice("service", service, SERVICES)
    return load_config().service_config_file(service)


def read(service: str) -> str | None:
    try:
        return config_path(service).read_text()
    except FileNotFoundError:
        return None


def write(service: str, content: str | None) -> None:
    """Replace the file atomically (a reader never sees half a file); None removes it."""
    path = config_path(service)
    if content is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(content)
    os.replace(tmp, path)


def merged(service: str, settings: dict[str, Any]) -> str:
    current = read(service)
    data = json.loads(current) if current else {}
    data.update(settings)
    return json.dumps(data, indent=2, sort_keys=True)


def effective(service: str) -> list[dict[str, Any]]:
    """Every replica's effective configuration, from its own /admin/config."""
    config = load_config()
    out = []
    for attr, port in sorted(config.ports.as_dict().items()):
        name = attr.replace("_", "-")
        if not (name == service or name.rsplit("-", 1)[0] == service and name[-1].isdigit()):
            continue
        scheme = "https" if service == "payment-service" else "http"
        try:
            resp = requests.get(f"{scheme}://{config.host}:{port}/admin/config", timeout=3,
                                verify=str(config.ca_file))
            out.append({"instance": name, "config": resp.json()})
        except (requests.RequestException, ValueError) as exc:
            out.append({"instance": name, "error": str(exc)})
    return out
