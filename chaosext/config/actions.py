"""Config reload mid-traffic: change a running service's tunables (a timeout, a pool size) for a
duration, while load runs, then restore them. The services reload their config file without a
restart; this proves a hot reload does not drain pools or drop requests."""

from __future__ import annotations

from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext.config.driver import ConfigDriver
from chaosext.faults import engine
from chaosext.target import driver_for

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
    driver: ConfigDriver = driver_for(configuration, FAMILY)
    return driver.change_service_config(service, settings, seconds, namespace, configmap, key, configuration, secrets)


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
            loaded = k8s.wait_loaded(args["name"], args["namespace"], args["key"], timeout_s=k8s.LOAD_TIMEOUT_S,
                                     context=args.get("context"))
            done.append({"configmap": f"{args['namespace']}/{args['name']}", "restored_replicas": loaded})
    return done
