"""Config reload mid-traffic: change a running service's tunables (a timeout, a pool size) for a
duration, while load runs, then restore them. The services reload their config file without a
restart; this proves a hot reload does not drain pools or drop requests."""

from __future__ import annotations

import time
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext import kube
from chaosext.faults import engine, markers
from chaosext.faults.markers import FaultMarker
from chaosext.target import target_of

__all__ = ["change_service_config", "restore_service_config"]

FAMILY = "config"


def change_service_config(
    service: str,
    settings: dict[str, Any],
    duration: float = 60,
    namespace: str | None = None,
    configmap: str | None = None,
    key: str = "config.json",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Merge ``settings`` (e.g. {"attempt_timeout_s": 0.2, "bulkhead_size": 4}) into ``service``'s
    hot-reloaded config for ``duration`` seconds. Locally its JSON file; on Kubernetes the key
    ``key`` of ConfigMap ``configmap`` (default ``<service>-config``)."""
    if not isinstance(settings, dict) or not settings:
        raise ActivityFailed(f"'settings' must be a non-empty object of tunables, got {settings!r}")
    seconds = engine.check_duration(duration)
    fault_id = markers.new_id(FAMILY)
    if target_of(configuration) == "local":
        from chaosext.config import local

        previous = local.read(service)
        new = local.merged(service, settings)
        marker = FaultMarker(
            id=fault_id, family=FAMILY, kind="reload", target=f"local/{service}",
            description=f"config of {service} changed to {settings} for {seconds:g}s",
            undo="chaosext.config.local:write", undo_args={"service": service, "content": previous},
            expires_at=time.time() + seconds,
        )

        def apply_local() -> dict[str, Any]:
            local.write(service, new)
            return {"file": str(local.config_path(service)), "settings": settings}

        return engine.activate(marker, apply_local)
    from chaosext.config import kubernetes as k8s

    ns = kube.namespace_of(namespace, configuration)
    name = configmap or f"{service}-config"
    _, current = k8s.read(name, ns, key, configuration, secrets)
    new = k8s.merged(current, settings)
    marker = FaultMarker(
        id=fault_id, family=FAMILY, kind="reload", target=f"configmap/{ns}/{name}",
        description=f"ConfigMap {ns}/{name}[{key}] changed to {settings} for {seconds:g}s",
        undo="chaosext.config.kubernetes:write",
        undo_args={"name": name, "namespace": ns, "key": key, "content": current, "fault_id": None,
                   "context": kube.current_context(secrets)},
        expires_at=time.time() + seconds,
    )

    def apply() -> dict[str, Any]:
        k8s.write(name, ns, key, new, fault_id, configuration=configuration, secrets=secrets)
        return {"configmap": name, "key": key, "settings": settings}

    return engine.activate(marker, apply)


def restore_service_config(
    service: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> list[dict[str, Any]]:
    """Rollback: restore every service config chaosext changed (of ``service`` only, if given)."""
    return engine.undo_matching(FAMILY, where=lambda m: not service or m.target.split("/")[-1].startswith(service))
