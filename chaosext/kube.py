"""Kubernetes access shared by the fault families.

Follows chaostoolkit-kubernetes's client conventions (``KUBECONFIG``, ``KUBERNETES_CONTEXT`` in
the environment or ``secrets``, in-cluster config) by calling its ``create_k8s_api_client``;
adds the guardrails (namespace allowlist, allowed contexts) and the marks every fault leaves on
the objects it touches, so ``chaosext cleanup`` can find them.
"""

from __future__ import annotations

import os
import time
from typing import Any

from chaosk8s import create_k8s_api_client
from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from chaosext.common import checks
from chaosext.faults import guardrails
from chaosext.kube_permissions import permission_refused
from chaosext.target import setting

__all__ = [
    "FAULT_ANNOTATION",
    "FAULT_LABEL",
    "api_client",
    "api_error",
    "client_for",
    "current_context",
    "namespace_of",
]

FAULT_LABEL = "chaosext.io/fault"
FAULT_ANNOTATION = "chaosext.io/fault-id"
EXPIRES_ANNOTATION = "chaosext.io/expires-at"


def current_context(secrets: Secrets = None) -> str | None:
    wanted = (secrets or {}).get("KUBERNETES_CONTEXT") or os.environ.get("KUBERNETES_CONTEXT")
    if wanted:
        return str(wanted)
    try:
        path = os.path.expanduser(os.environ.get("KUBECONFIG", "~/.kube/config"))
        _, active = config.list_kube_config_contexts(path)
    except Exception:
        return None
    return str(active["name"]) if active else None


def namespace_of(namespace: str | None, configuration: Configuration) -> str:
    ns = namespace or setting(configuration, "namespace", "default")
    checks.non_empty("namespace", ns)
    guardrails.check_namespace(ns, configuration)
    return ns


def client_for(secrets: Secrets = None) -> client.ApiClient:
    """chaostoolkit-kubernetes's rules, but reading ``KUBECONFIG`` at call time.

    ``create_k8s_api_client`` checks the KUBECONFIG path at call time but then loads the
    kubernetes package's default location, fixed when that package was imported; a kubeconfig
    file is therefore loaded here explicitly (into its own Configuration, no global state).
    Other cases (in-pod, KUBERNETES_HOST...) are delegated unchanged."""
    path = os.path.expanduser(os.environ.get("KUBECONFIG", "~/.kube/config"))
    if os.path.exists(path):
        # an empty KUBERNETES_CONTEXT means the kubeconfig's current context, as for kubectl
        context = (secrets or {}).get("KUBERNETES_CONTEXT") or os.environ.get("KUBERNETES_CONTEXT") or None
        return config.new_client_from_config(config_file=path, context=context)
    return create_k8s_api_client(secrets)


def api_client(configuration: Configuration = None, secrets: Secrets = None) -> client.ApiClient:
    """An API client, refused when the kube context is not allowed by configuration."""
    guardrails.check_context(current_context(secrets), configuration)
    return client_for(secrets)


def api_error(exc: ApiException, what: str) -> ActivityFailed:
    """``exc`` as an ActivityFailed saying what was being done. A request the authorizer refused
    (403) becomes a ``PermissionRefused`` naming the identity, verb, resource, API group and
    namespace it lacks, so a least-privilege run (cluster/rbac/) says which rule is missing."""
    refused = permission_refused(exc, what)
    if refused is not None:
        return refused
    reason = exc.reason
    try:
        import json

        reason = json.loads(exc.body or "{}").get("message", reason)
    except ValueError:
        pass
    return ActivityFailed(f"{what}: the API server answered {exc.status}: {reason}")


def expiry_annotations(fault_id: str, expires_at: float | None) -> dict[str, str]:
    marks = {FAULT_ANNOTATION: fault_id}
    if expires_at is not None:
        marks[EXPIRES_ANNOTATION] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires_at))
    return marks


def selector_string(labels: dict[str, str] | str) -> str:
    if isinstance(labels, str):
        return labels
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def to_dict(obj: Any) -> dict[str, Any]:
    result: dict[str, Any] = client.ApiClient().sanitize_for_serialization(obj)
    return result


SYNC_ANNOTATION = "chaosext.io/config-sync"
"""Set on pods after a ConfigMap they mount changed: the kubelet syncs a pod (and refreshes its
mounted volumes) at once when the pod object changes, rather than at its next periodic sync
(about a minute)."""


def pods_mounting(core: client.CoreV1Api, namespace: str, configmap: str) -> list[Any]:
    """The running, not terminating, pods of ``namespace`` that mount ConfigMap ``configmap`` as a
    volume."""
    try:
        pods: list[Any] = core.list_namespaced_pod(namespace).items
    except ApiException as exc:
        raise api_error(exc, f"listing the pods of namespace {namespace}") from None
    return [p for p in pods
            if p.metadata.deletion_timestamp is None and p.status.phase == "Running"
            and any(v.config_map is not None and v.config_map.name == configmap for v in p.spec.volumes or [])]


def nudge_pods(core: client.CoreV1Api, namespace: str, pods: list[Any]) -> list[str]:
    """Annotate each pod with ``SYNC_ANNOTATION`` (the time now) so the kubelet refreshes its
    mounted ConfigMaps within seconds. Returns the names of the pods annotated (a pod
    gone meanwhile is skipped)."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    names: list[str] = []
    for pod in pods:
        try:
            core.patch_namespaced_pod(pod.metadata.name, namespace,
                                      {"metadata": {"annotations": {SYNC_ANNOTATION: stamp}}})
        except ApiException as exc:
            if exc.status == 404:
                continue
            raise api_error(exc, f"annotating pod {namespace}/{pod.metadata.name}") from None
        names.append(pod.metadata.name)
    return names


def pod_get(core: client.CoreV1Api, pod: Any, path: str | None = None) -> str | None:
    """GET ``path`` (default: its metrics path) from the pod through the API server's pod proxy,
    at the port and scheme of its ``prometheus.io/*`` annotations (the sample services serve
    their admin endpoints there too). None when it declares no port or does not answer; a
    refused request is an error (a missing pods/proxy permission must not look like a pod that
    exports nothing)."""
    notes = pod.metadata.annotations or {}
    port = notes.get("prometheus.io/port")
    if not port:
        return None
    scheme = notes.get("prometheus.io/scheme", "http")
    where = (path or notes.get("prometheus.io/path", "/metrics")).lstrip("/")
    try:
        body: Any = core.connect_get_namespaced_pod_proxy_with_path(
            f"{scheme}:{pod.metadata.name}:{port}", pod.metadata.namespace, where, _preload_content=False)
    except ApiException as exc:
        if exc.status in (401, 403):
            raise api_error(exc, f"reading /{where} of pod {pod.metadata.namespace}/{pod.metadata.name}") from None
        return None
    return str(body.data.decode(errors="replace"))
