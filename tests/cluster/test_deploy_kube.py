"""The workflow's deploy, wait, evidence and cleanup steps against the real kube-apiserver (KWOK nodes:
pods are scheduled and become Ready, no container runs). Every object passes the API server's own
schema validation and the namespace's restricted Pod Security admission."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cluster.conftest import NAMESPACE, ControlPlane
from cluster.helpers import REPO, load_yaml, run, script, shown
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from kubernetes import client, config

pytestmark = pytest.mark.kube


def _meta(obj: Any) -> client.V1ObjectMeta:
    meta = obj.metadata
    assert isinstance(meta, client.V1ObjectMeta)
    return meta


def _api(cp: ControlPlane) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(cp.kubeconfig))


# the API objects' attributes are Optional in the client's types; these tests read live objects
def _apps(cp: ControlPlane) -> Any:
    return client.AppsV1Api(_api(cp))


def _core(cp: ControlPlane) -> Any:
    return client.CoreV1Api(_api(cp))


def _batch(cp: ControlPlane) -> Any:
    return client.BatchV1Api(_api(cp))


def test_every_workload_is_available_and_the_topics_job_completed(deployed: ControlPlane) -> None:
    apps, batch, core = _apps(deployed), _batch(deployed), _core(deployed)
    deployments = apps.list_namespaced_deployment(NAMESPACE).items
    sets = apps.list_namespaced_stateful_set(NAMESPACE).items
    assert len(deployments) == 7 and len(sets) == 1
    for w in [*deployments, *sets]:
        assert w.status.ready_replicas == w.spec.replicas, w.metadata.name
        assert w.status.observed_generation >= w.metadata.generation
    job = batch.read_namespaced_job("kafka-topics", NAMESPACE)
    assert job.status.succeeded == 1
    pods = core.list_namespaced_pod(NAMESPACE, label_selector="app.kubernetes.io/name=kafka").items
    assert sorted(p.metadata.name for p in pods) == ["kafka-0", "kafka-1", "kafka-2"]
    ns = core.read_namespace(NAMESPACE)
    assert ns.metadata.labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_images_carry_the_deploy_tag(deployed: ControlPlane) -> None:
    apps = _apps(deployed)
    image = apps.read_namespaced_deployment("checkout-api", NAMESPACE).spec.template.spec.containers[0].image
    assert image == "chaosext/checkout-api:0.1.0-test"
    dns = apps.read_namespaced_deployment("chaosext-dns", NAMESPACE).spec.template.spec.containers[0].image
    assert dns == "chaosext/chaosext:0.1.0-test"


def test_payment_certificate_is_signed_by_the_mounted_ca(deployed: ControlPlane) -> None:
    core = _core(deployed)
    secret = core.read_namespaced_secret("payment-tls", NAMESPACE)
    assert secret.type == "kubernetes.io/tls"
    cert = x509.load_pem_x509_certificate(base64.b64decode(secret.data["tls.crt"]))
    ca = x509.load_pem_x509_certificate(
        core.read_namespaced_config_map("chaosext-ca", NAMESPACE).data["ca.crt"].encode()
    )
    public_key = ca.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    algorithm = cert.signature_hash_algorithm
    assert algorithm is not None
    public_key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(algorithm))
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName
    )
    assert "payment.chaosext.test" in names and "payment-service.chaosext.svc" in names


def test_redeploy_is_idempotent_and_keeps_the_tls_material(deployed: ControlPlane, tmp_path: Path) -> None:
    core = _core(deployed)
    before = _meta(core.read_namespaced_secret("payment-tls", NAMESPACE)).resource_version
    proc = script(
        "ci-deploy.sh",
        "--image-tag",
        "0.1.0-test",
        "--timeout",
        "120",
        "--run-dir",
        str(tmp_path),
        env=deployed.env,
        timeout=300,
    )
    assert proc.returncode == 0, shown(proc)
    assert "kept" in proc.stdout
    assert _meta(core.read_namespaced_secret("payment-tls", NAMESPACE)).resource_version == before
    assert (tmp_path / "manifests.yaml").read_text().count("\nkind: ") >= 30


def test_the_api_server_rejects_an_invalid_manifest(deployed: ControlPlane, tmp_path: Path) -> None:
    """The dry run is a real schema check: a wrong type is refused and nothing is created."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        (REPO / "cluster/base/redis/redis.yaml")
        .read_text()
        .replace("name: redis\nspec:\n  replicas: 1", "name: redis-bad\nspec:\n  replicas: one")
    )
    proc = run(["kubectl", "-n", NAMESPACE, "apply", "--dry-run=server", "-f", str(bad)], env=deployed.env)
    assert proc.returncode != 0, shown(proc)
    assert "replicas" in proc.stderr
    apps = _apps(deployed)
    assert "redis-bad" not in [_meta(d).name for d in apps.list_namespaced_deployment(NAMESPACE).items]


