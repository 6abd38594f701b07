"""Kubernetes side of the Kafka faults.

Broker loss: a broker is a pod ``<statefulset>-<ordinal>`` of the Kafka StatefulSet (broker id =
ordinal + ``broker_id_offset``, 0 by default as in Strimzi/Bitnami charts). The pod is deleted
(grace 0 for a kill, the pod's own grace period for a stop) and kept down by a *placeholder*: a
pod of the same name, not matching the StatefulSet's selector, held by a scheduling gate so it is
never scheduled and runs nothing. A StatefulSet cannot create a pod whose name is taken, so the
broker stays down with no process watching it; removing the placeholder (undo, expiry reaper,
``remove_leftovers``) lets the controller recreate the broker at once.

Why not re-delete recreated pods until expiry: the controller recreates within milliseconds, so
the broker pod flaps instead of staying down, and holding needs a process alive for the whole
duration. Why not scale the StatefulSet down: that only removes the highest ordinals (not "broker
1" or "the leader of orders-0"), and it changes the spec GitOps tools reconcile. Placeholders carry
the label ``chaosext.io/kafka-hold=<statefulset>`` and ``chaosext.io/fault=<fault id>``.

Consumer pause: the consumer's Deployment is scaled to 0 (or down to ``replicas`` for a
slow-down) and back; it is annotated with its replica count before the fault.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets
from kubernetes import client
from kubernetes.client.rest import ApiException

from chaosext import kube
from chaosext.common.waiting import WaitTimeout, eventually, wait_until
from chaosext.faults import engine, guardrails, markers
from chaosext.faults.markers import FaultMarker
from chaosext.faults.undoers import undoer
from chaosext.kafka.driver import BROKER_LOSS, FAMILY, SLOW, BrokerLoss, ConsumerSlowdown

__all__ = [
    "HOLD_LABEL",
    "REPLICAS_ANNOTATION",
    "annotations_of",
    "broker_pods",
    "delete_and_hold",
    "find_leftovers",
    "holds",
    "lose_brokers",
    "pause_marker",
    "release",
    "remove_leftovers",
    "restore_consumer",
    "scale_consumer",
    "slow_consumer",
    "wait_consumer_back",
    "wait_consumer_stopped",
]

HOLD_LABEL = "chaosext.io/kafka-hold"
HOLD_GATE = "chaosext.io/kafka-broker-held-down"
REPLICAS_ANNOTATION = "chaosext.io/kafka-replicas-before"


def _api(context: str | None) -> client.ApiClient:
    return kube.client_for({"KUBERNETES_CONTEXT": context} if context else None)


def annotations_of(obj: Any) -> dict[str, str]:
    """An object's annotations (empty when it has none)."""
    return dict((obj.metadata.annotations if obj.metadata else None) or {})


def _is_ready(pod: Any) -> bool:
    return any(
        c.type == "Ready" and c.status == "True" for c in ((pod.status and pod.status.conditions) or [])
    )


def broker_pods(
    statefulset: str, namespace: str, configuration: Configuration, secrets: Secrets
) -> tuple[Any, dict[int, Any]]:
    """The StatefulSet and its current pods by ordinal."""
    api = kube.api_client(configuration, secrets)
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    try:
        sts = apps.read_namespaced_stateful_set(statefulset, namespace)
    except ApiException as exc:
        if exc.status == 404:
            raise ActivityFailed(
                f"'statefulset' {statefulset!r} not found in namespace {namespace!r}"
            ) from None
        raise kube.api_error(exc, f"reading statefulset {namespace}/{statefulset}") from None
    selector = kube.selector_string(sts.spec.selector.match_labels or {})
    try:
        pods = core.list_namespaced_pod(namespace, label_selector=selector).items
    except ApiException as exc:
        raise kube.api_error(exc, f"listing the pods of statefulset {namespace}/{statefulset}") from None
    by_ordinal: dict[int, Any] = {}
    pod: Any
    for pod in pods:
        suffix = pod.metadata.name[len(statefulset) + 1 :]
        if pod.metadata.name.startswith(f"{statefulset}-") and suffix.isdigit():
            by_ordinal[int(suffix)] = pod
    return sts, by_ordinal


def _delete(core: client.CoreV1Api, namespace: str, name: str, grace: int | None) -> bool:
    try:
        core.delete_namespaced_pod(name, namespace, body=client.V1DeleteOptions(grace_period_seconds=grace))
        return True
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise kube.api_error(exc, f"deleting pod {namespace}/{name}") from None


