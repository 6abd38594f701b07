"""The local stack's own lifecycle, on real components: up is idempotent, status, DNS faults, down."""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import dns.message
import dns.query
import dns.rdatatype
import pytest
import requests
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from support import wait_until

from chaosext.common import procs as common_procs
from chaosext.stack import lifecycle, procs
from chaosext.stack.config import StackConfig, load_config
from chaosext.stack.kafka import cluster_brokers

pytestmark = pytest.mark.stack

REPO = Path(__file__).resolve().parents[2]
CHAOSEXT = str(Path(sys.executable).parent / "chaosext")

COMPONENTS = {
    "kafka-1",
    "kafka-2",
    "kafka-3",
    "redis",
    "toxiproxy",
    "dns",
    "prometheus",
    "haproxy",
    "payment-service-1",
    "payment-service-2",
    "checkout-api-1",
    "checkout-api-2",
    "order-consumer",
}


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHAOSEXT, "stack", *args], capture_output=True, text=True, timeout=timeout, cwd=REPO
    )


@pytest.fixture(scope="module")
def config() -> StackConfig:
    return load_config()


@pytest.fixture(scope="module")
def stack(config: StackConfig) -> Iterator[dict[str, Any]]:
    yield lifecycle.up(config, progress=lambda line: print(line, flush=True))


def query_a(config: StackConfig, name: str, timeout: float = 5.0) -> tuple[list[str], float]:
    query = dns.message.make_query(name, dns.rdatatype.A)
    start = time.perf_counter()
    answer = dns.query.udp(query, config.host, port=config.ports.dns, timeout=timeout)
    elapsed = time.perf_counter() - start
    return [item.to_text() for rrset in answer.answer for item in rrset], elapsed


def test_up_is_idempotent(config: StackConfig, stack: dict[str, Any]) -> None:
    pids = {c["name"]: c["pid"] for c in stack["components"]}
    start = time.monotonic()
    proc = cli("up", timeout=120)
    elapsed = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr
    assert "all 13 components healthy" in proc.stderr
    assert elapsed < 20, f"a second `stack up` took {elapsed:.1f}s; it should find everything healthy"
    again = {c["name"]: c["pid"] for c in lifecycle.status(config)["components"]}
    assert again == pids, "a second `stack up` restarted programs"


def test_status_json(config: StackConfig, stack: dict[str, Any]) -> None:
    proc = cli("status", "--json", timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    names = {c["name"] for c in report["components"]}
    assert names == COMPONENTS
    for component in report["components"]:
        assert {"name", "healthy", "pid", "state", "log"} <= set(component)
        assert component["healthy"] is True, component
        assert isinstance(component["pid"], int) and component["pid"] > 0
    endpoints = report["endpoints"]
    p = config.ports
    assert endpoints["checkout"] == f"http://127.0.0.1:{p.checkout}"
    assert endpoints["payment"] == f"https://127.0.0.1:{p.payment}"
    assert endpoints["prometheus"] == f"http://127.0.0.1:{p.prometheus}"
    assert endpoints["toxiproxy"] == f"http://127.0.0.1:{p.toxiproxy_api}"
    assert endpoints["kafka_bootstrap"] == ",".join(
        f"127.0.0.1:{port}" for port in (p.kafka_1, p.kafka_2, p.kafka_3)
    )
    assert endpoints["dns"] == f"127.0.0.1:{p.dns}"
    if config.ports.checkout == 8080:  # the contract's defaults (no CHAOSEXT_PORT_OFFSET)
        assert endpoints["kafka_bootstrap"] == "127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094"
        assert endpoints["dns"] == "127.0.0.1:15353"


def test_haproxy_is_healthy_only_with_every_server_up(config: StackConfig, stack: dict[str, Any]) -> None:
    """Right after start HAProxy may still hold a ready replica DOWN (checks need `rise` passes):
    the stack is not healthy until every backend server is UP, so an experiment started right
    after `stack up` does not meet "503 No server is available"."""
    from chaosext.stack.supervisor import Supervisor

    def haproxy() -> dict[str, Any]:
        return next(c for c in lifecycle.status(config)["components"] if c["name"] == "haproxy")

    assert haproxy()["detail"] == "4/4 servers UP"
    sup = Supervisor(config)
    sup.stop_program("payment-service-2", True)
    try:
        seen = wait_until(
            "HAProxy to see the server down",
            lambda: (h := haproxy()) and not h["healthy"] and h,
            timeout=30,
            interval=0.1,
        )
        assert seen["detail"] == "3/4 servers UP (not UP: payment-service-2)"
        assert cli("status", timeout=60).returncode != 0
    finally:
        sup.start_program("payment-service-2", True)
    wait_until("every server UP again", lambda: haproxy()["healthy"], timeout=30, interval=0.1)


def test_prometheus_scrapes_every_target(config: StackConfig, stack: dict[str, Any]) -> None:
    url = f"{stack['endpoints']['prometheus']}/api/v1/targets"

    def all_up() -> list[str] | None:
        targets = requests.get(url, timeout=5).json()["data"]["activeTargets"]
        down = [
            f"{t['labels']['job']}/{t['labels'].get('replica')}: {t['lastError']}"
            for t in targets
            if t["health"] != "up"
        ]
        return None if down or len(targets) < 9 else [t["scrapeUrl"] for t in targets]

    assert wait_until("every Prometheus target to be up", all_up, timeout=30, interval=0.1)


def test_up_created_the_kafka_topics(config: StackConfig, stack: dict[str, Any]) -> None:
    async def describe() -> tuple[list[Any], list[Any]]:
        admin = AIOKafkaAdminClient(bootstrap_servers=config.kafka_bootstrap)
        await admin.start()
        try:
            topics = await admin.describe_topics([config.orders_topic, config.dlq_topic])
            configs = await admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, config.orders_topic)]
            )
        finally:
            await admin.close()
        return topics, configs

    topics, configs = asyncio.run(describe())
    assert cluster_brokers(config) == [1, 2, 3]
    for topic in topics:
        assert topic["error_code"] == 0, topic
        assert len(topic["partitions"]) == 3
        assert all(len(p["replicas"]) == 3 for p in topic["partitions"]), topic
    entries = configs[0].to_object()["resources"][0]["config_entries"]
    assert {e["config_names"]: e["config_value"] for e in entries}["min.insync.replicas"] == "2"


