"""Rolling-update faults: restart or update a workload under traffic, a rollout whose new
replicas fail readiness (it must stall with the old replicas serving), and undo.

Kubernetes: Deployments and StatefulSets. Local stack: one replica at a time through the load
balancer (drain in HAProxy, restart under the supervisor, wait ready, put back).
"""

from __future__ import annotations

import time
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext import kube
from chaosext.common.waiting import WaitTimeout, wait_until
from chaosext.faults import engine, markers
from chaosext.faults.markers import FaultMarker
from chaosext.rollout import kubernetes as k8s
from chaosext.target import target_of

__all__ = ["restart_workload", "start_failing_rollout", "undo_failing_rollout", "wait_for_rollout"]

FAMILY = "rollout"
READINESS_LABEL_VALUE = "readiness"


def restart_workload(
    name: str,
    kind: str = "deployment",
    namespace: str | None = None,
    timeout: float = 300,
    wait: bool = True,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Restart every replica of a workload (a rolling restart) and, if ``wait``, wait until the
    rollout completes (observedGeneration, updatedReplicas and availableReplicas), at most
    ``timeout`` seconds."""
    if target_of(configuration) == "local":
        from chaosext.rollout import local

        return local.rolling_restart(name, timeout=timeout, configuration=configuration)
    ns = kube.namespace_of(namespace, configuration)
    result = k8s.restart(name, kind, ns, configuration, secrets)
    if wait:
        result["rollout"] = k8s.wait_complete(name, kind, ns, timeout, configuration, secrets)
    return result


def wait_for_rollout(
    name: str,
    kind: str = "deployment",
    namespace: str | None = None,
    timeout: float = 300,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Wait until a workload's rollout is complete; fails after ``timeout`` seconds."""
    if target_of(configuration) == "local":
        from chaosext.rollout import local

        return local.wait_ready(name, timeout=timeout, configuration=configuration)
    return k8s.wait_complete(name, kind, kube.namespace_of(namespace, configuration), timeout, configuration,
                             secrets)


def _failing_template_patch(template: dict[str, Any], fault_id: str) -> dict[str, Any]:
    containers = []
    for container in template["spec"]["containers"]:
        containers.append({
            "name": container["name"],
            # a probe that can never pass: the new replicas never become ready. A probe has one
            # handler, and this is a strategic merge patch, so the container's own handler
            # (httpGet, tcpSocket or grpc) is removed explicitly; the API server refuses two.
            "readinessProbe": {"exec": {"command": ["/bin/false"]}, "httpGet": None, "tcpSocket": None,
                               "grpc": None, "periodSeconds": 2, "failureThreshold": 1},
            "env": [*(container.get("env") or []), {"name": "READY_FAIL", "value": "1"}],
        })
    return {"spec": {"template": {
        "metadata": {"labels": {kube.FAULT_LABEL: READINESS_LABEL_VALUE},
                     "annotations": {kube.FAULT_ANNOTATION: fault_id}},
        "spec": {"containers": containers},
    }}}


def start_failing_rollout(
    name: str,
    kind: str = "deployment",
    namespace: str | None = None,
    duration: float = 120,
    settle_timeout: float = 60,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Start a rollout whose new replicas fail readiness, for ``duration`` seconds, and return
    once it is seen stalled (new replicas not ready, old ones still available); undone by
    :func:`undo_failing_rollout` (or when ``duration`` ends)."""
    seconds = engine.check_duration(duration)
    if target_of(configuration) == "local":
        from chaosext.rollout import local

        return local.start_failing_rollout(name, seconds, settle_timeout, configuration)
    ns = kube.namespace_of(namespace, configuration)
    obj = k8s.read_workload(name, kind, ns, configuration, secrets)
    original = kube.to_dict(obj.spec.template)
    fault_id = markers.new_id(FAMILY)
    marker = FaultMarker(
        id=fault_id, family=FAMILY, kind="failing-readiness", target=f"{kind}/{ns}/{name}",
        description=f"rollout of {kind} {ns}/{name} whose new replicas fail readiness, for {seconds:g}s",
        undo="chaosext.rollout.actions:_restore_template",
        undo_args={"name": name, "kind": kind, "namespace": ns, "template": original,
                   "context": kube.current_context(secrets)},
        expires_at=time.time() + seconds,
    )

    def apply() -> dict[str, Any]:
        patch = _failing_template_patch(original, fault_id)
        patched = k8s.patch_template(name, kind, ns, patch, configuration, secrets)
        return {"generation": patched.metadata.generation}

    record = engine.activate(marker, apply)
    record["rollout"] = _wait_stalled(name, kind, ns, settle_timeout, configuration, secrets)
    return record


def _wait_stalled(name: str, kind: str, ns: str, timeout: float, configuration: Configuration,
                  secrets: Secrets) -> dict[str, Any]:
    def stalled(state: dict[str, Any]) -> bool:
        return bool(state["observed_generation"] >= state["generation"] and state["updated_replicas"] >= 1
                    and not state["complete"])

    try:
        return wait_until(f"the failing rollout of {kind} {ns}/{name}",
                          lambda: k8s.rollout_state(k8s.read_workload(name, kind, ns, configuration, secrets)),
                          done=stalled, timeout_s=timeout, interval_s=0.5)
    except WaitTimeout as exc:
        raise ActivityFailed(f"the failing rollout of {kind} {ns}/{name} was not observed within {timeout}s: "
                             f"{exc.last}") from None


def _restore_template(name: str, kind: str, namespace: str, template: dict[str, Any],
                      context: str | None = None) -> None:
    """Put the pre-fault pod template back (what ``kubectl rollout undo`` does)."""
    k8s.replace_template(name, kind, namespace, template, context)


def undo_failing_rollout(
    name: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> list[dict[str, Any]]:
    """Rollback: undo every failing rollout chaosext started (of workload ``name`` only, if given)."""
    return engine.undo_matching(FAMILY, where=lambda m: not name or m.target.endswith(f"/{name}"))