def _annotate(
    apps: client.AppsV1Api, kind: str, name: str, namespace: str, marks: dict[str, str | None]
) -> None:
    patch = {"metadata": {"annotations": marks}}
    patcher = (
        apps.patch_namespaced_stateful_set if kind == "statefulset" else apps.patch_namespaced_deployment
    )
    patcher(name, namespace, patch)


def holds(core: client.CoreV1Api, namespace: str, statefulset: str) -> list[Any]:
    """The placeholder pods holding brokers of ``statefulset`` down."""
    try:
        pods: list[Any] = core.list_namespaced_pod(
            namespace, label_selector=f"{HOLD_LABEL}={statefulset}"
        ).items
    except ApiException as exc:
        raise kube.api_error(exc, f"listing placeholder pods in {namespace}") from None
    return pods


def _placeholder(name: str, statefulset: str, fault_id: str, expires_at: float, image: str) -> client.V1Pod:
    return client.V1Pod(
        metadata=client.V1ObjectMeta(
            name=name,
            labels={HOLD_LABEL: statefulset, kube.FAULT_LABEL: fault_id},
            annotations=kube.expiry_annotations(fault_id, expires_at),
        ),
        spec=client.V1PodSpec(
            scheduling_gates=[client.V1PodSchedulingGate(name=HOLD_GATE)],  # never scheduled, never runs
            automount_service_account_token=False,
            security_context=client.V1PodSecurityContext(
                run_as_non_root=True,
                run_as_user=65534,
                seccomp_profile=client.V1SeccompProfile(type="RuntimeDefault"),
            ),
            containers=[
                client.V1Container(
                    name="held-down",
                    image=image,
                    security_context=client.V1SecurityContext(
                        allow_privilege_escalation=False,
                        capabilities=client.V1Capabilities(drop=["ALL"]),
                    ),
                )
            ],
        ),
    )


def delete_and_hold(
    fault_id: str,
    statefulset: str,
    namespace: str,
    pods: list[str],
    grace: int | None,
    expires_at: float,
    image: str,
    context: str | None,
    timeout: float = 120.0,
) -> dict[str, Any]:
    """Delete each broker pod and take its name with a placeholder before the controller recreates it.

    A copy the controller recreated in between is deleted at once (grace 0: it never got to run)."""
    core = client.CoreV1Api(_api(context))
    done = []
    for name in pods:
        started = time.monotonic()
        first = _delete(core, namespace, name, grace)
        recreated = 0
        while True:
            try:
                made: Any = core.create_namespaced_pod(
                    namespace, _placeholder(name, statefulset, fault_id, expires_at, image)
                )
                if _stays(core, namespace, name, made.metadata.uid):
                    break
                continue  # deleted behind our back: take the name again
            except ApiException as exc:
                if exc.status != 409:
                    raise kube.api_error(exc, f"creating placeholder pod {namespace}/{name}") from None
            if time.monotonic() - started > timeout:
                raise ActivityFailed(f"pod {namespace}/{name} is still there {timeout:g}s after its deletion")
            try:
                current: Any = core.read_namespaced_pod(name, namespace)
            except ApiException as exc:
                if exc.status == 404:
                    continue
                raise kube.api_error(exc, f"reading pod {namespace}/{name}") from None
            if current.metadata.deletion_timestamp is None:  # recreated by the controller: not a broker yet
                _delete(core, namespace, name, 0)
                recreated += 1
            else:
                time.sleep(0.1)  # the original is still terminating (a stop's grace period)
        done.append(
            {
                "pod": name,
                "grace_seconds": grace,
                "deleted": first,
                "recreated_copies_deleted": recreated,
                "held_after_s": round(time.monotonic() - started, 2),
            }
        )
    return {"statefulset": f"{namespace}/{statefulset}", "deleted": done}


