"""Service tunables on the local stack: the hot-reloaded JSON file each service watches."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import requests
from chaoslib.types import Configuration, Secrets

from chaosext.common import checks
from chaosext.faults import engine, markers
from chaosext.faults.markers import FaultMarker
from chaosext.faults.undoers import undoer
from chaosext.stack.config import load_config

__all__ = ["change_service_config", "config_path", "effective", "read", "service_config", "write"]

FAMILY = "config"

SERVICES = ("checkout-api", "payment-service", "order-consumer")


def config_path(service: str) -> Path:
    checks.choice("service", service, SERVICES)
    return load_config().service_config_file(service)


def read(service: str) -> str | None:
    try:
        return config_path(service).read_text()
    except FileNotFoundError:
        return None


@undoer("config.local_file")
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


# ---- the driver (chaosext.config.driver.ConfigDriver) ---------------------------------------------


def change_service_config(service: str, settings: dict[str, Any], seconds: float, namespace: str | None,
                          configmap: str | None, key: str, configuration: Configuration,
                          secrets: Secrets) -> dict[str, Any]:
    """Merge ``settings`` into the service's JSON file for ``seconds`` (its previous content back
    on undo)."""
    previous = read(service)
    new = merged(service, settings)
    marker = FaultMarker(
        id=markers.new_id(FAMILY), family=FAMILY, kind="reload", target=f"local/{service}", scope={"service": service},
        description=f"config of {service} changed to {settings} for {seconds:g}s",
        undo="config.local_file", undo_args={"service": service, "content": previous},
        expires_at=time.time() + seconds,
    )

    def apply() -> dict[str, Any]:
        write(service, new)
        return {"file": str(config_path(service)), "settings": settings}

    return engine.activate(marker, apply)


def service_config(service: str, namespace: str | None, configmap: str | None, key: str,
                   configuration: Configuration, secrets: Secrets) -> list[dict[str, Any]]:
    return effective(service)
