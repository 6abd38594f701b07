"""Instance probes: how many replicas of a service are up and ready."""

from __future__ import annotations

from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext import kube
from chaosext.target import target_of

__all__ = ["instances_ready"]


def instances_ready(
    service: str,
    namespace: str | None = None,
    label_selector: str | None = None,
    running_for_s: float | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Replicas of ``service``: total, ready, and each one's state (pid or pod, ready or not, how
    long its process or container has been running, restarts on Kubernetes).

    ``running_for_s``: count a replica as ready only if its process (local) or every container of
    its pod (Kubernetes) has been running for at least that many seconds: a replica that was
    killed and restarted in place during a fault is Ready again soon, with the same pod, but its
    clock started again."""
    minimum = _seconds_or_none("running_for_s", running_for_s)
    if target_of(configuration) == "local":
        from chaosext.instance import local

        found = local.instances(service)
        rows = [{"instance": n, "state": i["statename"], "pid": i["pid"],
                 "running_for_s": round(i["now"] - i["start"], 1) if i["statename"] == "RUNNING" else None}
                for n, i in sorted(found.items())]
        ready = sum(1 for r in rows if r["state"] == "RUNNING" and _long_enough(r["running_for_s"], minimum))
        return {"service": service, "total": len(rows), "ready": ready, "instances": rows}
    from chaosext.instance import kubernetes as k8s

    ns = kube.namespace_of(namespace, configuration)
    pods = k8s.pods_of(service, ns, label_selector, configuration, secrets)
    ready_names = {p.metadata.name for p in k8s.ready_pods(pods)}
    rows = []
    for pod in pods:
        running, restarts = k8s.running_for(pod)
        rows.append({"instance": pod.metadata.name, "ready": pod.metadata.name in ready_names, "uid": pod.metadata.uid,
                     "running_for_s": running, "restarts": restarts})
    ready = sum(1 for r in rows if r["ready"] and _long_enough(r["running_for_s"], minimum))
    return {"service": service, "namespace": ns, "total": len(rows), "ready": ready,
            "restarts": sum(r["restarts"] for r in rows), "instances": rows}


def _seconds_or_none(name: str, value: Any) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ActivityFailed(f"'{name}' must be a number of seconds, got {value!r}") from None
    if seconds < 0:
        raise ActivityFailed(f"'{name}' must be 0 or more seconds, got {value!r}")
    return seconds


def _long_enough(running: float | None, minimum: float | None) -> bool:
    return minimum is None or (running is not None and running >= minimum)
