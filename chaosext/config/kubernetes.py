"""Service tunables on Kubernetes: a ConfigMap key mounted as the service's CONFIG_FILE.

The kubelet refreshes a mounted ConfigMap when it syncs the pod: within its sync period (about a
minute) or at once when the pod object changes. So after each change of the ConfigMap the pods
that mount it get an annotation (``chaosext.io/config-sync``, the time of the change), which
makes the kubelet sync them within seconds; the services reload the file when it changes, nothing
is restarted. ``wait_loaded`` then reads every replica's effective tunables (its /admin/config,
through the API server's pod proxy) until each runs what the ConfigMap says, so a fault's window
is when the replicas run it, not when the API object changed."""

from __future__ import annotations

import json
import time
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets
from kubernetes import client
from kubernetes.client.rest import ApiException

from chaosext import kube
from chaosext.faults import engine, markers
from chaosext.faults.markers import FaultMarker
from chaosext.faults.undoers import undoer

__all__ = [
    "LOAD_TIMEOUT_S",
    "change_service_config",
    "check_mounted",
    "effective",
    "nudge",
    "read",
    "restore",
    "service_config",
    "wait_loaded",
    "write",
]

FAMILY = "config"
LOAD_TIMEOUT_S = 120.0
"""The longest wait for the replicas to load a changed ConfigMap (the kubelet's periodic sync is
about a minute; with the pods nudged it takes seconds)."""

POLL_S = 0.5


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


@undoer("config.configmap")
def restore(name: str, namespace: str, key: str, content: str | None, context: str | None = None) -> None:
    """The undo of a config fault (rollback, reaper, cleanup): the previous value back, then the
    pods that mount the ConfigMap nudged so they load it within seconds."""
    write(name, namespace, key, content, None, context)
    nudge(name, namespace, context=context)


def _mounting_pods(core: client.CoreV1Api, name: str, namespace: str) -> list[Any]:
    return kube.pods_mounting(core, namespace, configmap=name)


def nudge(name: str, namespace: str, context: str | None = None, configuration: Configuration = None,
          secrets: Secrets = None) -> list[str]:
    """Annotate every running pod that mounts ConfigMap NAME, so the kubelet syncs it (and its
    ConfigMap volume) now rather than at its next periodic sync. Returns the pods' names."""
    core = _core(configuration, secrets, context)
    return kube.nudge_pods(core, namespace, _mounting_pods(core, name, namespace))


def _admin_port(pod: Any) -> tuple[str, int]:
    """The scheme and port of the pod's first container port (the service's HTTP(S) listener)."""
    for container in pod.spec.containers:
        for port in container.ports or []:
            return ("https" if "https" in (port.name or "") else "http"), int(port.container_port)
    raise ActivityFailed(f"pod {pod.metadata.name} declares no container port: cannot read its /admin/config")


def _pod_config(core: client.CoreV1Api, pod: Any) -> dict[str, Any]:
    scheme, port = _admin_port(pod)
    # the raw response: the client would otherwise turn the JSON body into a Python repr
    body: Any = core.connect_get_namespaced_pod_proxy_with_path(
        f"{scheme}:{pod.metadata.name}:{port}", pod.metadata.namespace, "admin/config", _preload_content=False)
    data: dict[str, Any] = json.loads(body.data)
    return data


def effective(name: str, namespace: str, configuration: Configuration = None,
              secrets: Secrets = None) -> list[dict[str, Any]]:
    """Every running replica that mounts ConfigMap NAME: its effective tunables (/admin/config)."""
    core = _core(configuration, secrets)
    replicas = []
    for pod in _mounting_pods(core, name, namespace):
        try:
            snapshot = _pod_config(core, pod)
        except ApiException as exc:
            if exc.status == 403:  # a missing permission is the run's error, not a replica's state
                raise kube.api_error(exc, f"reading /admin/config of pod {namespace}/{pod.metadata.name}") from None
            replicas.append({"pod": pod.metadata.name, "error": str(exc.reason)})
            continue
        except ValueError as exc:
            replicas.append({"pod": pod.metadata.name, "error": str(exc)})
            continue
        replicas.append({"pod": pod.metadata.name, "values": snapshot.get("values", {}),
                         "last_error": snapshot.get("last_error")})
    return replicas


