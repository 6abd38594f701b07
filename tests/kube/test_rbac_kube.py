"""Least privilege against the real kube-apiserver, which authorizes with RBAC (--authorization-mode
Node,RBAC, as a real cluster): scripts/ci-runner-identity.sh applies cluster/rbac/ and mints a
TokenRequest token, as the workflow does after deploying; acting as that ServiceAccount,
chaosext's activities work in namespace chaosext, and a request outside its Role is refused by the
API server and reported as an ActivityFailed naming the identity and the missing permission.

Pods are KWOK's: scheduled and Ready, no container runs; KWOK runs an exec'd command on this
machine (so stress-ng, started through pods/exec, is a real process here).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kube.helpers import Kube, live_cmdline
from kubernetes import client, config
from kubernetes.client.rest import ApiException
from support import wait_until

from chaosext import kube as chaoskube
from chaosext.certificate import probes as certificate_probes
from chaosext.certificate.material import new_ca
from chaosext.config import kubernetes as config_k8s
from chaosext.faults import markers
from chaosext.instance import actions as instance_actions
from chaosext.instance import kubernetes as instance_k8s
from chaosext.kafka import kubernetes as kafka_k8s
from chaosext.kube_permissions import PermissionRefused
from chaosext.localkube.paths import bin_dir
from chaosext.rollout import actions as rollout_actions
from chaosext.stress import actions as stress_actions
from chaosext.stress.kubernetes import PID_ANNOTATION, exec_in

pytestmark = pytest.mark.kube

REPO = Path(__file__).resolve().parents[2]
NAMESPACE = "chaosext"
USER = "system:serviceaccount:chaosext:chaosext-runner"
APP = "rbac-app"
BROKERS = "rbac-kafka"
CONFIGMAP = "rbac-config"
TLS_SECRET = "payment-tls"  # one of the Secrets role.yaml names
TOLERATE_KWOK = [client.V1Toleration(key="kwok.x-k8s.io/node", operator="Exists", effect="NoSchedule")]


@dataclass
class Runner:
    """The runner identity the script wrote: its kubeconfig, context and the script's output."""

    kubeconfig: Path
    context: str
    stdout: str
    stderr: str
    github_env: str
    github_output: str

    def api(self) -> client.ApiClient:
        return config.new_client_from_config(config_file=str(self.kubeconfig))

    def configuration(self, namespace: str = NAMESPACE) -> dict[str, Any]:
        """What an experiment gets from a var file: this target, only the runner's context allowed."""
        return {"target": "kubernetes", "namespace": namespace, "allowed_contexts": [self.context]}


def _tools_env() -> dict[str, str]:
    """kubectl of the control plane's own version first on PATH (the node build ships one)."""
    node = bin_dir() / "node"
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    if (node / "kubectl").exists():
        path = f"{node}{os.pathsep}{path}"
    return {**os.environ, "PATH": path}


def _ready_pods(kube: Kube, selector: str) -> list[Any]:
    pods = kube.core.list_namespaced_pod(NAMESPACE, label_selector=selector).items
    return [p for p in pods if p.metadata.deletion_timestamp is None
            and any(c.type == "Ready" and c.status == "True" for c in (p.status.conditions or []))]


def _template(labels: dict[str, str]) -> client.V1PodTemplateSpec:
    return client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels=labels),
        spec=client.V1PodSpec(containers=[client.V1Container(name="app", image="example.invalid/app:1")],
                              tolerations=TOLERATE_KWOK, termination_grace_period_seconds=0),
    )