def test_dns_answers_and_a_delay_fault_delays_it_until_it_expires(
    config: StackConfig, stack: dict[str, Any]
) -> None:
    name = config.payment_dns_name
    control = stack["endpoints"]["dns_control"]
    requests.delete(f"{control}/faults", timeout=5).raise_for_status()
    addresses, _ = query_a(config, name)
    assert addresses == ["127.0.0.1"]
    baseline = statistics.median(query_a(config, name)[1] for _ in range(5))

    delay_ms = 1000
    resp = requests.put(
        f"{control}/faults/{name}",
        json={"kind": "delay", "delay_ms": delay_ms, "jitter_ms": 0, "expires_at": time.time() + 8},
        timeout=5,
    )
    assert resp.status_code == 200, resp.text
    assert name in requests.get(f"{control}/faults", timeout=5).json()["faults"]
    delayed = [query_a(config, name) for _ in range(3)]
    assert all(addrs == ["127.0.0.1"] for addrs, _ in delayed)
    added = statistics.median(elapsed for _, elapsed in delayed) - baseline
    assert abs(added - delay_ms / 1000) <= 0.05 * delay_ms / 1000, f"added {added * 1000:.0f} ms"

    # a delayed answer does not hold up other queries (thread per query)
    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = pool.submit(query_a, config, name)
        wait_until(
            "the delayed query to reach the server",
            lambda: "dns_queries_in_flight 1.0" in requests.get(f"{control}/metrics", timeout=5).text,
            timeout=2,
            interval=0.1,
        )
        addresses, other_elapsed = query_a(config, f"other.{name}")
        assert addresses == []
        assert other_elapsed < 0.3, f"another name took {other_elapsed:.3f}s while one was delayed"
        assert slow.result()[1] >= delay_ms / 1000 * 0.9

    wait_until(
        "the fault to expire by itself",
        lambda: name not in requests.get(f"{control}/faults", timeout=5).json()["faults"],
        timeout=15,
        interval=0.1,
    )
    assert query_a(config, name)[1] < 0.3
    metrics = requests.get(f"{control}/metrics", timeout=5).text
    assert f'dns_queries_total{{name="{name}",result="noerror"}}' in metrics
    assert "dns_faults_active 0.0" in metrics


def test_bad_fault_is_rejected_with_the_field_named(stack: dict[str, Any]) -> None:
    control = stack["endpoints"]["dns_control"]
    resp = requests.put(f"{control}/faults/payment.chaosext.test", json={"kind": "explode"}, timeout=5)
    assert resp.status_code == 400
    assert "kind" in resp.json()["error"]
    resp = requests.put(
        f"{control}/faults/payment.chaosext.test", json={"kind": "delay", "delay_ms": -1}, timeout=5
    )
    assert resp.status_code == 400
    assert "delay_ms" in resp.json()["error"]


def test_down_leaves_no_process_or_port(config: StackConfig, stack: dict[str, Any]) -> None:
    pids = [c["pid"] for c in lifecycle.status(config)["components"] if c["pid"]]
    assert pids, "the stack should be running before `down`"
    proc = cli("down", timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert procs.listeners(procs.stack_ports(config), config.host) == []
    assert procs.stack_processes(config) == []
    alive = [pid for pid in pids if common_procs.live(pid) is not None]
    assert alive == [], f"processes still alive after down: {alive}"
    assert cli("status", "--json", timeout=60).returncode != 0
