"""Service tunables on Kubernetes: a ConfigMap key mounted as the service's CONFIG_FILE.

The kubelet refreshes mounted ConfigMaps (within its sync period, about a minute on kind) and the
services reload the file when it changes; nothing is restarted."""

from __future__ import annotations

import json
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets
from kubernetes import client
from kubernetes.client.rest import ApiException

from chaosext import kube

__all__ = ["read", "write"]


def _core(configuration: Configuration, secrets: Secrets, context: str | None = None) -> client.CoreV1Api:
    if configuration is None and secrets is None:
        return client.CoreV1Api(kube.client_for({"KUBERNETES_CONTEXT": context} if context else None))
    return client.CoreV1Api(kube.api_client(configuration, secrets))


def read(name: str, namespace: str, key: str, configuration: Configuration = None,
         secrets: Secrets = None) -> tuple[dict[str, Any], str | None]:
    try:
        cm = _core(configuration, secrets).read_namespaced_config_map(name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            raise ActivityFailed(f"ConfigMap {name!r} not found in namespace {namespace!r}") from None
        raise kube.api_error(exc, f"reading ConfigMap {namespace}/{name}") from None
    data = dict(cm.data or {})
    return data, data.get(key)


def write(name: str, namespace: str, key: str, content: str | None, fault_id: str | None = None,
          context: str | None = None, configuration: Configuration = None, secrets: Secrets = None) -> None:
    """Set (or, with None, remove) one key; marks the ConfigMap with the fault id while faulted."""
    annotations: dict[str, str | None] = {kube.FAULT_ANNOTATION: fault_id}
    patch: dict[str, Any] = {"metadata": {"annotations": annotations}, "data": {key: content}}
    try:
        _core(configuration, secrets, context).patch_namespaced_config_map(name, namespace, patch)
    except ApiException as exc:
        if exc.status == 404 and content is None:
            return
        raise kube.api_error(exc, f"patching ConfigMap {namespace}/{name}") from None


def merged(current: str | None, settings: dict[str, Any]) -> str:
    try:
        data = json.loads(current) if current else {}
    except ValueError:
        raise ActivityFailed("the ConfigMap's current value is not JSON; refusing to overwrite it") from None
    data.update(settings)
    return json.dumps(data, indent=2, sort_keys=True)
