"""Config probes: the tunables each replica runs with right now."""

from __future__ import annotations

import json
from typing import Any

from chaoslib.types import Configuration, Secrets

from chaosext import kube
from chaosext.target import target_of

__all__ = ["service_config"]


def service_config(
    service: str,
    namespace: str | None = None,
    configmap: str | None = None,
    key: str = "config.json",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> list[dict[str, Any]]:
    """Locally: each replica's effective config from its /admin/config. On Kubernetes: the
    ConfigMap's value (what the pods will load)."""
    if target_of(configuration) == "local":
        from chaosext.config import local

        return local.effective(service)
    from chaosext.config import kubernetes as k8s

    ns = kube.namespace_of(namespace, configuration)
    _, value = k8s.read(configmap or f"{service}-config", ns, key, configuration, secrets)
    return [{"configmap": configmap or f"{service}-config", "config": json.loads(value) if value else {}}]
