"""Instance probes: how many replicas of a service are up and ready."""

from __future__ import annotations

from typing import Any

from chaoslib.types import Configuration, Secrets

from chaosext import kube
from chaosext.target import target_of

__all__ = ["instances_ready"]


def instances_ready(
    service: str,
    namespace: str | None = None,
    label_selector: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Replicas of ``service``: total, ready, and each one's state (pid or pod, ready or not)."""
    if target_of(configuration) == "local":
        from chaosext.instance import local

        found = local.instances(service)
        rows = [{"instance": n, "state": i["statename"], "pid": i["pid"]} for n, i in sorted(found.items())]
        ready = sum(1 for r in rows if r["state"] == "RUNNING")
        return {"service": service, "total": len(rows), "ready": ready, "instances": rows}
    from chaosext.instance import kubernetes as k8s

    ns = kube.namespace_of(namespace, configuration)
    pods = k8s.pods_of(service, ns, label_selector, configuration, secrets)
    ready_names = {p.metadata.name for p in k8s.ready_pods(pods)}
    rows = [{"instance": p.metadata.name, "ready": p.metadata.name in ready_names, "uid": p.metadata.uid}
            for p in pods]
    return {"service": service, "namespace": ns, "total": len(rows), "ready": len(ready_names), "instances": rows}
