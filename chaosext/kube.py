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

from chaosext.faults import guardrails
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
    if not isinstance(ns, str) or not ns:
        raise ActivityFailed(f"'namespace' must be a non-empty string, got {ns!r}")
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
        context = (secrets or {}).get("KUBERNETES_CONTEXT") or os.environ.get("KUBERNETES_CONTEXT")
        return config.new_client_from_config(config_file=path, context=context)
    return create_k8s_api_client(secrets)


def api_client(configuration: Configuration = None, secrets: Secrets = None) -> client.ApiClient:
    """An API client, refused when the kube context is not allowed by configuration."""
    guardrails.check_context(current_context(secrets), configuration)
    return client_for(secrets)


def api_error(exc: ApiException, what: str) -> ActivityFailed:
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
