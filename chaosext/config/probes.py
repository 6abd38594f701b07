"""Config probes: the tunables each replica runs with right now."""

from __future__ import annotations

from typing import Any

from chaoslib.types import Configuration, Secrets

from chaosext.config.driver import ConfigDriver
from chaosext.target import driver_for

__all__ = ["service_config"]


def service_config(
    service: str,
    namespace: str | None = None,
    configmap: str | None = None,
    key: str = "config.json",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> list[dict[str, Any]]:
    """Each replica's effective config, from its /admin/config (on Kubernetes through the API
    server's pod proxy, every running pod that mounts the ConfigMap), and on Kubernetes also the
    ConfigMap's value."""
    driver: ConfigDriver = driver_for(configuration, "config")
    return driver.service_config(service, namespace, configmap, key, configuration, secrets)