@pytest.fixture(scope="module")
def workloads(kube: Kube) -> Iterator[None]:
    """Namespace chaosext (created if absent, then removed) with, made by the admin: a 3-replica
    Deployment, a 2-replica StatefulSet, a ConfigMap and the TLS Secret the Role names."""
    existed = any(ns.metadata.name == NAMESPACE for ns in kube.core.list_namespace().items)
    if not existed:
        kube.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NAMESPACE)))
    labels = {"app.kubernetes.io/name": APP}
    kube.apps.create_namespaced_deployment(NAMESPACE, client.V1Deployment(
        metadata=client.V1ObjectMeta(name=APP, labels=labels),
        spec=client.V1DeploymentSpec(replicas=3, selector=client.V1LabelSelector(match_labels=labels),
                                     template=_template(labels))))
    broker_labels = {"app.kubernetes.io/name": BROKERS}
    kube.apps.create_namespaced_stateful_set(NAMESPACE, client.V1StatefulSet(
        metadata=client.V1ObjectMeta(name=BROKERS, labels=broker_labels),
        spec=client.V1StatefulSetSpec(replicas=2, service_name=BROKERS, pod_management_policy="Parallel",
                                      selector=client.V1LabelSelector(match_labels=broker_labels),
                                      template=_template(broker_labels))))
    kube.core.create_namespaced_config_map(NAMESPACE, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name=CONFIGMAP), data={"config.json": '{"timeout_ms": 800}'}))
    secret_made = False
    try:
        kube.core.read_namespaced_secret(TLS_SECRET, NAMESPACE)
    except ApiException as exc:
        assert exc.status == 404, exc
        kube.core.create_namespaced_secret(NAMESPACE, client.V1Secret(
            metadata=client.V1ObjectMeta(name=TLS_SECRET), type="kubernetes.io/tls",
            string_data={"tls.crt": new_ca("rbac-test").pem.decode(), "tls.key": "not used by the probe"}))
        secret_made = True
    wait_until(f"3 Ready pods of {APP}", lambda: _ready_pods(kube, f"app.kubernetes.io/name={APP}"),
               timeout=120, done=lambda pods: len(pods) == 3)
    wait_until(f"2 Ready pods of {BROKERS}", lambda: _ready_pods(kube, f"app.kubernetes.io/name={BROKERS}"),
               timeout=120, done=lambda pods: len(pods) == 2)
    yield
    if not existed:
        kube.core.delete_namespace(NAMESPACE)
        wait_until(f"namespace {NAMESPACE} gone",
                   lambda: [n for n in kube.core.list_namespace().items if n.metadata.name == NAMESPACE],
                   timeout=180, done=lambda found: not found)
        return
    kube.apps.delete_namespaced_deployment(APP, NAMESPACE)
    kube.apps.delete_namespaced_stateful_set(BROKERS, NAMESPACE)
    kube.core.delete_namespaced_config_map(CONFIGMAP, NAMESPACE)
    if secret_made:
        kube.core.delete_namespaced_secret(TLS_SECRET, NAMESPACE)
    subprocess.run(["kubectl", "delete", "-k", str(REPO / "cluster" / "rbac"), "--ignore-not-found"],
                   env={**_tools_env(), "KUBECONFIG": str(kube.kubeconfig)}, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def runner(kube: Kube, workloads: None, tmp_path_factory: pytest.TempPathFactory) -> Runner:
    """scripts/ci-runner-identity.sh run as the workflow runs it: the admin's kubeconfig in
    KUBECONFIG, GITHUB_ENV and GITHUB_OUTPUT files, RUNNER_TEMP for the new kubeconfig."""
    work = tmp_path_factory.mktemp("identity")
    files = {name: work / name.lower() for name in ("GITHUB_ENV", "GITHUB_OUTPUT")}
    for path in files.values():
        path.write_text("")
    (work / "temp").mkdir()
    env = {**_tools_env(), "KUBECONFIG": str(kube.kubeconfig), "RUNNER_TEMP": str(work / "temp"),
           **{name: str(path) for name, path in files.items()}}
    env.pop("KUBERNETES_CONTEXT", None)
    proc = subprocess.run(["bash", str(REPO / "scripts" / "ci-runner-identity.sh"), "--duration-minutes", "15"],
                          env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("KUBECONFIG="), proc.stdout
    path = Path(last.removeprefix("KUBECONFIG="))
    admin_context = config.list_kube_config_contexts(str(kube.kubeconfig))[1]["name"]
    return Runner(kubeconfig=path, context=f"{admin_context}-runner", stdout=proc.stdout, stderr=proc.stderr,
                  github_env=files["GITHUB_ENV"].read_text(), github_output=files["GITHUB_OUTPUT"].read_text())


@pytest.fixture
def as_runner(runner: Runner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Runner:
    """chaosext in this process acts as the runner (KUBECONFIG is read at each call); fault markers
    private to the test."""
    monkeypatch.setenv("KUBECONFIG", str(runner.kubeconfig))
    monkeypatch.delenv("KUBERNETES_CONTEXT", raising=False)
    monkeypatch.setenv("CHAOSEXT_STATE_DIR", str(tmp_path / "state"))
    return runner


# ---- the identity the script made ------------------------------------------------------------------
def test_the_script_writes_a_private_kubeconfig_for_the_service_account_and_never_prints_the_token(
    runner: Runner, kube: Kube
) -> None:
    doc = yaml.safe_load(runner.kubeconfig.read_text())
    token = doc["users"][0]["user"]["token"]
    assert token.count(".") == 2, "not a JWT"  # a bound ServiceAccount token
    assert token not in runner.stdout and token not in runner.stderr
    assert token not in runner.github_env and token not in runner.github_output
    assert doc["current-context"] == runner.context
    assert [c["name"] for c in doc["contexts"]] == [runner.context]
    assert "client-certificate-data" not in doc["users"][0]["user"]  # nothing of the admin's credentials
    assert stat.S_IMODE(runner.kubeconfig.stat().st_mode) == 0o600
    assert stat.S_IMODE(runner.kubeconfig.parent.stat().st_mode) == 0o700
    assert f"KUBECONFIG={runner.kubeconfig}\n" in runner.github_env
    assert f"kubeconfig={runner.kubeconfig}\n" in runner.github_output
    assert f"context={runner.context}\n" in runner.github_output
    assert f"admin-kubeconfig={kube.kubeconfig}\n" in runner.github_output
    with runner.api() as api:
        review: Any = client.AuthenticationV1Api(api).create_self_subject_review(client.V1SelfSubjectReview())
    assert review.status.user_info.username == USER


def _can(api: client.ApiClient, verb: str, resource: str, namespace: str | None, name: str | None = None) -> bool:
    """The API server's own answer (SelfSubjectAccessReview) for the runner."""
    group = "apps" if resource.split("/")[0] in ("deployments", "statefulsets") else ""
    plain, _, sub = resource.partition("/")
    review: Any = client.AuthorizationV1Api(api).create_self_subject_access_review(client.V1SelfSubjectAccessReview(
        spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=client.V1ResourceAttributes(
            verb=verb, group=group, resource=plain, subresource=sub or None, namespace=namespace, name=name))))
    return bool(review.status.allowed)


def test_the_api_server_grants_every_namespaced_call_of_the_table_and_no_cluster_wide_one(runner: Runner) -> None:
    rows = yaml.safe_load((REPO / "cluster" / "rbac" / "api-calls.yaml").read_text())["calls"]
    with runner.api() as api:
        for row in rows:
            name = TLS_SECRET if row["resource"] == "secrets" else None
            for verb in row["verbs"]:
                if row["scope"] == "namespace":
                    assert _can(api, verb, row["resource"], NAMESPACE, name), (row["method"], verb)
                    assert not _can(api, verb, row["resource"], "default", name), (row["method"], verb)
                else:
                    assert not _can(api, verb, row["resource"], None), (row["method"], verb)
        # nothing beyond the table: a few neighbours of what it grants
        assert not _can(api, "get", "secrets", NAMESPACE, "redis-password")
        assert _can(api, "get", "secrets", NAMESPACE, "chaosext-ca")
        assert not _can(api, "patch", "secrets", NAMESPACE, "chaosext-ca")
        assert not _can(api, "list", "secrets", NAMESPACE)
        assert not _can(api, "watch", "pods", NAMESPACE)
        assert not _can(api, "update", "deployments", NAMESPACE)
        assert not _can(api, "delete", "configmaps", NAMESPACE)
        assert not _can(api, "create", "pods/attach", NAMESPACE)
        assert not _can(api, "create", "rolebindings", NAMESPACE)


# ---- chaosext's activities as the runner ----------------------------------------------------------
def test_a_pod_kill_and_a_rolling_restart_work_as_the_runner(as_runner: Runner, kube: Kube) -> None:
    selector = f"app.kubernetes.io/name={APP}"
    before = {p.metadata.name for p in _ready_pods(kube, selector)}
    result = instance_actions.kill_instances(APP, count=1, configuration=as_runner.configuration())
    (victim,) = [k["pod"] for k in result["killed"]]
    assert victim in before
    wait_until("the killed pod replaced", lambda: {p.metadata.name for p in _ready_pods(kube, selector)},
               timeout=120, done=lambda now: len(now) == 3 and victim not in now)
    restarted = rollout_actions.restart_workload(APP, namespace=NAMESPACE, timeout=120,
                                                 configuration=as_runner.configuration())
    assert restarted["rollout"]["complete"] is True
    template = kube.apps.read_namespaced_deployment(APP, NAMESPACE).spec.template.metadata.annotations
    assert template["kubectl.kubernetes.io/restartedAt"] == restarted["restarted_at"]


def test_scaling_through_the_scale_subresource_works_as_the_runner(as_runner: Runner, kube: Kube) -> None:
    before = instance_k8s.scale("deployment", APP, NAMESPACE, 2, configuration=as_runner.configuration())
    assert before == 3 and kube.apps.read_namespaced_deployment(APP, NAMESPACE).spec.replicas == 2
    assert instance_k8s.scale("deployment", APP, NAMESPACE, 3, context=as_runner.context) == 2
    wait_until(f"3 Ready pods of {APP}", lambda: _ready_pods(kube, f"app.kubernetes.io/name={APP}"),
               timeout=120, done=lambda pods: len(pods) == 3)


def test_a_broker_held_down_by_a_placeholder_pod_and_released_as_the_runner(as_runner: Runner, kube: Kube) -> None:
    """kafka lose_brokers' Kubernetes part: the StatefulSet read, a broker pod deleted and its name
    taken by a gated placeholder pod the runner creates, then released (deleted)."""
    _, by_ordinal = kafka_k8s.broker_pods(BROKERS, NAMESPACE, as_runner.configuration(), None)
    victim = by_ordinal[0].metadata.name
    fault_id = f"kafka-{uuid.uuid4().hex[:8]}"
    held = kafka_k8s.delete_and_hold(fault_id, BROKERS, NAMESPACE, [victim], 0, time.time() + 300,
                                     "example.invalid/held:1", as_runner.context, timeout=60)
    assert held["deleted"][0]["pod"] == victim
    pod = kube.core.read_namespaced_pod(victim, NAMESPACE)
    assert pod.metadata.labels[kafka_k8s.HOLD_LABEL] == BROKERS and pod.spec.scheduling_gates
    kafka_k8s.release(fault_id, BROKERS, NAMESPACE, as_runner.context)
    wait_until("the broker back from its StatefulSet", lambda: _ready_pods(kube, f"app.kubernetes.io/name={BROKERS}"),
               timeout=120, done=lambda pods: victim in {p.metadata.name for p in pods}
               and not any(kafka_k8s.HOLD_LABEL in (p.metadata.labels or {}) for p in pods))


def test_a_consumer_paused_through_its_deployment_as_the_runner(as_runner: Runner, kube: Kube) -> None:
    """kafka pause_consumer's Kubernetes part: the Deployment annotated, scaled to 0, its status read
    until no replica is left, then scaled back."""
    fault_id = f"kafka-{uuid.uuid4().hex[:8]}"
    before = kafka_k8s.consumer_replicas(APP, NAMESPACE, as_runner.configuration(), None)
    kafka_k8s.scale_consumer(fault_id, APP, NAMESPACE, 0, before, time.time() + 300, as_runner.context)
    kafka_k8s.wait_no_pods(APP, NAMESPACE, as_runner.configuration(), None, timeout=120)
    kafka_k8s.restore_consumer(fault_id, APP, NAMESPACE, before, as_runner.context)
    dep = kube.apps.read_namespaced_deployment(APP, NAMESPACE)
    assert dep.spec.replicas == 3 and kafka_k8s.REPLICAS_ANNOTATION not in (dep.metadata.annotations or {})
    wait_until(f"3 Ready pods of {APP}", lambda: _ready_pods(kube, f"app.kubernetes.io/name={APP}"),
               timeout=120, done=lambda pods: len(pods) == 3)


def test_configmap_and_secret_reads_and_writes_work_as_the_runner(as_runner: Runner, kube: Kube) -> None:
    config_k8s.write(CONFIGMAP, NAMESPACE, "config.json", '{"timeout_ms": 100}', "config-rbac",
                     configuration=as_runner.configuration())
    data, value = config_k8s.read(CONFIGMAP, NAMESPACE, "config.json", as_runner.configuration())
    assert value == '{"timeout_ms": 100}'
    config_k8s.write(CONFIGMAP, NAMESPACE, "config.json", '{"timeout_ms": 800}', None, context=as_runner.context)
    assert kube.core.read_namespaced_config_map(CONFIGMAP, NAMESPACE).data["config.json"] == '{"timeout_ms": 800}'
    shown = certificate_probes.secret_certificate(TLS_SECRET, NAMESPACE, as_runner.configuration())
    assert shown["secret"] == f"{NAMESPACE}/{TLS_SECRET}" and shown["certificate"]["serial"]


def test_stress_started_through_pods_exec_and_stopped_as_the_runner(as_runner: Runner, kube: Kube) -> None:
    """stress_cpu/remove_stress: pods listed, stress-ng started and stopped through pods/exec (KWOK
    runs it on this machine), the pod annotated and the annotation removed."""
    result = stress_actions.stress_cpu(APP, workers=1, load=1, duration=60, configuration=as_runner.configuration())
    (pod,) = result["changed"]["pods"]
    pid = int(pod["stressor_pid"])
    assert "stress-ng" in (live_cmdline(pid) or ""), f"no stress-ng with pid {pid}"
    annotations = kube.core.read_namespaced_pod(pod["pod"], NAMESPACE).metadata.annotations
    assert annotations[PID_ANNOTATION] == f"{pod['container']}:{pid}"
    stress_actions.remove_stress(APP, configuration=as_runner.configuration())
    wait_until(f"stress-ng {pid} gone", lambda: live_cmdline(pid), timeout=30, done=lambda line: line is None)
    assert PID_ANNOTATION not in (kube.core.read_namespaced_pod(pod["pod"], NAMESPACE).metadata.annotations or {})
    assert markers.list_markers(family="stress") == []




# ---- requests outside the Role ---------------------------------------------------------------------
def _refused(exc: BaseException, verb: str, resource: str, namespace: str | None) -> PermissionRefused:
    assert isinstance(exc, PermissionRefused), f"{type(exc).__name__}: {exc}"
    assert (exc.user, exc.verb, exc.resource, exc.namespace) == (USER, verb, resource, namespace), str(exc)
    text = str(exc)
    assert USER in text and repr(verb) in text and repr(resource) in text and "403" in text, text
    assert (f"in namespace {namespace!r}" if namespace else "at the cluster scope") in text, text
    return exc


def test_activities_outside_the_role_are_refused_naming_the_missing_permission(
    as_runner: Runner, kube: Kube, namespace: str
) -> None:
    """``namespace`` is another namespace (the Role is chaosext's): pods, a TLS Secret of the same
    name and a pod exec there are refused, as are an unnamed Secret in chaosext and the
    cluster-wide listing of `chaosext cleanup`'s sweep."""
    kube.core.create_namespaced_secret(namespace, client.V1Secret(
        metadata=client.V1ObjectMeta(name=TLS_SECRET), string_data={"tls.crt": new_ca("other").pem.decode()}))
    other = as_runner.configuration(namespace)
    with pytest.raises(PermissionRefused) as caught:
        instance_actions.kill_instances(APP, count=1, configuration=other)
    _refused(caught.value, "list", "pods", namespace)
    with pytest.raises(PermissionRefused) as caught:
        certificate_probes.secret_certificate(TLS_SECRET, namespace, other)
    _refused(caught.value, "get", "secrets", namespace)
    kube.core.create_namespaced_secret(NAMESPACE, client.V1Secret(
        metadata=client.V1ObjectMeta(name=f"unlisted-{namespace}"), string_data={"tls.crt": "x"}))
    try:
        with pytest.raises(PermissionRefused) as caught:
            certificate_probes.secret_certificate(f"unlisted-{namespace}", NAMESPACE, as_runner.configuration())
        _refused(caught.value, "get", "secrets", NAMESPACE)
    finally:
        kube.core.delete_namespaced_secret(f"unlisted-{namespace}", NAMESPACE)
    # pods/exec goes over a WebSocket: the refusal comes back inside the handshake error
    with as_runner.api() as api, pytest.raises(PermissionRefused) as caught:
        exec_in(client.CoreV1Api(api), "any-pod", namespace, None, "echo never")
    _refused(caught.value, "get", "pods/exec", namespace)
    with pytest.raises(PermissionRefused) as caught:
        kafka_k8s.find_leftovers(as_runner.context)
    _refused(caught.value, "list", "pods", None)


def test_cluster_objects_are_refused_and_reported_naming_the_missing_permission(
    as_runner: Runner, kube: Kube, namespace: str
) -> None:
    """Deleting a namespace or labelling a node: not chaosext's business, refused by the API server,
    and nothing changed."""
    node = kube.core.list_node().items[0].metadata.name
    with as_runner.api() as api:
        core = client.CoreV1Api(api)
        with pytest.raises(ApiException) as raw:
            core.delete_namespace(namespace)
        # the authorizer sees a namespace object as living in itself (RBAC's namespace attribute)
        _refused(chaoskube.api_error(raw.value, f"deleting namespace {namespace}"), "delete", "namespaces", namespace)
        with pytest.raises(ApiException) as raw:
            core.patch_node(node, {"metadata": {"labels": {"chaosext.io/touched": "yes"}}})
        refused = _refused(chaoskube.api_error(raw.value, f"labelling node {node}"), "patch", "nodes", None)
    assert str(refused).startswith(f"labelling node {node}: refused by the API server")
    assert kube.core.read_namespace(namespace).status.phase == "Active"
    assert "chaosext.io/touched" not in (kube.core.read_node(node).metadata.labels or {})


def test_a_refused_activity_is_an_error_naming_the_permission_in_the_journal(
    runner: Runner, namespace: str, tmp_path: Path
) -> None:
    """Through `chaos run`, as the workflow runs experiments: the action fails, and the journal
    says which permission the runner lacks."""
    experiment = {
        "title": "a pod kill outside the runner's Role",
        "description": "used by tests/kube/test_rbac_kube.py",
        "configuration": {"target": "kubernetes", "namespace": namespace,
                          "allowed_contexts": [runner.context]},
        "method": [{"type": "action", "name": "kill-a-pod", "provider": {
            "type": "python", "module": "chaosext.instance.actions", "func": "kill_instances",
            "arguments": {"service": APP, "count": 1}}}],
    }
    path = tmp_path / "experiment.json"
    path.write_text(json.dumps(experiment))
    journal = tmp_path / "journal.json"
    env = {**_tools_env(), "KUBECONFIG": str(runner.kubeconfig), "CHAOSEXT_STATE_DIR": str(tmp_path / "state")}
    env.pop("KUBERNETES_CONTEXT", None)
    chaos = Path(sys.executable).parent / "chaos"
    proc = subprocess.run([str(chaos), "--log-file", str(tmp_path / "chaos.log"), "run", "--journal-path",
                           str(journal), str(path)], env=env, capture_output=True, text=True, timeout=120)
    assert journal.exists(), f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    run = json.loads(journal.read_text())["run"]
    assert run[0]["status"] == "failed", run
    message = "".join(run[0]["exception"])
    assert "PermissionRefused" in message and USER in message, message
    assert f"lacks the permission 'list' on 'pods' (the core API group) in namespace '{namespace}'" in message


# ---- an application of your own in another namespace (app-namespaces) -------------------------
def _identity(kube: Kube, temp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**_tools_env(), "KUBECONFIG": str(kube.kubeconfig), "RUNNER_TEMP": str(temp)}
    env.pop("KUBERNETES_CONTEXT", None)
    return subprocess.run(["bash", str(REPO / "scripts" / "ci-runner-identity.sh"), "--duration-minutes", "15", *args],
                          env=env, capture_output=True, text=True, timeout=180)


def test_the_role_is_granted_in_an_application_namespace_named_with_namespace(
    runner: Runner, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    """``namespace`` stands for the application's: refused to the runner until the script is run
    with --namespace for it, then granted exactly the Role, bound to the same ServiceAccount."""
    with runner.api() as api:
        assert not _can(api, "delete", "pods", namespace)
    proc = _identity(kube, tmp_path, "--namespace", namespace)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    granted = Path(proc.stdout.strip().splitlines()[-1].removeprefix("KUBECONFIG="))
    with config.new_client_from_config(config_file=str(granted)) as api:
        assert _can(api, "delete", "pods", namespace) and _can(api, "patch", "configmaps", namespace)
        assert _can(api, "delete", "pods", NAMESPACE)
        assert not _can(api, "delete", "pods", "default") and not _can(api, "list", "secrets", namespace)
    rbac = client.RbacAuthorizationV1Api(kube.api)
    binding = rbac.read_namespaced_role_binding("chaosext-runner", namespace)
    assert [(s.kind, s.name, s.namespace) for s in binding.subjects] == [("ServiceAccount", "chaosext-runner", NAMESPACE)]
    role = rbac.read_namespaced_role("chaosext-runner", namespace)
    assert role.metadata.labels["app.kubernetes.io/name"] == "chaosext-runner"
    assert role.rules == rbac.read_namespaced_role("chaosext-runner", NAMESPACE).rules


def test_a_bad_or_missing_application_namespace_is_refused_and_changes_nothing(
    kube: Kube, namespace: str, tmp_path: Path
) -> None:
    proc = _identity(kube, tmp_path, "--namespace", "Not_A_Namespace")
    assert proc.returncode == 2 and "--namespace: 'Not_A_Namespace' is not a namespace name" in proc.stderr, proc.stderr
    missing = f"absent-{uuid.uuid4().hex[:8]}"
    proc = _identity(kube, tmp_path, "--namespace", namespace, "--namespace", missing)
    assert proc.returncode == 1 and f"namespace {missing} (--namespace) does not exist" in proc.stderr, proc.stderr
    rbac = client.RbacAuthorizationV1Api(kube.api)
    with pytest.raises(ApiException) as caught:
        rbac.read_namespaced_role_binding("chaosext-runner", namespace)
    assert caught.value.status == 404
    assert not list((tmp_path).glob("chaosext-runner.*")), "no kubeconfig is written when nothing is applied"
