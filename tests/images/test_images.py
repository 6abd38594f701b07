"""The container images, run for real with Docker.

scripts/ci-build-images.sh builds them the way a machine that cannot pull does (the local Python
base, the stand-ins for the third-party images), then every container is started as its manifest in
cluster/base starts it (rendered by kustomize): image, command and args, environment, user,
read-only root, capabilities dropped, ConfigMaps and Secrets as read-only files, emptyDirs as
volumes that survive a container restart. What differs from a cluster is named where it happens
(one Kafka broker instead of three, names resolved by Docker's network instead of cluster DNS).
Skipped only when `docker info` fails.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dns.message
import dns.query
import dns.rdatatype
import pytest
import requests
import yaml
from support import wait_until

REPO = Path(__file__).resolve().parents[2]
BASE = REPO / "cluster" / "base"
STAND_INS = REPO / "cluster" / "images" / "stand-ins"
NAMESPACE = "chaosext"
TAG = "pytest"
PYTHON_BASE = "chaosext/python:3.11-bookworm"
KAFKA_CLUSTER_NAME = f"kafka-0.kafka-headless.{NAMESPACE}.svc.cluster.local"
PAYMENT_NAME = "payment.chaosext.test"


def _docker_answers() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


pytestmark = pytest.mark.skipif(
    not _docker_answers(), reason="`docker info` fails: no Docker engine here (scripts/kind-docker.sh up starts one)"
)


def docker(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, f"docker {' '.join(args)}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


# --- the manifests ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    proc = subprocess.run(["kubectl", "kustomize", str(BASE)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def _pod_spec(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    for obj in objects:
        if obj["kind"] == kind and obj["metadata"]["name"] == name:
            return dict(obj["spec"]["template"]["spec"])
    raise AssertionError(f"no {kind} {name} in the rendered manifests")


def _config_maps(objects: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    return {o["metadata"]["name"]: o.get("data", {}) for o in objects if o["kind"] == "ConfigMap"}


class Containers:
    """Containers on one Docker network, started from the manifests; all removed at the end."""

    def __init__(self, prefix: str, files: Path) -> None:
        self.prefix = prefix
        self.network = f"{prefix}-net"
        self.files = files
        self.names: list[str] = []
        self.networks = [self.network, f"{prefix}-alone"]
        for network in self.networks:
            docker("network", "create", network)

    def name(self, short: str) -> str:
        return f"{self.prefix}-{short}"

    def start(
        self,
        short: str,
        objects: list[dict[str, Any]],
        kind: str,
        workload: str,
        *,
        pod_name: str,
        env: dict[str, str | None] | None = None,
        secrets: dict[str, dict[str, bytes]] | None = None,
        aliases: tuple[str, ...] = (),
        extra: tuple[str, ...] = (),
        command: list[str] | None = None,
        detach: bool = True,
        alone: bool = False,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        """`docker run` of the workload's first container as its pod spec says (see the module doc);
        `alone`: on a network of its own, where none of the other containers is reachable."""
        spec = _pod_spec(objects, kind, workload)
        container = spec["containers"][0]
        name = self.name(short)
        network = self.networks[1] if alone else self.network
        args = ["run", "--name", name, "--network", network, "--hostname", pod_name]
        args += [f"--network-alias={a}" for a in aliases]
        pod_sc, sc = spec.get("securityContext", {}), container.get("securityContext", {})
        if "runAsUser" in pod_sc:
            args += ["--user", f"{pod_sc['runAsUser']}:{pod_sc.get('runAsGroup', pod_sc['runAsUser'])}"]
        if sc.get("readOnlyRootFilesystem"):
            args.append("--read-only")
        if "ALL" in sc.get("capabilities", {}).get("drop", []):
            args += ["--cap-drop", "ALL"]
        if sc.get("allowPrivilegeEscalation") is False:
            args += ["--security-opt", "no-new-privileges"]
        args += self._volumes(spec, container, _config_maps(objects), secrets or {}, short)
        for port in container.get("ports", []):
            args += ["-p", f"127.0.0.1::{port['containerPort']}/{port.get('protocol', 'TCP').lower()}"]
        values = {e["name"]: self._env_value(e, pod_name) for e in container.get("env", [])}
        for key, value in (env or {}).items():
            if value is None:
                values.pop(key, None)
            else:
                values[key] = value
        for key, value in values.items():
            args += ["-e", f"{key}={value}"]
        image = container["image"]
        if image.startswith("chaosext/"):
            image = f"{image.rsplit(':', 1)[0]}:{TAG}"
        cmd = command if command is not None else container.get("command")
        if cmd:
            args += ["--entrypoint", cmd[0]]
        args += [*extra, "-d" if detach else "--rm", image]
        if cmd:
            args += cmd[1:]
        args += container.get("args", []) if command is None else []
        self.names.append(name)
        return docker(*args, timeout=timeout, check=detach)

    @staticmethod
    def _env_value(entry: dict[str, Any], pod_name: str) -> str:
        if "value" in entry:
            return str(entry["value"])
        path = entry["valueFrom"]["fieldRef"]["fieldPath"]
        return {"metadata.name": pod_name, "metadata.namespace": NAMESPACE}[path]

    def _volumes(
        self,
        spec: dict[str, Any],
        container: dict[str, Any],
        config_maps: dict[str, dict[str, str]],
        secrets: dict[str, dict[str, bytes]],
        short: str,
    ) -> list[str]:
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        args: list[str] = []
        for mount in container.get("volumeMounts", []):
            volume = volumes[mount["name"]]
            if "emptyDir" in volume:
                # an emptyDir outlives a container restart: a volume, removed with the container
                args += ["--mount", f"type=volume,dst={mount['mountPath']}"]
                continue
            if "configMap" in volume:
                source = volume["configMap"]["name"]
                data: dict[str, bytes] = {k: v.encode() for k, v in config_maps.get(source, {}).items()}
                data.update(secrets.get(source, {}))  # ConfigMaps made at deploy time (chaosext-ca)
                mode = volume["configMap"].get("defaultMode", 0o644)
            else:
                source = volume["secret"]["secretName"]
                data = secrets[source]
                mode = volume["secret"].get("defaultMode", 0o644)
            assert data, f"no data for volume {mount['name']} ({source})"
            folder = self.files / short / mount["name"]
            folder.mkdir(parents=True)
            for key, content in data.items():
                (folder / key).write_bytes(content)
                (folder / key).chmod(mode)
            folder.chmod(0o755)
            args += ["-v", f"{folder}:{mount['mountPath']}:ro"]
        return args

    def port(self, short: str, container_port: int, protocol: str = "tcp") -> int:
        out = docker("port", self.name(short), f"{container_port}/{protocol}").stdout
        return int(out.splitlines()[0].rsplit(":", 1)[1])

    def logs(self, short: str) -> str:
        proc = docker("logs", "--tail", "60", self.name(short), check=False)
        return f"--- last logs of {self.name(short)} ---\n{proc.stdout}{proc.stderr}"

    def exec(self, short: str, *cmd: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return docker("exec", self.name(short), *cmd, timeout=timeout, check=False)

    def stop(self, short: str) -> None:
        docker("rm", "-f", "-v", self.name(short), check=False)

    def remove(self) -> None:
        for name in self.names:
            docker("rm", "-f", "-v", name, check=False)
        for network in self.networks:
            docker("network", "rm", network, check=False)


# --- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built() -> str:
    """Every image, built (or found in Docker's cache) by the build step with the offline options."""
    proc = subprocess.run(
        ["bash", str(REPO / "scripts" / "ci-build-images.sh"), "--tag", TAG, "--base-image", PYTHON_BASE,
         "--stand-ins"],
        capture_output=True, text=True, timeout=3000, cwd=REPO,
    )
    assert proc.returncode == 0, f"ci-build-images.sh: exit {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The CA and payment-service's certificate, made as the deploy step makes them."""
    out = tmp_path_factory.mktemp("tls")
    proc = subprocess.run([sys.executable, str(REPO / "cluster" / "ci" / "make_tls.py"), "--out", str(out)],
                          capture_output=True, text=True, timeout=120, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr
    return {p.name: p.read_bytes() for p in out.iterdir()}


@pytest.fixture(scope="module")
def secrets(tls: dict[str, bytes]) -> dict[str, dict[str, bytes]]:
    """The objects scripts/ci-make-tls.sh creates outside kustomize."""
    return {
        "payment-tls": {"tls.crt": tls["tls.crt"], "tls.key": tls["tls.key"]},
        "chaosext-ca": {"ca.crt": tls["ca.crt"]},
    }


@pytest.fixture(scope="module")
def pods(built: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Containers]:
    containers = Containers(f"chaosext-images-{uuid.uuid4().hex[:8]}", tmp_path_factory.mktemp("volumes"))
    yield containers
    containers.remove()


def _tcp_open(pods: Containers, short: str, port: int) -> bool:
    """The manifests' tcpSocket probe, from inside the container."""
    return pods.exec(short, "bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{port}").returncode == 0


# Kafka as the StatefulSet's kafka-0, alone: a 1-voter quorum, replication factors 1
SINGLE_BROKER = {
    "KAFKA_REPLICAS": "1",
    "KAFKA_DEFAULT_REPLICATION_FACTOR": "1",
    "KAFKA_MIN_INSYNC_REPLICAS": "1",
    "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
    "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
    "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
    # an extra property through the variable-name mapping: `__` -> `_`, `___` -> `-`
    "KAFKA_CHAOSEXT__PROBE___KEY": "42",
}


@pytest.fixture(scope="module")
def kafka(pods: Containers, objects: list[dict[str, Any]]) -> str:
    """kafka-0 started by the manifest's own start.sh (ConfigMap kafka-start), single broker."""
    pods.start("kafka", objects, "StatefulSet", "kafka", pod_name="kafka-0", env=SINGLE_BROKER,
               aliases=(KAFKA_CLUSTER_NAME, "kafka"))
    wait_until(
        "Kafka's client port (the readiness probe)",
        lambda: _tcp_open(pods, "kafka", 9092),
        timeout=180,
        on_timeout=lambda: pods.logs("kafka"),
    )
    return "kafka"


@pytest.fixture(scope="module")
def topics(pods: Containers, objects: list[dict[str, Any]], kafka: str) -> subprocess.CompletedProcess[str]:
    """The kafka-topics Job's own script in the image, its replication adapted to one broker."""
    spec = _pod_spec(objects, "Job", "kafka-topics")
    command = list(spec["containers"][0]["command"])
    script = command[-1]
    assert "--replication-factor 3" in script and "min.insync.replicas=2" in script, script
    command[-1] = script.replace("--replication-factor 3", "--replication-factor 1").replace(
        "min.insync.replicas=2", "min.insync.replicas=1")
    return pods.start("topics", objects, "Job", "kafka-topics", pod_name="kafka-topics-x", command=command,
                      detach=False, timeout=300)


@pytest.fixture(scope="module")
def redis(pods: Containers, objects: list[dict[str, Any]]) -> str:
    pods.start("redis", objects, "Deployment", "redis", pod_name="redis-0", aliases=("redis",))
    wait_until(
        "redis-cli ping (the readiness probe)",
        lambda: pods.exec("redis", "redis-cli", "ping").stdout.strip() == "PONG",
        timeout=60,
        on_timeout=lambda: pods.logs("redis"),
    )
    return "redis"


def _https_get(port: int, path: str, ca: bytes, server_name: str) -> tuple[int, Any]:
    """GET over TLS to 127.0.0.1:port, verifying the certificate for `server_name` against `ca`."""
    context = ssl.create_default_context(cadata=ca.decode())
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.sock = context.wrap_socket(raw, server_hostname=server_name)
    try:
        conn.request("GET", path, headers={"Host": server_name})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def _http_get(port: int, path: str) -> tuple[int, Any]:
    response = requests.get(f"http://127.0.0.1:{port}{path}", timeout=5)
    return response.status_code, response.json()


# --- the images and their names ---------------------------------------------------------------------


def _stand_in_labels() -> dict[str, str]:
    """Dockerfile -> the image it stands in for (its io.chaosext.stand-in-for label)."""
    labels = {}
    for dockerfile in sorted(STAND_INS.glob("*.Dockerfile")):
        found = re.search(r'io\.chaosext\.stand-in-for="([^"]+)"', dockerfile.read_text())
        assert found, f"{dockerfile} has no io.chaosext.stand-in-for label"
        labels[dockerfile.name] = found.group(1)
    return labels


def _inspect(image: str) -> dict[str, Any]:
    return dict(json.loads(docker("image", "inspect", image).stdout)[0])


def test_the_stand_ins_are_exactly_the_third_party_images_of_the_manifests(
    built: str, objects: list[dict[str, Any]]
) -> None:
    used = {
        c["image"]
        for o in objects if o["kind"] in ("Deployment", "StatefulSet", "Job")
        for c in o["spec"]["template"]["spec"]["containers"]
        if not c["image"].startswith("chaosext/")
    }
    assert used == {"apache/kafka:4.1.1", "redis:7.4.2", "prom/prometheus:v3.5.0", "ghcr.io/shopify/toxiproxy:2.12.0",
                    "haproxy:2.6.21"}
    assert set(_stand_in_labels().values()) == used
    for image in used:
        labels = _inspect(image)["Config"]["Labels"]
        assert labels["io.chaosext.stand-in-for"] == image
        assert re.fullmatch(r"\d+\.\d+\.\d+", labels["org.opencontainers.image.version"]), labels
    assert re.search(r"^stand-ins=.*apache/kafka:4\.1\.1", built, re.MULTILINE), built[-2000:]


@pytest.mark.parametrize(
    ("image", "entrypoint", "cmd", "user"),
    [
        ("apache/kafka:4.1.1", None, ["/etc/kafka/docker/run"], "appuser"),
        ("redis:7.4.2", ["docker-entrypoint.sh"], ["redis-server"], ""),
        ("prom/prometheus:v3.5.0", ["/bin/prometheus"],
         ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"], "nobody"),
        ("ghcr.io/shopify/toxiproxy:2.12.0", ["/toxiproxy"], ["-host=0.0.0.0"], ""),
        ("haproxy:2.6.21", ["docker-entrypoint.sh"], ["haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"], "haproxy"),
    ],
)
def test_each_stand_in_keeps_the_official_entry_point_and_user(
    built: str, image: str, entrypoint: list[str] | None, cmd: list[str], user: str
) -> None:
    config = _inspect(image)["Config"]
    assert config["Entrypoint"] == entrypoint
    assert config["Cmd"] == cmd
    assert config["User"] == user


def test_the_official_user_ids_exist_in_the_stand_ins(built: str) -> None:
    def ids(image: str, user: str) -> str:
        return docker("run", "--rm", "--entrypoint", "id", image, "-u", user).stdout.strip()

    assert ids("apache/kafka:4.1.1", "appuser") == "1000"
    assert ids("redis:7.4.2", "redis") == "999"
    assert ids("haproxy:2.6.21", "haproxy") == "99"
    assert ids("prom/prometheus:v3.5.0", "nobody") == "65534"


def test_the_service_images_are_one_dockerfile_with_a_port_and_entry_point_per_service(built: str) -> None:
    for service, port in (("checkout-api", 8081), ("payment-service", 8444), ("order-consumer", 8091)):
        config = _inspect(f"chaosext/{service}:{TAG}")["Config"]
        assert config["Entrypoint"] == ["/usr/bin/tini", "--", "python", "-m", service.replace("-", "_")]
        assert f"PORT={port}" in config["Env"]
        assert list(config["ExposedPorts"]) == [f"{port}/tcp"]
        assert config["User"] == "10001:10001"
        settings = (REPO / "cluster" / "services" / service.replace("-", "_") / "settings.py").read_text()
        assert f"DEFAULT_PORT = {port}\n" in settings  # the image's PORT is the package's default
    assert not list((REPO / "cluster" / "services").glob("*/Dockerfile"))


def test_every_kafka_tool_script_names_a_class_in_the_jars(built: str, tmp_path: Path) -> None:
    image = "apache/kafka:4.1.1"
    listing = docker("run", "--rm", "--entrypoint", "/opt/kafka/bin/kafka-tool.sh", image, "--list").stdout
    tools = dict(line.split() for line in listing.splitlines())
    assert {"kafka-topics.sh", "kafka-storage.sh", "kafka-console-consumer.sh", "kafka-consumer-groups.sh"} <= set(tools)
    container = docker("create", image).stdout.strip()
    try:
        docker("cp", f"{container}:/opt/kafka/libs", str(tmp_path / "libs"))
        linked = docker("run", "--rm", "--entrypoint", "ls", image, "/opt/kafka/bin").stdout.split()
    finally:
        docker("rm", container, check=False)
    classes = set()
    for jar in (tmp_path / "libs").glob("*.jar"):
        with zipfile.ZipFile(jar) as archive:
            classes.update(n[: -len(".class")].replace("/", ".") for n in archive.namelist() if n.endswith(".class"))
    missing = {tool: cls for tool, cls in tools.items() if cls not in classes}
    assert not missing, missing
    assert "kafka.docker.KafkaDockerWrapper" in classes and "kafka.Kafka" in classes
    assert set(tools) <= set(linked), set(tools) - set(linked)


# --- the services and the chaosext image --------------------------------------------------------------


SERVICES = {"checkout-api": 8081, "payment-service": 8444, "order-consumer": 8091}


def _getter(pods: Containers, short: str, service: str, tls: dict[str, bytes]) -> Callable[[str], tuple[int, Any]]:
    """GET path on the service's published port: HTTPS verified as the clients do for payment-service."""
    port = pods.port(short, SERVICES[service])
    if service == "payment-service":
        return lambda path: _https_get(port, path, tls["ca.crt"], PAYMENT_NAME)
    return lambda path: _http_get(port, path)


@pytest.mark.parametrize("service", list(SERVICES))
def test_a_service_image_starts_as_its_manifest_says_and_answers_healthz(
    pods: Containers, objects: list[dict[str, Any]], secrets: dict[str, dict[str, bytes]], tls: dict[str, bytes],
    service: str,
) -> None:
    """No dependency reachable: the process is up and live (/healthz), not ready (/readyz)."""
    short = f"alone-{service}"
    pods.start(short, objects, "Deployment", service, pod_name=f"{service}-alone", secrets=secrets, alone=True)
    get = _getter(pods, short, service, tls)
    try:
        status, body = wait_until(f"{service} /healthz", lambda: get("/healthz"), timeout=60, on_timeout=lambda: pods.logs(short))
        assert (status, body) == (200, {"status": "ok"})
        status, body = get("/readyz")
        assert status == 503 and body["ready"] is False, body
        # PID 1 is tini, the service runs as 10001, stress-ng is there for the stress faults
        assert pods.exec(short, "cat", "/proc/1/comm").stdout.strip() == "tini"
        assert pods.exec(short, "id", "-u").stdout.strip() == "10001"
        proc = pods.exec(short, "sh", "-c", "command -v stress-ng && stress-ng --version")
        assert proc.returncode == 0 and "stress-ng" in proc.stdout, proc.stdout + proc.stderr
    finally:
        pods.stop(short)


def test_the_chaosext_image_serves_the_dns_records_of_its_manifest(
    pods: Containers, objects: list[dict[str, Any]]
) -> None:
    pods.start("dns", objects, "Deployment", "chaosext-dns", pod_name="chaosext-dns-0")
    control = pods.port("dns", 8053)
    status, _ = wait_until(
        "chaosext DNS /healthz",
        lambda: _http_get(control, "/healthz"),
        timeout=60,
        on_timeout=lambda: pods.logs("dns"),
    )
    assert status == 200
    query = dns.message.make_query(PAYMENT_NAME, dns.rdatatype.A)
    answer = dns.query.udp(query, "127.0.0.1", port=pods.port("dns", 5353, "udp"), timeout=5)
    addresses = {item.address for rrset in answer.answer for item in rrset}
    assert addresses == {"10.96.0.74"}  # Toxiproxy's ClusterIP, from the records ConfigMap


# --- the stand-ins --------------------------------------------------------------------------------------


def test_kafka_turns_the_manifests_variables_into_server_properties(pods: Containers, kafka: str) -> None:
    text = pods.exec(kafka, "cat", "/opt/kafka/config/server.properties").stdout
    props = dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))
    assert props["node.id"] == "1"  # kafka-0, from start.sh
    assert props["controller.quorum.voters"] == f"1@{KAFKA_CLUSTER_NAME}:9093"
    assert props["advertised.listeners"] == f"PLAINTEXT://{KAFKA_CLUSTER_NAME}:9092,EXTERNAL://127.0.0.1:19092"
    assert props["listeners"] == "PLAINTEXT://:9092,CONTROLLER://:9093,EXTERNAL://:9094"
    assert props["auto.create.topics.enable"] == "false"
    assert props["num.partitions"] == "3"
    assert props["log.dirs"] == "/var/lib/kafka/data"
    assert props["chaosext_probe-key"] == "42"
    assert not [k for k in props if "heap" in k or "opts" in k], props  # JVM settings, not properties
    java = pods.exec(kafka, "cat", "/proc/1/cmdline").stdout.split("\0")
    assert java[0].endswith("java") and "kafka.Kafka" in java, java
    assert "-Xmx384m" in java and "-Xms256m" in java, java
    assert pods.exec(kafka, "id", "-u").stdout.strip() == "1000"


def test_the_topics_job_creates_and_describes_the_topics(
    pods: Containers, topics: subprocess.CompletedProcess[str]
) -> None:
    assert topics.returncode == 0, topics.stdout + topics.stderr
    assert "Created topic orders." in topics.stdout and "Created topic orders.dlq." in topics.stdout, topics.stdout
    assert re.search(r"Topic: orders\s+TopicId: \S+\s+PartitionCount: 3\s+ReplicationFactor: 1", topics.stdout), topics.stdout
    listed = pods.exec("kafka", "/opt/kafka/bin/kafka-topics.sh", "--bootstrap-server", "localhost:9092", "--list")
    assert set(listed.stdout.split()) >= {"orders", "orders.dlq"}, listed.stdout + listed.stderr


def test_redis_runs_the_manifests_args_and_answers_other_pods(pods: Containers, redis: str) -> None:
    assert pods.exec(redis, "redis-cli", "config", "get", "maxmemory").stdout.split() == ["maxmemory", "100663296"]
    assert pods.exec(redis, "redis-cli", "config", "get", "save").stdout.split() == ["save"]
    # from another container, no password: protected mode is off as in the official image
    other = docker("run", "--rm", "--network", pods.network, "--user", "999:999", "redis:7.4.2",
                   "redis-cli", "-h", "redis", "ping").stdout.strip()
    assert other == "PONG"
    assert pods.exec(redis, "id", "-u").stdout.strip() == "999"


def test_prometheus_loads_the_clusters_config_and_becomes_ready(
    pods: Containers, objects: list[dict[str, Any]], secrets: dict[str, dict[str, bytes]], tmp_path: Path,
    tls: dict[str, bytes],
) -> None:
    # what the kubelet adds to every pod: the API server's address and the service account's files
    account = tmp_path / "serviceaccount"
    account.mkdir()
    for name, content in (("token", b"not-a-real-token"), ("ca.crt", tls["ca.crt"]), ("namespace", NAMESPACE.encode())):
        (account / name).write_bytes(content)
        (account / name).chmod(0o644)
    account.chmod(0o755)
    pods.start("prometheus", objects, "Deployment", "prometheus", pod_name="prometheus-0", secrets=secrets,
               env={"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": "6443"},
               extra=("-v", f"{account}:/var/run/secrets/kubernetes.io/serviceaccount:ro"))
    port = pods.port("prometheus", 9090)
    wait_until(
        "Prometheus /-/ready (the readiness probe)",
        lambda: requests.get(f"http://127.0.0.1:{port}/-/ready", timeout=5).status_code == 200,
        timeout=90,
        on_timeout=lambda: pods.logs("prometheus"),
    )
    assert requests.get(f"http://127.0.0.1:{port}/-/healthy", timeout=5).status_code == 200
    build = requests.get(f"http://127.0.0.1:{port}/api/v1/status/buildinfo", timeout=5).json()["data"]
    assert build["version"] == "3.5.0"
    loaded = yaml.safe_load(requests.get(f"http://127.0.0.1:{port}/api/v1/status/config", timeout=5).json()["data"]["yaml"])
    job = loaded["scrape_configs"][0]
    assert job["job_name"] == "pods" and job["kubernetes_sd_configs"][0]["namespaces"]["own_namespace"] is True
    assert job["tls_config"]["ca_file"] == "/etc/chaosext/ca/ca.crt"
    checked = pods.exec("prometheus", "/bin/promtool", "check", "config", "/etc/prometheus/prometheus.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert pods.exec("prometheus", "id", "-u").stdout.strip() == "65534"


def test_toxiproxy_serves_its_api_and_the_proxies_of_its_config(pods: Containers, objects: list[dict[str, Any]]) -> None:
    pods.start("toxiproxy", objects, "Deployment", "toxiproxy", pod_name="toxiproxy-0")
    port = pods.port("toxiproxy", 8474)
    version = wait_until(
        "Toxiproxy GET /version (the readiness probe)",
        lambda: requests.get(f"http://127.0.0.1:{port}/version", timeout=5),
        timeout=60,
        on_timeout=lambda: pods.logs("toxiproxy"),
    )
    assert version.status_code == 200
    proxies = requests.get(f"http://127.0.0.1:{port}/proxies", timeout=5).json()
    assert {name: (p["listen"].rsplit(":", 1)[1], p["upstream"], p["enabled"]) for name, p in proxies.items()} == {
        "payment": ("18443", "127.0.0.1:28443", True),  # payment-lb, beside Toxiproxy
        "capture": ("18446", "127.0.0.1:28443", True),
    }
    metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert metrics.status_code == 200 and "go_goroutines" in metrics.text  # -runtime-metrics
    assert pods.exec("toxiproxy", "/toxiproxy-cli", "--help").returncode == 0


def test_the_services_become_ready_with_kafka_and_redis(
    pods: Containers, objects: list[dict[str, Any]], secrets: dict[str, dict[str, bytes]], tls: dict[str, bytes],
    kafka: str, redis: str, topics: subprocess.CompletedProcess[str],
) -> None:
    """The manifests' KAFKA_BOOTSTRAP (kafka:9092) and REDIS_URL (redis:6379) reach the stand-ins."""
    assert topics.returncode == 0, topics.stdout + topics.stderr
    for service in SERVICES:
        pods.start(f"ready-{service}", objects, "Deployment", service, pod_name=f"{service}-ready", secrets=secrets)
    for service in SERVICES:
        short = f"ready-{service}"
        get = _getter(pods, short, service, tls)

        def ready(get: Callable[[str], tuple[int, Any]] = get) -> dict[str, Any] | None:
            status, body = get("/readyz")
            return dict(body) if status == 200 else None

        body = wait_until(f"{service} /readyz", ready, timeout=120, on_timeout=lambda short=short: pods.logs(short))
        assert body["ready"] is True and body["checks"] and all(body["checks"].values()), body


def test_kafka_restarts_on_its_formatted_log_dir(pods: Containers, kafka: str, topics: subprocess.CompletedProcess[str]) -> None:
    """A container restart keeps the emptyDir: run finds it formatted and starts the broker anyway."""
    assert topics.returncode == 0
    docker("restart", "--time", "30", pods.name(kafka), timeout=120)
    wait_until(
        "Kafka's client port after the restart",
        lambda: _tcp_open(pods, kafka, 9092),
        timeout=180,
        on_timeout=lambda: pods.logs(kafka),
    )
    logs = docker("logs", pods.name(kafka)).stdout
    assert "is already formatted" in logs, logs[-3000:]
    assert logs.count("===> Launching") == 2
    listed = wait_until(
        "the topics after the restart",
        lambda: {"orders", "orders.dlq"} <= set(pods.exec(kafka, "/opt/kafka/bin/kafka-topics.sh", "--bootstrap-server",
                                                            "localhost:9092", "--list").stdout.split()),
        timeout=120,
        on_timeout=lambda: pods.logs(kafka),
    )
    assert listed

