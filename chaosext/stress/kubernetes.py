"""Resource stress on Kubernetes: stress-ng started in the target container through the API's
pods/exec, so it runs in the container's cgroup and competes for the container's own CPU and
memory limits (what Chaos Mesh's StressChaos achieves with a privileged daemon; here no daemon,
no privilege, only ``pods/exec`` RBAC). The container image must ship stress-ng (the sample
images do). The pod is annotated with the fault id and the stressor's pid while stressed, so
``chaosext cleanup`` finds it after a SIGKILL; stress-ng also ends by itself at the duration.
"""

from __future__ import annotations

import dataclasses
import json
import random
import shlex
import time
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets
from kubernetes import client
from kubernetes.client.rest import ApiException
from kubernetes.stream import stream
from kubernetes.stream.ws_client import ERROR_CHANNEL

from chaosext import kube
from chaosext.errors import ToolMissing
from chaosext.faults import engine, guardrails, markers
from chaosext.faults.markers import FaultMarker
from chaosext.faults.undoers import undoer
from chaosext.instance import kubernetes as workloads
from chaosext.stress.driver import StressRequest
from chaosext.stress.stressor import Stress, parse_bytes, parse_cpus

__all__ = ["apply", "exec_in", "find_leftovers", "remove_leftovers", "stress_replicas", "undo"]

FAMILY = "stress"

PID_ANNOTATION = "chaosext.io/stress-pid"
MISSING = 127


def _core(context: str | None = None, configuration: Configuration = None, secrets: Secrets = None) -> client.CoreV1Api:
    if configuration is None and secrets is None:
        return client.CoreV1Api(kube.client_for({"KUBERNETES_CONTEXT": context} if context else None))
    return client.CoreV1Api(kube.api_client(configuration, secrets))


