"""Rollout probes: state, ready and unavailable replicas."""

from __future__ import annotations

from typing import Any

from chaoslib.types import Configuration, Secrets

from chaosext import kube
from chaosext.rollout import kubernetes as k8s
from chaosext.target import target_of

__all__ = ["rollout_complete", "rollout_status"]


def rollout_status(
    name: str,
    kind: str = "deployment",
    namespace: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """The rollout's state: generation vs observedGeneration, replicas, updated, ready,
    available and unavailable replicas, complete, stalled."""
    if target_of(configuration) == "local":
        from chaosext.rollout import local

        return local.rollout_status(name, configuration)
    ns = kube.namespace_of(namespace, configuration)
    obj = k8s.read_workload(name, kind, ns, configuration, secrets)
    return k8s.rollout_state(obj)


def rollout_complete(
    name: str,
    kind: str = "deployment",
    namespace: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> bool:
    """True when every replica runs the current template and is available."""
    return bool(rollout_status(name, kind, namespace, configuration, secrets)["complete"])