def test_wait_ready_names_a_workload_that_never_becomes_available(deployed: ControlPlane) -> None:
    apps = _apps(deployed)
    stuck = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="stuck"),
        spec=client.V1DeploymentSpec(
            replicas=1,
            selector=client.V1LabelSelector(match_labels={"app": "stuck"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "stuck"}),
                spec=client.V1PodSpec(
                    node_selector={"no-such-node": "true"},
                    security_context=client.V1PodSecurityContext(
                        run_as_non_root=True,
                        run_as_user=1000,
                        seccomp_profile=client.V1SeccompProfile(type="RuntimeDefault"),
                    ),
                    containers=[
                        client.V1Container(
                            name="c",
                            image="redis:7.4.2",
                            security_context=client.V1SecurityContext(
                                allow_privilege_escalation=False,
                                capabilities=client.V1Capabilities(drop=["ALL"]),
                            ),
                        )
                    ],
                ),
            ),
        ),
    )
    apps.create_namespaced_deployment(NAMESPACE, stuck)
    try:
        proc = script("ci-wait-ready.sh", "--timeout", "5", env=deployed.env, timeout=120)
        assert proc.returncode == 2, shown(proc)
        assert "deployment.apps/stuck did not become available within 5s" in proc.stderr
    finally:
        apps.delete_namespaced_deployment("stuck", NAMESPACE)


def test_collect_logs_writes_the_evidence(deployed: ControlPlane, tmp_path: Path) -> None:
    proc = script("ci-collect-logs.sh", "--run-dir", str(tmp_path), env=deployed.env, timeout=300)
    assert proc.returncode == 0, shown(proc)
    out = tmp_path / "cluster"
    objects = (out / "objects.txt").read_text()
    for name in (
        "deployment.apps/checkout-api",
        "statefulset.apps/kafka",
        "poddisruptionbudget.policy/kafka",
    ):
        assert name in objects
    assert "kafka-topics" in (out / "workloads.yaml").read_text()
    assert (out / "pods-describe.txt").read_text().count("\nName:") >= 12
    # KWOK runs no container: every pod's log request fails and is noted, not fatal
    assert len(list((out / "pods").glob("*.log"))) >= 12


def test_collect_logs_without_a_cluster_is_not_fatal(tmp_path: Path) -> None:
    proc = script(
        "ci-collect-logs.sh", "--run-dir", str(tmp_path), env={"KUBECONFIG": str(tmp_path / "none")}
    )
    assert proc.returncode == 0, shown(proc)
    assert "no API server reachable" in (tmp_path / "cluster" / "collect-notes.txt").read_text()