def _exit_code(status: str | None) -> int:
    """The command's exit status from the exec error channel. A kubelet reports
    ``causes[{reason: ExitCode, message: N}]``; some runtimes only say "exit status N"."""
    if not status:
        return 0
    data = json.loads(status)
    if data.get("status") == "Success":
        return 0
    for cause in (data.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode":
            return int(cause["message"])
    message = str(data.get("message", ""))
    if "exit status " in message:
        return int(message.rsplit("exit status ", 1)[1].split()[0].strip(":"))
    raise ActivityFailed(f"exec failed: {message or status}")


def exec_in(core: client.CoreV1Api, pod: str, namespace: str, container: str | None, script: str,
            timeout: float = 30) -> tuple[int, str, str]:
    """Run ``sh -c script`` in the container; returns (exit status, stdout, stderr)."""
    try:
        resp = stream(core.connect_get_namespaced_pod_exec, pod, namespace, container=container,
                      command=["sh", "-c", script], stderr=True, stdin=False, stdout=True, tty=False,
                      _preload_content=False)
    except ApiException as exc:
        raise kube.api_error(exc, f"exec in pod {namespace}/{pod}") from None
    try:
        resp.run_forever(timeout=timeout)
        out, err = resp.read_stdout() or "", resp.read_stderr() or ""
        return _exit_code(resp.read_channel(ERROR_CHANNEL)), out, err
    finally:
        resp.close()


def _container_of(pod: Any, container: str | None) -> str:
    names = [c.name for c in pod.spec.containers]
    if container is None:
        return str(names[0])
    if container not in names:
        raise ActivityFailed(f"'container' {container!r} is not in pod {pod.metadata.name} ({', '.join(names)})")
    return container


def _start_script(stress: Stress) -> str:
    args = [shlex.quote(a) for a in stress.argv("/tmp")]
    args[args.index("/tmp")] = '"${TMPDIR:-/tmp}"'  # the container's temp dir, expanded in it
    cmd = " ".join(args)
    # the background stress-ng outlives this exec session; its pid is what undo kills
    return (f"command -v stress-ng >/dev/null 2>&1 || exit {MISSING}\n"
            f"{cmd} </dev/null >/dev/null 2>&1 &\necho $!")


def apply(service: str, count: int, namespace: str, label_selector: str | None, container: str | None,
          stress: Stress, fault_id: str, expires: dict[str, str], configuration: Configuration,
          secrets: Secrets, record: Any) -> dict[str, Any]:
    pods = workloads.pods_of(service, namespace, label_selector, configuration, secrets)
    guardrails.check_replica_share(count, len(pods), f"pods of {service!r}", configuration)
    candidates = workloads.ready_pods(pods)
    if len(candidates) < count:
        raise ActivityFailed(f"only {len(candidates)} pods of {service!r} are Ready; cannot stress {count}")
    core = _core(configuration=configuration, secrets=secrets)
    undo_args: dict[str, Any] = {"namespace": namespace, "pods": [], "context": kube.current_context(secrets)}
    stressed = []
    for pod in random.sample(candidates, count):
        name, target = pod.metadata.name, _container_of(pod, container)
        sized, sizing = _fit_memory(core, name, namespace, target, stress)
        code, out, err = exec_in(core, name, namespace, target, _start_script(sized))
        if code == MISSING:
            raise ToolMissing(f"container {target!r} of pod {namespace}/{name} has no stress-ng: "
                                 "install it in the image (see cluster/services/Dockerfile)")
        if code != 0 or not out.strip().isdigit():
            raise ActivityFailed(f"starting stress-ng in {namespace}/{name} failed ({code}): {err or out}")
        pid = int(out.strip())
        undo_args["pods"].append({"pod": name, "uid": pod.metadata.uid, "container": target, "pid": pid})
        record(undo_args)
        _annotate(core, name, namespace, {**expires, PID_ANNOTATION: f"{target}:{pid}"})
        stressed.append({"pod": name, "container": target, "node": pod.spec.node_name, "stressor_pid": pid,
                         **({"memory_sizing": sizing} if sizing else {})})
    return {"pods": stressed}


OOM_GROUP_MARGIN = 24 * 2**20
"""Bytes left free under the container's limit when the whole container is one OOM group: room
for the service's own growth and stress-ng's own processes."""

_CGROUP_SCRIPT = ("g=/sys/fs/cgroup; if [ -f $g/memory.oom.group ]; then "
                  "echo v2 $(cat $g/memory.oom.group) $(cat $g/memory.max) $(cat $g/memory.current); "
                  "else echo v1; fi")


def _fit_memory(core: client.CoreV1Api, pod: str, namespace: str, container: str,
                stress: Stress) -> tuple[Stress, dict[str, Any] | None]:
    """A memory stress sized for the container's cgroup. On cgroup v2 the kubelet makes each
    container one OOM group (memory.oom.group = 1): an OOM kill there kills every process of the
    container, the service included, so the stressor cannot be the lone victim as it is on cgroup
    v1. There the stressor is capped to the headroom under memory.max (less a margin), so it puts
    the container under reclaim pressure without an OOM kill; the record says so."""
    if stress.kind != "memory":
        return stress, None
    code, out, err = exec_in(core, pod, namespace, container, _CGROUP_SCRIPT)
    if code != 0:
        raise ActivityFailed(f"reading the memory cgroup of {namespace}/{pod} failed ({code}): {err or out}")
    fields = out.split()
    return fit_memory(stress, fields)


def fit_memory(stress: Stress, fields: list[str]) -> tuple[Stress, dict[str, Any] | None]:
    """``fields``: ``v1`` or ``v2 <memory.oom.group> <memory.max> <memory.current>`` as read in the
    container. Returns the stress to run and, on cgroup v2, how it was sized."""
    if not fields or fields[0] != "v2":
        return stress, None
    if len(fields) != 4:
        raise ActivityFailed(f"unexpected memory cgroup reading: {' '.join(fields)!r}")
    _, group, limit, current = fields
    sizing: dict[str, Any] = {"cgroup": "v2", "oom_group": group == "1", "limit_bytes": limit,
                              "usage_bytes": int(current), "requested_bytes": stress.size_bytes * stress.workers}
    if group != "1" or limit == "max":
        return stress, sizing
    headroom = int(limit) - int(current) - OOM_GROUP_MARGIN
    if headroom < stress.workers * 2**20:
        raise ActivityFailed(
            f"the container uses {int(current) / 2**20:.0f} MiB of its {int(limit) / 2**20:.0f} MiB limit and is "
            "one OOM group (cgroup v2): no room for a stressor that would not OOM-kill the service")
    per_worker = min(stress.size_bytes, headroom // stress.workers)
    sizing["size_bytes_per_worker"] = per_worker
    sizing["capped"] = per_worker < stress.size_bytes
    return dataclasses.replace(stress, size_bytes=per_worker), sizing


def _annotate(core: client.CoreV1Api, pod: str, namespace: str, annotations: dict[str, str | None]) -> None:
    try:
        core.patch_namespaced_pod(pod, namespace, {"metadata": {"annotations": annotations}})
    except ApiException as exc:
        if exc.status != 404:
            raise kube.api_error(exc, f"annotating pod {namespace}/{pod}") from None


def _stop(core: client.CoreV1Api, pod: str, namespace: str, container: str, pid: int) -> str:
    """Stop stress-ng (pid) in the container; 'stopped', 'not running' or 'pod gone'."""
    # a zombie still answers `kill -0`: alive means a /proc entry whose state is not Z
    alive = f'alive() {{ [ -r /proc/{pid}/stat ] && read -r _ _ st _ < /proc/{pid}/stat && [ "$st" != Z ]; }}'
    script = (f"{alive}\nif alive; then kill -TERM {pid}; "
              f"i=0; while alive && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; "
              f"alive && kill -KILL {pid}; echo stopped; else echo not running; fi")
    try:
        code, out, err = exec_in(core, pod, namespace, container, script)
    except ActivityFailed as exc:
        if "404" in str(exc) or "not found" in str(exc).lower():
            return "pod gone"
        raise
    if code != 0:
        raise ActivityFailed(f"stopping stress-ng in {namespace}/{pod} failed ({code}): {err or out}")
    return out.strip()


@undoer("stress.pods")
def undo(namespace: str, pods: list[dict[str, Any]], context: str | None = None) -> list[dict[str, Any]]:
    """Stop every stressor and drop the pods' stress annotations (idempotent)."""
    core = _core(context)
    done = []
    for entry in pods:
        try:
            current = core.read_namespaced_pod(entry["pod"], namespace)
        except ApiException as exc:
            if exc.status == 404:
                done.append({**entry, "result": "pod gone"})
                continue
            raise kube.api_error(exc, f"reading pod {namespace}/{entry['pod']}") from None
        uid = current.metadata.uid if current.metadata else None
        if uid != entry.get("uid", uid):
            done.append({**entry, "result": "pod replaced"})
            continue
        result = _stop(core, entry["pod"], namespace, entry["container"], int(entry["pid"]))
        _annotate(core, entry["pod"], namespace,
                  {kube.FAULT_ANNOTATION: None, kube.EXPIRES_ANNOTATION: None, PID_ANNOTATION: None})
        done.append({**entry, "result": result})
    return done


def find_leftovers(context: str | None = None) -> list[dict[str, Any]]:
    """Pods still annotated with a stressor (a run killed before its rollback)."""
    try:
        pods = _core(context).list_pod_for_all_namespaces().items
    except ApiException as exc:
        raise kube.api_error(exc, "listing the pods of every namespace (stressed pods)") from None
    rows = []
    for pod in pods:
        meta: Any = pod.metadata
        marks = meta.annotations or {}
        if PID_ANNOTATION not in marks:
            continue
        container, _, pid = marks[PID_ANNOTATION].rpartition(":")
        rows.append({"namespace": meta.namespace, "pod": meta.name, "uid": meta.uid,
                     "container": container, "pid": int(pid), "fault_id": marks.get(kube.FAULT_ANNOTATION, "")})
    return rows


def remove_leftovers(context: str | None = None, dry_run: bool = False) -> list[dict[str, Any]]:
    found = find_leftovers(context)
    if not dry_run:
        for row in found:
            undo(row["namespace"], [row], context)
    return found


def stress_replicas(request: StressRequest, configuration: Configuration, secrets: Secrets) -> dict[str, Any]:
    """The driver's entry (``StressDriver``): the container's own limits apply; ``cpu_limit`` and
    ``memory_limit`` are checked only, so an experiment runs unchanged on either target."""
    parse_cpus(request.cpu_limit, "cpu_limit")
    if request.memory_limit is not None:
        parse_bytes(request.memory_limit, "memory_limit")
    stress, service = request.stress, request.service
    ns = kube.namespace_of(request.namespace, configuration)
    expires_at = time.time() + stress.seconds
    marker = FaultMarker(id=markers.new_id(FAMILY), family=FAMILY, kind=stress.kind, target=f"pods/{ns}/{service}",
                         scope={"service": service, "namespace": ns}, description=request.describe(),
                         undo="stress.pods", undo_args={"namespace": ns, "pods": []}, expires_at=expires_at)

    def apply_pods() -> dict[str, Any]:
        done = apply(service, request.count, ns, request.label_selector, request.container, stress, marker.id,
                     kube.expiry_annotations(marker.id, expires_at), configuration, secrets,
                     record=lambda args: engine.record(marker, **args))
        return {"target": "kubernetes", "namespace": ns, "stress": stress.to_json(),
                "limits": "the container's own (resources.limits)", **done}

    return engine.activate(marker, apply_pods)
