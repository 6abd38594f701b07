"""Fixtures for the sample-service tests: real redis-server, real TLS files, the stack's real DNS server."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
import requests
from prometheus_client.parser import text_string_to_metric_families
from support import free_port, wait_until

from chaosext.common import procs
from chaosext.common.settings import cache_root

from .helpers import PAYMENT_HOST, REPO, Service, TlsFiles, make_ca
from .kafka_broker import KafkaBroker, kafka_lib


@pytest.fixture(scope="session")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("services")


@pytest.fixture(scope="session")
def redis_url(scratch: Path) -> Iterator[str]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    log = open(scratch / "redis.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--daemonize", "no", "--dir", str(scratch)],
        stdout=log, stderr=subprocess.STDOUT,
    )
    client = redis.Redis(port=port)
    wait_until("redis-server", lambda: client.ping(), timeout=15, interval=0.1)
    yield f"redis://127.0.0.1:{port}/0"
    client.close()
    procs.end(proc)
    log.close()


@pytest.fixture(scope="session")
def tls(scratch: Path) -> TlsFiles:
    directory = scratch / "tls"
    directory.mkdir()
    return make_ca(directory)


class DnsServer:
    def __init__(self, scratch: Path) -> None:
        self.port = free_port()
        self.control_port = free_port()
        self.records = scratch / "dns-records.zone"
        self.set_address("127.0.0.1")
        self.log = open(scratch / "dns.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chaosext.dns.server", "--port", str(self.port),
             "--control-port", str(self.control_port), "--records", str(self.records)],
            cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT,
        )
        wait_until(
            "DNS server",
            lambda: requests.get(f"http://127.0.0.1:{self.control_port}/healthz", timeout=1).ok,
            timeout=20,
            interval=0.1,
        )

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def set_address(self, ip: str) -> None:
        tmp = self.records.with_suffix(".tmp")
        tmp.write_text(f"{PAYMENT_HOST}. 1 IN A {ip}\n")
        tmp.replace(self.records)

    def queries(self) -> float:
        """How many queries for payment.chaosext.test the server has answered."""
        text = requests.get(f"http://127.0.0.1:{self.control_port}/metrics", timeout=5).text
        return sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "dns_queries_total" and sample.labels.get("name", "").startswith("payment")
        )

    def stop(self) -> None:
        procs.end(self.proc)
        self.log.close()


@pytest.fixture(scope="session")
def dns_server(scratch: Path) -> Iterator[DnsServer]:
    server = DnsServer(scratch)
    yield server
    server.stop()


ServiceFactory = Callable[..., Service]


@pytest.fixture
def start_service(tmp_path: Path) -> Iterator[ServiceFactory]:
    """Start a service subprocess; every one started is stopped at the end of the test."""
    started: list[Service] = []

    def factory(package: str, env: dict[str, str], scheme: str = "http", verify: str | bool = True,
                wait_healthy: bool = True) -> Service:
        env = {"PORT": str(free_port()), "LOG_LEVEL": "INFO", **env}
        svc = Service(package, env, tmp_path / f"{package}-{env['PORT']}.log", scheme=scheme, verify=verify)
        started.append(svc)
        return svc.start(wait_healthy=wait_healthy)

    yield factory
    for svc in started:
        svc.stop()


@pytest.fixture
def payment_env(redis_url: str, tls: TlsFiles) -> dict[str, str]:
    return {"REDIS_URL": redis_url, "TLS_CERT_FILE": str(tls.cert), "TLS_KEY_FILE": str(tls.key)}


@pytest.fixture
def flush_redis(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()


class Toxiproxy:
    def __init__(self, scratch: Path, binary: Path) -> None:
        self.port = free_port()
        self.api = f"http://127.0.0.1:{self.port}"
        self.log = open(scratch / "toxiproxy.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen([str(binary), "-host", "127.0.0.1", "-port", str(self.port)],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_until("toxiproxy API", lambda: requests.get(f"{self.api}/version", timeout=1).ok, timeout=20, interval=0.1)

    def proxy(self, name: str, upstream_port: int) -> int:
        """Create (or replace) proxy `name` to 127.0.0.1:upstream_port; returns its listen port."""
        requests.delete(f"{self.api}/proxies/{name}", timeout=5)
        listen = free_port()
        resp = requests.post(f"{self.api}/proxies", timeout=5, json={
            "name": name, "listen": f"127.0.0.1:{listen}", "upstream": f"127.0.0.1:{upstream_port}"})
        resp.raise_for_status()
        return listen

    def latency(self, name: str, ms: int) -> None:
        resp = requests.post(f"{self.api}/proxies/{name}/toxics", timeout=5, json={
            "name": "slow", "type": "latency", "stream": "downstream", "attributes": {"latency": ms}})
        resp.raise_for_status()

    def clear(self, name: str) -> None:
        requests.delete(f"{self.api}/proxies/{name}/toxics/slow", timeout=5)

    def stop(self) -> None:
        procs.end(self.proc)
        self.log.close()


@pytest.fixture(scope="session")
def toxiproxy(scratch: Path) -> Iterator[Toxiproxy]:
    binary = cache_root() / "bin" / "toxiproxy-server"
    if not binary.exists():
        pytest.skip(f"{binary} is not installed (chaosext stack install builds it)")
    proxy = Toxiproxy(scratch, binary)
    yield proxy
    proxy.stop()


@pytest.fixture(scope="session")
def kafka(scratch: Path) -> Iterator[KafkaBroker]:
    lib = kafka_lib(cache_root())
    if lib is None or shutil.which("java") is None:
        pytest.skip("Kafka jars (chaosext stack install) or java are missing")
    broker = KafkaBroker(scratch, lib)
    yield broker
    broker.stop()
