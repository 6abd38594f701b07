"""Resource stress on Kubernetes, through the real kube-apiserver's pods/exec.

KWOK plays the kubelet's exec endpoint and runs the exec'd command on this machine (see
chaosext/localkube/stages.py), so the stress-ng these tests start is a real process here: the
tests find it by the pid the fault recorded and check it is gone after the rollback and after
``chaosext cleanup``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from chaoslib.exceptions import ActivityFailed
from interrupt_support import sigkilled_after
from kube.helpers import Kube, live_cmdline
from kubernetes import client
from stack_support import chaosext
from support import wait_until

from chaosext.faults import markers
from chaosext.stress import actions, probes
from chaosext.stress.kubernetes import PID_ANNOTATION, _exit_code

pytestmark = pytest.mark.kube


@pytest.fixture(autouse=True)
def _kubeconfig(kube: Kube, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(kube.kubeconfig))


def _cfg(namespace: str) -> dict[str, Any]:
    return {"target": "kubernetes", "namespace": namespace}


def _deployment(kube: Kube, namespace: str, name: str = "payment-service", replicas: int = 2) -> None:
    labels = {"app.kubernetes.io/name": name}
    body = client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1DeploymentSpec(
            replicas=replicas, selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[client.V1Container(name="app", image="example.invalid/app:1")]),
            ),
        ),
    )
    kube.apps.create_namespaced_deployment(namespace, body)
    wait_until(
        f"{name} to have {replicas} ready pods",
        lambda: kube.core.list_namespaced_pod(namespace, label_selector=f"app.kubernetes.io/name={name}").items,
        timeout=90,
        done=lambda pods: sum(1 for p in pods if any(c.type == "Ready" and c.status == "True"
                                                     for c in (p.status.conditions or []))) == replicas,
    )




def _stressed_pods(kube: Kube, namespace: str) -> dict[str, str]:
    pods = kube.core.list_namespaced_pod(namespace).items
    return {p.metadata.name: p.metadata.annotations[PID_ANNOTATION] for p in pods
            if PID_ANNOTATION in (p.metadata.annotations or {})}


def test_cpu_stress_runs_stress_ng_through_exec_and_rollback_stops_it(kube: Kube, namespace: str) -> None:
    _deployment(kube, namespace)
    result = actions.stress_cpu("payment-service", workers=1, load=5, duration=120, configuration=_cfg(namespace))
    (pod,) = result["changed"]["pods"]
    pid = pod["stressor_pid"]
    assert pod["container"] == "app"
    cmd = wait_until("stress-ng to run", lambda: live_cmdline(pid), timeout=10, done=lambda c: c is not None and "stress-ng" in c)
    assert cmd is not None and "--cpu 1 --cpu-load 5 --timeout 120s --temp-path /tmp" in cmd
    assert _stressed_pods(kube, namespace) == {pod["pod"]: f"app:{pid}"}
    annotations = kube.core.read_namespaced_pod(pod["pod"], namespace).metadata.annotations
    assert annotations["chaosext.io/fault-id"] == result["id"]
    status = probes.stress_status("payment-service")
    assert [row["pods"][0]["pid"] for row in status] == [pid]

    removed = actions.remove_stress("payment-service")
    assert [r["id"] for r in removed] == [result["id"]]
    wait_until("stress-ng to stop", lambda: live_cmdline(pid), timeout=10, done=lambda c: c is None)
    assert _stressed_pods(kube, namespace) == {}
    assert markers.list_markers(family="stress") == []


def test_sigkill_then_cleanup_stops_the_stressor_even_without_its_marker(kube: Kube, namespace: str) -> None:
    """The run is SIGKILLed right after the fault and its marker is lost too (worst case):
    `chaosext cleanup` finds the stressed pod by its annotation and stops stress-ng in it."""
    _deployment(kube, namespace)
    code = ("import json, os, signal; from chaosext.stress import actions; "
            f"r = actions.stress_memory('payment-service', size='8Mi', duration=300, configuration={_cfg(namespace)!r}); "
            "print(json.dumps(r['changed']), flush=True); os.kill(os.getpid(), signal.SIGKILL)")
    proc = sigkilled_after(code)  # KUBECONFIG: set for the session by the kube fixture
    pid = json.loads(proc.stdout)["pods"][0]["stressor_pid"]
    cmd = live_cmdline(pid)
    assert cmd is not None and f"--vm 1 --vm-bytes {8 * 2**20} --vm-keep --timeout 300s" in cmd
    for marker in markers.list_markers(family="stress"):
        markers.delete(marker.id)

    out = chaosext("cleanup", "--kube", timeout=120)
    report = "".join(out.stderr.split())  # the table wraps long rows
    assert "stress" in report and f"pid={pid}," in report and "1leftoverfault(s)removed" in report
    wait_until("stress-ng to stop", lambda: live_cmdline(pid), timeout=10, done=lambda c: c is None)
    assert _stressed_pods(kube, namespace) == {}


def test_bad_arguments_and_guardrails_change_nothing(kube: Kube, namespace: str) -> None:
    _deployment(kube, namespace)
    with pytest.raises(ActivityFailed, match="'workers'"):
        actions.stress_cpu("payment-service", workers=0, configuration=_cfg(namespace))
    with pytest.raises(ActivityFailed, match="'load'"):
        actions.stress_cpu("payment-service", load=150, configuration=_cfg(namespace))
    with pytest.raises(ActivityFailed, match="'size'"):
        actions.stress_memory("payment-service", size="lots", configuration=_cfg(namespace))
    with pytest.raises(ActivityFailed, match="'duration'"):
        actions.stress_cpu("payment-service", duration=-1, configuration=_cfg(namespace))
    with pytest.raises(ActivityFailed, match="share|all replicas"):
        actions.stress_cpu("payment-service", count=2, configuration=_cfg(namespace))
    with pytest.raises(ActivityFailed, match="'container'"):
        actions.stress_cpu("payment-service", container="sidecar", configuration=_cfg(namespace))
    assert _stressed_pods(kube, namespace) == {}
    assert markers.list_markers(family="stress") == []


def test_exec_exit_status_from_kubelet_and_kwok() -> None:
    kubelet = {"status": "Failure", "reason": "NonZeroExitCode",
               "details": {"causes": [{"reason": "ExitCode", "message": "127"}]}}
    kwok = {"status": "Failure", "message": "Internal error occurred: cmd wait: sh -c x: exit status 3"}
    assert _exit_code(json.dumps(kubelet)) == 127
    assert _exit_code(json.dumps(kwok)) == 3
    assert _exit_code(json.dumps({"status": "Success"})) == 0
    with pytest.raises(ActivityFailed, match="exec failed"):
        _exit_code(json.dumps({"status": "Failure", "message": "container not found"}))
