"""cluster/targets/kind.yaml reaches everything the experiments probe, on real pods: every URL
answers, the certificate probes see the certificate payment-service's pods serve (trusting the
bundle the clients mount), and a broker id maps to its pod by the var file's broker_id_offset."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests
from chaoslib.exceptions import ActivityFailed
from kind.helpers import NAMESPACE, KindCluster, pod_exec
from kube.helpers import wait_until

from chaosext.certificate import probes as certificate_probes
from chaosext.kafka import actions as kafka_actions
from chaosext.kafka import canary
from chaosext.kafka import probes as kafka_probes
from chaosext.kafka.kubernetes import HOLD_LABEL

URL_PATHS = {
    "checkout_url": "/readyz",
    "toxiproxy_url": "/version",
    "prometheus_url": "/-/ready",
    "dns_control_url": "/healthz",
    "order_consumer_url": "/processed",
}


@pytest.mark.parametrize("key", sorted(URL_PATHS))
def test_every_url_of_the_var_file_answers(kind_cluster: KindCluster, chaos_config: dict[str, Any],
                                           key: str) -> None:
    assert key in chaos_config, f"cluster/targets/kind.yaml sets no {key}"
    resp = requests.get(chaos_config[key] + URL_PATHS[key], timeout=10)
    assert resp.status_code == 200, f"{key} {chaos_config[key]}: {resp.status_code} {resp.text[:200]}"


def test_certificate_probes_see_the_pods_certificate(kind_cluster: KindCluster,
                                                     chaos_config: dict[str, Any]) -> None:
    served = certificate_probes.served_certificate(configuration=chaos_config)
    assert served["handshake_ok"] is True, served
    assert served["endpoint"].endswith(f":{chaos_config['payment_tls_port']}")
    assert served["trusting"] == f"ConfigMap {NAMESPACE}/{chaos_config['trust_bundle_configmap']}"
    secret = certificate_probes.secret_certificate("payment-tls", configuration=chaos_config)
    assert served["certificate"]["fingerprint_sha256"] == secret["certificate"]["fingerprint_sha256"]
    assert certificate_probes.handshake_succeeds(configuration=chaos_config) is True


def test_leader_broker_maps_to_its_pod(kind_cluster: KindCluster, chaos_config: dict[str, Any]) -> None:
    leader = kafka_probes.partition_leader(topic="orders", partition=0, configuration=chaos_config)
    leader_pod = f"kafka-{leader - 1}"  # broker id = ordinal + 1 (cluster/base/kafka/start.sh)
    record = kafka_actions.lose_brokers(topic="orders", partition=0, duration=60, configuration=chaos_config)
    try:
        assert record["brokers"] == [leader]
        held = wait_until(
            "a placeholder holds the leader's pod",
            lambda: {p.metadata.name for p in kind_cluster.core.list_namespaced_pod(
                NAMESPACE, label_selector=HOLD_LABEL).items},
            lambda names: bool(names), timeout_s=60)
        assert held == {leader_pod}
    finally:
        kafka_actions.restore_kafka(configuration=chaos_config)
    _fully_replicated(chaos_config)
    _preferred_leaders(kind_cluster)


def _fully_replicated(chaos_config: dict[str, Any]) -> None:
    """Three brokers up and every partition's replicas in sync: a broker back is not yet a broker
    that leads and acknowledges (the next test produces to it)."""
    wait_until("three brokers", lambda: kafka_probes.brokers_online(configuration=chaos_config),
               lambda online: online == 3, timeout_s=180)
    wait_until("no under-replicated partition",
               lambda: kafka_probes.under_replicated_partitions(configuration=chaos_config),
               lambda count: count == 0, timeout_s=180)


KAFKA_BIN = "/opt/kafka/bin"  # the apache/kafka image's layout (and its stand-in's)


def _displaced_leaders(cluster: KindCluster) -> list[str]:
    """The partitions whose leader is not their preferred (first) replica, from kafka-topics.sh."""
    described = pod_exec(cluster, "kafka-0", [f"{KAFKA_BIN}/kafka-topics.sh", "--bootstrap-server",
                                              "localhost:9092", "--describe"], timeout=120)
    rows = re.findall(r"Topic: (\S+)\s+Partition: (\d+)\s+Leader: (-?\d+)\s+Replicas: (\d+)", described)
    assert rows, described[-2000:]
    return [f"{topic}-{partition} (leader {leader}, preferred {preferred})"
            for topic, partition, leader, preferred in rows if leader != preferred]


def _preferred_leaders(cluster: KindCluster) -> None:
    """Leadership back on every partition's preferred replica, as before the loss. Kafka moves it
    back itself only at its next leader-imbalance check (every 300 s): that move landed in the
    workflow test's payment-503 run, where checkout's acks=all publish met NotLeaderForPartition and
    took 1.1 s, and its p99 (802.5 ms) failed the hypothesis. A test leaves no such leftover."""
    pod_exec(cluster, "kafka-0", [f"{KAFKA_BIN}/kafka-leader-election.sh", "--bootstrap-server", "localhost:9092",
                                  "--election-type", "PREFERRED", "--all-topic-partitions"], timeout=120)
    wait_until("every partition led by its preferred replica", lambda: _displaced_leaders(cluster),
               lambda displaced: not displaced, timeout_s=60, interval_s=2)


def test_canaries_of_another_kafka_cluster_are_not_evidence(kind_cluster: KindCluster,
                                                             chaos_config: dict[str, Any]) -> None:
    """The local stack's Kafka answers at the same addresses as kind's: canaries recorded there
    must not be looked for here (their topic may not even exist)."""
    tag = "foreign-cluster-test"
    canary._record_file(tag).write_text(json.dumps(
        {"tag": tag, "cluster_id": "another-cluster", "acked": [f"{tag}-1", f"{tag}-2"]}))
    assert kafka_probes.canaries_lost(tag, missing_ok=True, configuration=chaos_config) == 0
    with pytest.raises(ActivityFailed, match="another Kafka cluster"):
        kafka_probes.canaries_lost(tag, configuration=chaos_config)
    _fully_replicated(chaos_config)
    produced = kafka_actions.produce_canaries(tag, count=3, configuration=chaos_config)
    assert produced["acknowledged"] == 3, produced
    assert len(canary.recorded(tag)) == 3  # the foreign record was replaced, not extended
    assert kafka_probes.canaries_lost(tag, configuration=chaos_config) == 0