def test_run_gate_and_report_on_the_kubernetes_target(deployed: ControlPlane, tmp_path: Path) -> None:
    """The identity, run, gate and report steps as the workflow chains them, against the deployed
    stack: the experiments (a pod kill) run as the least-privilege ServiceAccount of cluster/rbac,
    with the kind var file whose allowed_contexts names the runner's context (here the local
    control plane's, not kind's)."""
    core = _core(deployed)
    selector = "app.kubernetes.io/name=checkout-api"
    before = {p.metadata.name for p in core.list_namespaced_pod(NAMESPACE, label_selector=selector).items}
    (tmp_path / "temp").mkdir()
    proc = script("ci-runner-identity.sh", "--duration-minutes", "10",
                  env={**deployed.env, "RUNNER_TEMP": str(tmp_path / "temp")}, timeout=180)
    assert proc.returncode == 0, shown(proc)
    # the runner's kubeconfig; fault markers private to the test (cleanup below undoes only these)
    runner = {"KUBECONFIG": proc.stdout.strip().splitlines()[-1].removeprefix("KUBECONFIG="),
              "CHAOSEXT_STATE_DIR": str(tmp_path / "state")}
    context = config.list_kube_config_contexts(runner["KUBECONFIG"])[1]["name"]
    assert context == f"{config.list_kube_config_contexts(str(deployed.kubeconfig))[1]['name']}-runner"
    kind_target = load_yaml(REPO / "cluster" / "targets" / "kind.yaml")
    assert kind_target["configuration"]["allowed_contexts"] == ["kind-chaosext-runner"]
    kind_target["configuration"]["allowed_contexts"] = [context]
    var_file = tmp_path / "target.yaml"
    var_file.write_text(json.dumps(kind_target))
    run_dir = tmp_path / "run"
    proc = script(
        "ci-run-experiments.sh",
        "--experiments",
        "tests/cluster/experiments-kube/*.json",
        "--var-file",
        str(var_file),
        "--run-dir",
        str(run_dir),
        env=runner,
        timeout=300,
    )
    assert proc.returncode == 0, shown(proc)
    assert "target kubernetes" in proc.stdout
    journal = json.loads((run_dir / "journals" / "checkout-pod-kill.json").read_text())
    assert journal["status"] == "completed" and journal["deviated"] is False
    after = {p.metadata.name for p in core.list_namespaced_pod(NAMESPACE, label_selector=selector).items}
    assert len(after) == 2 and len(before - after) == 1, (before, after)
    proc = script("ci-gate.sh", "--run-dir", str(run_dir), env=deployed.env)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("verdict=pass"), shown(proc)
    proc = script("ci-report.sh", "--run-dir", str(run_dir), "--artifact", "kube-evidence", env=deployed.env)
    assert proc.returncode == 0, shown(proc)
    assert (run_dir / "job-summary.md").read_text().startswith("## chaosext: PASS")
    # the evidence steps as the workflow calls them after the switch: KUBECONFIG is the runner's,
    # the admin's is passed for reading the namespace (Secrets included) and sweeping every
    # namespace for leftover marks, which the runner may not
    proc = script("ci-collect-logs.sh", "--run-dir", str(run_dir), "--kubeconfig", str(deployed.kubeconfig),
                  env=runner, timeout=300)
    assert proc.returncode == 0, shown(proc)
    assert "secret/payment-tls" in (run_dir / "cluster" / "objects.txt").read_text()
    proc = script("ci-cleanup.sh", "--run-dir", str(run_dir), "--admin-kubeconfig", str(deployed.kubeconfig),
                  env=runner, timeout=300)
    assert proc.returncode == 0 and not (run_dir / "cleanup-failed.txt").exists(), shown(proc)
    assert "chaosext cleanup --kube (marks left in the whole cluster" in proc.stdout
    alone = tmp_path / "runner-alone"
    proc = script("ci-cleanup.sh", "--run-dir", str(alone), env=runner, timeout=300)
    assert proc.returncode == 0 and (alone / "cleanup-failed.txt").exists(), shown(proc)
    refused = " ".join((alone / "cleanup.txt").read_text().split())  # rich wraps long lines
    assert "system:serviceaccount:chaosext:chaosext-runner' lacks the permission 'list' on 'pods'" in refused
    assert "at the cluster scope" in refused
