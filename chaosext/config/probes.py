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
    """Each replica's effective config, from its /admin/config (on Kubernetes through the API
    server's pod proxy, every running pod that mounts the ConfigMap), and on Kubernetes also the
    ConfigMap's value."""
    if target_of(configuration) == "local":
        from chaosext.config import local

        return local.effective(service)
    from chaosext.config import kubernetes as k8s

    ns = kube.namespace_of(namespace, configuration)
    name = configmap or f"{service}-config"
    _, value = k8s.read(name, ns, key, configuration, secrets)
    return [{"configmap": name, "config": json.loads(value) if value else {}},
            *k8s.effective(name, ns, configuration, secrets)]
