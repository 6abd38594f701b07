"""The sample stack's manifests: rendered by kustomize and checked object by object (static), then
validated and applied by the real kube-apiserver through the workflow's own deploy step (kube)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from cluster.helpers import REPO, VENV_BIN, load_yaml, render, run, script, shown

BASE = REPO / "cluster" / "base"
KIND = REPO / "cluster" / "overlays" / "kind"
LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/version",
)
WORKLOADS = ("Deployment", "StatefulSet")


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    return render(KIND)


def _by(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def test_the_stack_has_every_component(objects: list[dict[str, Any]]) -> None:
    deployments, sets = _by(objects, "Deployment"), _by(objects, "StatefulSet")
    assert set(deployments) == {
        "checkout-api",
        "payment-service",
        "order-consumer",
        "toxiproxy",
        "redis",
        "chaosext-dns",
        "prometheus",
    }
    assert set(sets) == {"kafka"}
    assert sets["kafka"]["spec"]["replicas"] == 3
    assert deployments["checkout-api"]["spec"]["replicas"] == 2
    assert deployments["payment-service"]["spec"]["replicas"] == 2
    assert {o["metadata"]["namespace"] for o in objects if o["kind"] != "Namespace"} == {"chaosext"}


def test_every_object_and_pod_template_has_the_recommended_labels(objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        labels = obj["metadata"].get("labels", {})
        assert all(labels.get(k) for k in LABELS), (obj["kind"], obj["metadata"]["name"], labels)
        assert labels["app.kubernetes.io/part-of"] == "chaosext-checkout"
        if obj["kind"] in (*WORKLOADS, "Job"):
            template = obj["spec"]["template"]["metadata"]["labels"]
            assert all(template.get(k) for k in LABELS), (obj["metadata"]["name"], template)


def test_workloads_have_probes_resources_and_pinned_images(objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        if obj["kind"] not in (*WORKLOADS, "Job"):
            continue
        for c in _containers(obj):
            name = f"{obj['metadata']['name']}/{c['name']}"
            image = c["image"]
            assert re.match(r"^[\w./-]+:[\w.-]+$", image) and not image.endswith(":latest"), name
            assert {"cpu", "memory"} <= set(c["resources"]["requests"]), name
            assert "memory" in c["resources"]["limits"], name
            assert c["securityContext"]["allowPrivilegeEscalation"] is False, name
            if obj["kind"] != "Job":
                assert "readinessProbe" in c and "livenessProbe" in c, name


def test_pod_disruption_budgets_protect_the_replicated_services(objects: list[dict[str, Any]]) -> None:
    pdbs = _by(objects, "PodDisruptionBudget")
    assert pdbs["checkout-api"]["spec"]["minAvailable"] == 1
    assert pdbs["payment-service"]["spec"]["minAvailable"] == 1
    assert pdbs["kafka"]["spec"]["maxUnavailable"] == 1
    workloads = {**_by(objects, "Deployment"), **_by(objects, "StatefulSet")}
    for name, pdb in pdbs.items():
        assert pdb["spec"]["selector"]["matchLabels"] == workloads[name]["spec"]["selector"]["matchLabels"]


def test_services_select_their_pods(objects: list[dict[str, Any]]) -> None:
    templates = [o["spec"]["template"]["metadata"]["labels"] for o in objects if o["kind"] in WORKLOADS]
    for svc in _by(objects, "Service").values():
        selector = svc["spec"]["selector"]
        assert any(
            all(t.get(k) == v for k, v in selector.items() if not k.startswith("statefulset"))
            for t in templates
        ), svc["metadata"]["name"]


def test_payment_tls_and_the_dependency_path(objects: list[dict[str, Any]]) -> None:
    deployments = _by(objects, "Deployment")
    payment = deployments["payment-service"]["spec"]["template"]["spec"]
    assert {"name": "tls", "secret": {"secretName": "payment-tls"}} in payment["volumes"]
    env = {e["name"]: e.get("value") for e in payment["containers"][0]["env"]}
    assert env["TLS_CERT_FILE"].startswith("/etc/chaosext/tls/")
    checkout = {
        e["name"]: e.get("value")
        for e in deployments["checkout-api"]["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    consumer = {
        e["name"]: e.get("value")
        for e in deployments["order-consumer"]["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    dns_ip = _by(objects, "Service")["chaosext-dns"]["spec"]["clusterIP"]
    assert checkout["DNS_SERVER"] == consumer["DNS_SERVER"] == f"{dns_ip}:53"
    assert urlparse(checkout["PAYMENT_URL"]).port == 18443
    assert urlparse(consumer["CAPTURE_URL"]).port == 18446
    proxies = json.loads((BASE / "toxiproxy" / "toxiproxy.json").read_text())
    assert {p["name"]: p["listen"].rsplit(":", 1)[1] for p in proxies} == {
        "payment": "18443",
        "capture": "18446",
    }
    toxi_ip = _by(objects, "Service")["toxiproxy"]["spec"]["clusterIP"]
    records = (BASE / "dns" / "records.zone").read_text()
    assert f"payment.chaosext.test. 5 IN A {toxi_ip}" in records


def test_prometheus_scrapes_every_pod_that_serves_metrics(objects: list[dict[str, Any]]) -> None:
    config = yaml.safe_load((BASE / "prometheus" / "prometheus.yml").read_text())
    job = config["scrape_configs"][0]
    assert job["kubernetes_sd_configs"][0]["role"] == "pod"
    relabels = {r.get("target_label") for r in job["relabel_configs"]}
    assert {"job", "replica", "__address__", "__scheme__"} <= relabels
    annotated = {
        o["metadata"]["name"]
        for o in objects
        if o["kind"] in WORKLOADS
        and o["spec"]["template"]["metadata"].get("annotations", {}).get("prometheus.io/scrape") == "true"
    }
    assert annotated == {
        "checkout-api",
        "payment-service",
        "order-consumer",
        "toxiproxy",
        "chaosext-dns",
        "prometheus",
    }


def test_kind_config_ports_match_the_nodeports_and_the_target(objects: list[dict[str, Any]]) -> None:
    kind = load_yaml(REPO / "cluster" / "kind" / "kind-config.yaml")
    roles = [n["role"] for n in kind["nodes"]]
    assert roles == ["control-plane", "worker", "worker"]
    mapped = {
        (m["containerPort"], m.get("protocol", "TCP")): m["hostPort"]
        for m in kind["nodes"][0]["extraPortMappings"]
    }
    node_ports = {
        (p["nodePort"], p.get("protocol", "TCP"))
        for s in _by(objects, "Service").values()
        if s["spec"].get("type") == "NodePort"
        for p in s["spec"]["ports"]
    }
    assert node_ports == set(mapped)
    target = load_yaml(REPO / "cluster" / "targets" / "kind.yaml")["configuration"]
    host_ports = set(mapped.values())
    for key in ("checkout_url", "toxiproxy_url", "prometheus_url", "dns_control_url"):
        assert urlparse(target[key]).port in host_ports, key
    assert int(target["dns_server"].rsplit(":", 1)[1]) in host_ports
    assert {int(b.rsplit(":", 1)[1]) for b in target["kafka_bootstrap"].split(",")} <= host_ports
    assert target["target"] == "kubernetes" and target["namespace"] == "chaosext"


def test_kafka_start_script_computes_ids_and_listeners(tmp_path: Path) -> None:
    """The broker start script, run with a stand-in for the image's run script."""
    fake_run = tmp_path / "run"
    fake_run.write_text(
        "#!/usr/bin/env bash\n"
        'echo "$KAFKA_NODE_ID|$KAFKA_CONTROLLER_QUORUM_VOTERS|$KAFKA_ADVERTISED_LISTENERS"\n'
    )
    fake_run.chmod(0o755)
    text = (BASE / "kafka" / "start.sh").read_text().replace("/etc/kafka/docker/run", str(fake_run))
    start = tmp_path / "start.sh"
    start.write_text(text)
    proc = run(["bash", str(start)], env={"HOSTNAME": "kafka-2", "POD_NAMESPACE": "chaosext"})
    assert proc.returncode == 0, shown(proc)
    node_id, voters, advertised = proc.stdout.strip().splitlines()[-1].split("|")
    assert node_id == "3"
    assert voters.split(",")[0] == "1@kafka-0.kafka-headless.chaosext.svc.cluster.local:9093"
    assert len(voters.split(",")) == 3
    assert advertised.endswith("EXTERNAL://127.0.0.1:19094")
    bad = run(["bash", str(start)], env={"HOSTNAME": "kafka", "POD_NAMESPACE": "chaosext"})
    assert bad.returncode == 2 and "ordinal" in bad.stderr