def _expected(content: str | None, defaults: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(content) if content else {}
    except ValueError:
        data = {}
    return {k: data.get(k, v) for k, v in defaults.items()}


def check_mounted(name: str, namespace: str, configuration: Configuration = None, secrets: Secrets = None) -> None:
    """ActivityFailed when no running pod mounts ConfigMap NAME: a change would reach no replica."""
    if not _mounting_pods(_core(configuration, secrets), name, namespace):
        raise ActivityFailed(f"no running pod in namespace {namespace!r} mounts ConfigMap {name!r}: "
                             "a change would reach no replica")


def wait_loaded(name: str, namespace: str, key: str, timeout_s: float = 120, configuration: Configuration = None,
                secrets: Secrets = None, context: str | None = None) -> dict[str, Any]:
    """Nudge the pods that mount ConfigMap NAME, then wait until every one of them runs what its
    key KEY says (the keys it does not set: the service's defaults). Returns the pods and the
    seconds it took; ActivityFailed naming the replicas that had not loaded it by the deadline."""
    core = _core(configuration, secrets, context)
    started = time.monotonic()
    nudge(name, namespace, context, configuration, secrets)
    pending: dict[str, Any] = {}
    while True:
        try:
            content = (core.read_namespaced_config_map(name, namespace).data or {}).get(key)
        except ApiException as exc:
            raise kube.api_error(exc, f"reading ConfigMap {namespace}/{name}") from None
        pods = _mounting_pods(core, name, namespace)
        pending = {}
        for pod in pods:
            try:
                snapshot = _pod_config(core, pod)
            except (ApiException, ValueError) as exc:
                pending[pod.metadata.name] = f"no answer: {getattr(exc, 'reason', exc)}"
                continue
            wanted = _expected(content, snapshot.get("defaults", {}))
            values = snapshot.get("values", {})
            diff = {k: values.get(k) for k, v in wanted.items() if values.get(k) != v}
            if diff:
                pending[pod.metadata.name] = {"running": diff, "wanted": {k: wanted[k] for k in diff}}
        if pods and not pending:
            return {"loaded_by": sorted(p.metadata.name for p in pods),
                    "seconds": round(time.monotonic() - started, 1)}
        if time.monotonic() - started > timeout_s:
            raise ActivityFailed(
                f"ConfigMap {namespace}/{name}[{key}]: after {timeout_s:g}s "
                + (f"these replicas do not run it yet: {pending}" if pods else "no running pod mounts it"))
        time.sleep(POLL_S)


def merged(current: str | None, settings: dict[str, Any]) -> str:
    try:
        data = json.loads(current) if current else {}
    except ValueError:
        raise ActivityFailed("the ConfigMap's current value is not JSON; refusing to overwrite it") from None
    data.update(settings)
    return json.dumps(data, indent=2, sort_keys=True)


# ---- the driver (chaosext.config.driver.ConfigDriver) ---------------------------------------------


def change_service_config(service: str, settings: dict[str, Any], seconds: float, namespace: str | None,
                          configmap: str | None, key: str, configuration: Configuration,
                          secrets: Secrets) -> dict[str, Any]:
    """Merge ``settings`` into key ``key`` of ConfigMap ``configmap`` (default
    ``<service>-config``) for ``seconds``, then wait until the replicas load it."""
    ns = kube.namespace_of(namespace, configuration)
    name = configmap or f"{service}-config"
    _, current = read(name, ns, key, configuration, secrets)
    new = merged(current, settings)
    check_mounted(name, ns, configuration, secrets)
    marker = FaultMarker(
        id=markers.new_id(FAMILY), family=FAMILY, kind="reload", target=f"configmap/{ns}/{name}",
        scope={"service": service, "configmap": name, "namespace": ns},
        description=f"ConfigMap {ns}/{name}[{key}] changed to {settings} for {seconds:g}s",
        undo="config.configmap",
        undo_args={"name": name, "namespace": ns, "key": key, "content": current,
                   "context": kube.current_context(secrets)},
        expires_at=time.time() + seconds,
    )

    def apply() -> dict[str, Any]:
        write(name, ns, key, new, marker.id, configuration=configuration, secrets=secrets)
        return {"configmap": name, "key": key, "settings": settings}

    result = engine.activate(marker, apply)
    # outside the signal shield: the replicas load the new value (the fault's real start)
    with engine.deliberate_wait():
        result["replicas"] = wait_loaded(name, ns, key, timeout_s=min(LOAD_TIMEOUT_S, seconds),
                                         configuration=configuration, secrets=secrets)
    return result


def service_config(service: str, namespace: str | None, configmap: str | None, key: str,
                   configuration: Configuration, secrets: Secrets) -> list[dict[str, Any]]:
    ns = kube.namespace_of(namespace, configuration)
    name = configmap or f"{service}-config"
    _, value = read(name, ns, key, configuration, secrets)
    return [{"configmap": name, "config": json.loads(value) if value else {}},
            *effective(name, ns, configuration, secrets)]