def _stays(core: client.CoreV1Api, namespace: str, name: str, uid: str, settle: float = 1.0) -> bool:
    """The placeholder is still there ``settle`` seconds after its creation. Whatever finishes the
    old pod's deletion may delete by name, without a UID precondition (KWOK does; a kubelet does
    not), and then takes the placeholder instead: the caller takes the name again."""

    def taken() -> bool:
        try:
            current: Any = core.read_namespaced_pod(name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return True
            raise kube.api_error(exc, f"reading pod {namespace}/{name}") from None
        return bool(current.metadata.uid != uid)

    return not eventually(f"placeholder {namespace}/{name} to be taken", taken, timeout_s=settle, interval_s=0.1)


@undoer("kafka.release_brokers")
def release(
    fault_id: str, statefulset: str, namespace: str, context: str | None = None, pods: list[str] | None = None
) -> None:
    """Undo of a broker loss (idempotent): delete this fault's placeholders; the StatefulSet
    controller then recreates the broker pods."""
    core = client.CoreV1Api(_api(context))
    try:
        held = core.list_namespaced_pod(namespace, label_selector=f"{kube.FAULT_LABEL}={fault_id}").items
    except ApiException as exc:
        if exc.status == 404:
            return
        raise kube.api_error(exc, f"listing placeholder pods of {fault_id} in {namespace}") from None
    pod: Any
    for pod in held:
        _delete(core, namespace, pod.metadata.name, 0)


# ---- consumer Deployment -------------------------------------------------------------------------
def consumer_replicas(deployment: str, namespace: str, configuration: Configuration, secrets: Secrets) -> int:
    apps = client.AppsV1Api(kube.api_client(configuration, secrets))
    try:
        dep = apps.read_namespaced_deployment(deployment, namespace)
    except ApiException as exc:
        if exc.status == 404:
            raise ActivityFailed(
                f"'consumer' deployment {deployment!r} not found in namespace {namespace!r}"
            ) from None
        raise kube.api_error(exc, f"reading deployment {namespace}/{deployment}") from None
    if annotations_of(dep).get(kube.FAULT_ANNOTATION, "").startswith("kafka-"):
        raise ActivityFailed(
            f"deployment {namespace}/{deployment} is already under Kafka fault "
            f"{annotations_of(dep)[kube.FAULT_ANNOTATION]}; nothing changed"
        )
    return int(dep.spec.replicas if dep.spec.replicas is not None else 1)


def scale_consumer(
    fault_id: str,
    deployment: str,
    namespace: str,
    replicas: int,
    before: int,
    expires_at: float | None,
    context: str | None,
) -> dict[str, Any]:
    apps = client.AppsV1Api(_api(context))
    marks: dict[str, str | None] = {
        **kube.expiry_annotations(fault_id, expires_at),
        REPLICAS_ANNOTATION: str(before),
    }
    try:
        _annotate(apps, "deployment", deployment, namespace, marks)
        apps.patch_namespaced_deployment_scale(deployment, namespace, {"spec": {"replicas": replicas}})
    except ApiException as exc:
        raise kube.api_error(exc, f"scaling deployment {namespace}/{deployment}") from None
    return {"deployment": f"{namespace}/{deployment}", "replicas_before": before, "replicas": replicas}


@undoer("kafka.restore_consumer")
def restore_consumer(
    fault_id: str, deployment: str, namespace: str, replicas: int, context: str | None = None
) -> None:
    """Undo of a consumer pause/slow-down (idempotent): scale back, drop the annotations."""
    apps = client.AppsV1Api(_api(context))
    try:
        dep = apps.read_namespaced_deployment(deployment, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return
        raise kube.api_error(exc, f"reading deployment {namespace}/{deployment}") from None
    if annotations_of(dep).get(kube.FAULT_ANNOTATION) != fault_id:
        return
    try:
        apps.patch_namespaced_deployment_scale(deployment, namespace, {"spec": {"replicas": int(replicas)}})
        _annotate(
            apps,
            "deployment",
            deployment,
            namespace,
            {kube.FAULT_ANNOTATION: None, kube.EXPIRES_ANNOTATION: None, REPLICAS_ANNOTATION: None},
        )
    except ApiException as exc:
        if exc.status != 404:
            raise kube.api_error(exc, f"restoring deployment {namespace}/{deployment}") from None


def wait_no_pods(
    deployment: str, namespace: str, configuration: Configuration, secrets: Secrets, timeout: float
) -> None:
    """Wait until the Deployment reports no replicas left (its consumers have left the group)."""
    apps = client.AppsV1Api(kube.api_client(configuration, secrets))

    def replicas() -> int:
        try:
            status: Any = apps.read_namespaced_deployment_status(deployment, namespace).status
        except ApiException as exc:
            raise kube.api_error(exc, f"reading the status of deployment {namespace}/{deployment}") from None
        return int(status.replicas or 0)

    try:
        wait_until(f"deployment {namespace}/{deployment} to have no pods", replicas, done=lambda n: n == 0,
                   timeout_s=timeout)
    except WaitTimeout:
        raise ActivityFailed(
            f"deployment {namespace}/{deployment} still has pods {timeout:g}s after scaling to 0"
        ) from None


# ---- leftovers (for `chaosext cleanup`) ---------------------------------------
def find_leftovers(context: str | None = None) -> list[dict[str, Any]]:
    """Every placeholder pod holding a Kafka broker down and every Deployment scaled by a Kafka fault,
    in any namespace."""
    api = _api(context)
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    found: list[dict[str, Any]] = []
    try:
        placeholders = core.list_pod_for_all_namespaces(label_selector=HOLD_LABEL).items
        deployments = apps.list_deployment_for_all_namespaces().items
    except ApiException as exc:
        raise kube.api_error(exc, "listing placeholder pods and deployments") from None
    obj: Any
    for obj in placeholders:
        labels = obj.metadata.labels or {}
        found.append(
            {
                "kind": "pod",
                "namespace": obj.metadata.namespace,
                "name": obj.metadata.name,
                "statefulset": labels.get(HOLD_LABEL),
                "fault_id": labels.get(kube.FAULT_LABEL),
                "expires_at": annotations_of(obj).get(kube.EXPIRES_ANNOTATION),
            }
        )
    for obj in deployments:
        notes = annotations_of(obj)
        if notes.get(kube.FAULT_ANNOTATION, "").startswith("kafka-") and REPLICAS_ANNOTATION in notes:
            found.append(
                {
                    "kind": "deployment",
                    "namespace": obj.metadata.namespace,
                    "name": obj.metadata.name,
                    "fault_id": notes[kube.FAULT_ANNOTATION],
                    "replicas_before": int(notes[REPLICAS_ANNOTATION]),
                    "expires_at": notes.get(kube.EXPIRES_ANNOTATION),
                }
            )
    return found


def remove_leftovers(context: str | None = None, dry_run: bool = False) -> list[dict[str, Any]]:
    """Undo everything :func:`find_leftovers` reports."""
    found = find_leftovers(context)
    if not dry_run:
        core = client.CoreV1Api(_api(context))
        for row in found:
            if row["kind"] == "pod":
                _delete(core, row["namespace"], row["name"], 0)
            else:
                restore_consumer(
                    row["fault_id"], row["name"], row["namespace"], row["replicas_before"], context
                )
    return found


# ---- the driver (chaosext.kafka.driver.KafkaDriver) -----------------------------------------------


def lose_brokers(loss: BrokerLoss, configuration: Configuration, secrets: Secrets) -> dict[str, Any]:
    """Delete the chosen broker pods and hold them down (placeholder pods) for ``loss.seconds``."""
    from chaosext.kafka.brokers import victims as choose

    brokers, topic, partition, count = loss.brokers, loss.topic, loss.partition, loss.count
    graceful, seconds, statefulset = loss.graceful, loss.seconds, loss.statefulset
    namespace, offset = loss.namespace, loss.broker_id_offset
    ns = kube.namespace_of(namespace, configuration)
    sts, pods = broker_pods(statefulset, ns, configuration, secrets)
    total = int(sts.spec.replicas or 0)
    alive = sorted(o + offset for o, p in pods.items() if p.metadata.deletion_timestamp is None and o < total)
    victims = choose(brokers, topic, partition, count, alive, configuration, secrets)
    known = [o + offset for o in range(total)]
    unknown = [b for b in victims if b not in known]
    if unknown:
        raise ActivityFailed(
            f"'brokers' {unknown} are not brokers of statefulset {ns}/{statefulset} "
            f"(known: {known}, broker_id_offset={offset})"
        )
    # brokers already down (held by another fault, crashed, not yet recreated) count against the share
    down = {b for b in known if b not in alive}
    guardrails.check_replica_share(
        len(set(victims) | down),
        total,
        f"Kafka broker pods (counting those already down: {sorted(down)})",
        configuration,
    )
    names = [f"{statefulset}-{b - offset}" for b in victims]
    grace = None if graceful else 0
    image = str(sts.spec.template.spec.containers[0].image or "registry.k8s.io/pause:3.10")
    context = kube.current_context(secrets)
    fault_id = markers.new_id(FAMILY)
    expires_at = time.time() + seconds
    marker = FaultMarker(
        id=fault_id,
        family=FAMILY,
        kind=BROKER_LOSS,
        target=f"statefulset/{ns}/{statefulset}",
        scope={"statefulset": statefulset, "namespace": ns},
        description=f"{'stopped' if graceful else 'killed'} and held down pod(s) {names} of statefulset "
        f"{ns}/{statefulset} for {seconds:g}s" + (f" (leader of {topic}-{partition})" if topic else ""),
        undo="kafka.release_brokers",
        undo_args={
            "fault_id": fault_id,
            "statefulset": statefulset,
            "namespace": ns,
            "context": context,
            "pods": names,
        },
        expires_at=expires_at,
    )

    def apply() -> dict[str, Any]:
        return delete_and_hold(fault_id, statefulset, ns, names, grace, expires_at, image, context)

    record = engine.activate(marker, apply)
    return {**record, "target": "kubernetes", "brokers": victims}


def pause_marker(kind: str, consumer: str, seconds: float, namespace: str | None, configuration: Configuration,
                 secrets: Secrets, description: str) -> tuple[FaultMarker, Callable[[], Any]]:
    """A pause scales the consumer Deployment to 0; undo scales it back."""
    fault_id = markers.new_id(FAMILY)
    expires_at = time.time() + seconds
    ns = kube.namespace_of(namespace, configuration)
    before = consumer_replicas(consumer, ns, configuration, secrets)
    context = kube.current_context(secrets)
    marker = _consumer_marker(fault_id, kind, consumer, ns, before, context, expires_at, description)
    return marker, lambda: scale_consumer(fault_id, consumer, ns, 0, before, expires_at, context)


def _consumer_marker(fault_id: str, kind: str, consumer: str, ns: str, before: int, context: str | None,
                     expires_at: float, description: str) -> FaultMarker:
    """A fault that scales the consumer Deployment; undo scales it back to ``before`` replicas."""
    return FaultMarker(
        id=fault_id,
        family=FAMILY,
        kind=kind,
        target=f"deployment/{ns}/{consumer}",
        scope={"consumer": consumer, "namespace": ns},
        description=description,
        undo="kafka.restore_consumer",
        undo_args={"fault_id": fault_id, "deployment": consumer, "namespace": ns, "replicas": before,
                   "context": context},
        expires_at=expires_at,
    )


def slow_consumer(slowdown: ConsumerSlowdown, configuration: Configuration, secrets: Secrets) -> dict[str, Any]:
    """Scale the consumer Deployment down to ``replicas`` (default half) for ``seconds``."""
    consumer, seconds, replicas, namespace = slowdown.consumer, slowdown.seconds, slowdown.replicas, slowdown.namespace
    fault_id = markers.new_id(FAMILY)
    expires_at = time.time() + seconds
    ns = kube.namespace_of(namespace, configuration)
    before = consumer_replicas(consumer, ns, configuration, secrets)
    target = before // 2 if replicas is None else replicas
    if isinstance(target, bool) or not isinstance(target, int) or not 1 <= target < before:
        raise ActivityFailed(
            f"'replicas' for a slow-down on Kubernetes must be between 1 and {before - 1} "
            f"(the deployment has {before}), got {target!r}; use pause_consumer to stop it"
        )
    context = kube.current_context(secrets)
    marker = _consumer_marker(fault_id, SLOW, consumer, ns, before, context, expires_at,
                              f"slowed consumer deployment {ns}/{consumer} from {before} to {target} replicas "
                              f"for {seconds:g}s")
    return engine.activate(
        marker, lambda: scale_consumer(fault_id, consumer, ns, target, before, expires_at, context)
    )


def wait_consumer_stopped(consumer: str, marker: FaultMarker, timeout: float, configuration: Configuration,
                          secrets: Secrets) -> None:
    wait_no_pods(consumer, marker.undo_args["namespace"], configuration, secrets, timeout)


def wait_consumer_back(consumer: str, marker: FaultMarker, timeout: float, configuration: Configuration,
                       secrets: Secrets) -> dict[str, Any] | None:
    """Scaled back up: until its pods are available again, so what follows (a probe of the
    consumer's own endpoint, the closing steady state) finds the consumer serving."""
    from chaosext.rollout import kubernetes as rollout

    return rollout.wait_complete(consumer, "deployment", marker.undo_args["namespace"], timeout, configuration,
                                 secrets)
