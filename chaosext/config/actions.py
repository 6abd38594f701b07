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
# the longest wait for the replicas to load a changed ConfigMap (the kubelet's periodic sync is
# about a minute; with the pods nudged it takes seconds)
LOAD_TIMEOUT_S = 120.0


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
            id=fault_id, family=FAMILY, kind="reload", target=f"local/{service}", scope={"service": service},
            description=f"config of {service} changed to {settings} for {seconds:g}s",
            undo="config.local_file", undo_args={"service": service, "content": previous},
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
    k8s.check_mounted(name, ns, configuration, secrets)
    marker = FaultMarker(
        id=fault_id, family=FAMILY, kind="reload", target=f"configmap/{ns}/{name}",
        scope={"service": service, "configmap": name, "namespace": ns},
        description=f"ConfigMap {ns}/{name}[{key}] changed to {settings} for {seconds:g}s",
        undo="config.configmap",
        undo_args={"name": name, "namespace": ns, "key": key, "content": current,
                   "context": kube.current_context(secrets)},
        expires_at=time.time() + seconds,
    )

    def apply() -> dict[str, Any]:
        k8s.write(name, ns, key, new, fault_id, configuration=configuration, secrets=secrets)
        return {"configmap": name, "key": key, "settings": settings}

    result = engine.activate(marker, apply)
    # outside the signal shield: the replicas load the new value (the fault's real start)
    result["replicas"] = k8s.wait_loaded(name, ns, key, timeout_s=min(LOAD_TIMEOUT_S, seconds),
                                         configuration=configuration, secrets=secrets)
    return result


def restore_service_config(
    service: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> list[dict[str, Any]]:
    """Rollback: restore every service config chaosext changed (of ``service`` only, if given); on
    Kubernetes, then wait until every replica runs the restored value, so the closing steady state
    is measured on the restored service."""
    done = engine.undo_matching(FAMILY, scope={"service": service})
    restored = [record for record in done if "configmap" in record["scope"]]
    if restored:
        from chaosext.config import kubernetes as k8s

        for record in restored:
            args = record["undo_args"]
            loaded = k8s.wait_loaded(args["name"], args["namespace"], args["key"], timeout_s=LOAD_TIMEOUT_S,
                                     context=args.get("context"))
            done.append({"configmap": f"{args['namespace']}/{args['name']}", "restored_replicas": loaded})
    return done