def test_deploy_rejects_bad_arguments_before_touching_anything() -> None:
    for args, needle in (
        (["--image-tag", "latest"], "latest"),
        (["--image-tag", "a b"], "image tag"),
        (["--timeout", "soon"], "--timeout"),
        (["--overlay", "/nowhere"], "--overlay"),
        (["--bogus"], "unknown argument"),
    ):
        proc = script("ci-deploy.sh", *args, env={"KUBECONFIG": "/nonexistent/kubeconfig"})
        assert proc.returncode == 2, shown(proc)
        assert needle in proc.stderr, shown(proc)
        assert "rendering" not in proc.stdout


def test_dns_forwarder_arguments_are_flags_the_server_accepts(objects: list[dict[str, Any]]) -> None:
    """The forwarder runs `python -m chaosext.dns.server` with the manifest's args: each flag must exist."""
    dns = _by(objects, "Deployment")["chaosext-dns"]["spec"]["template"]["spec"]["containers"][0]
    assert dns["command"] == ["python", "-m", "chaosext.dns.server"]
    proc = run([str(VENV_BIN / "python"), "-m", "chaosext.dns.server", "--help"])
    assert proc.returncode == 0, shown(proc)
    flags = [arg.split("=", 1)[0] for arg in dns["args"]]
    assert "--faults-file" in flags
    missing = [flag for flag in flags if flag not in proc.stdout]
    assert not missing, f"chaosext.dns.server does not accept {missing}"
