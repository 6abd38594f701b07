"""DNS faults on Kubernetes against the real kube-apiserver: the chaosext-dns-faults ConfigMap the
in-cluster DNS forwarder polls is written and restored exactly; its content drives a real DNS server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from chaoslib.exceptions import ActivityFailed
from kube.helpers import Kube
from kubernetes import client
from support import free_port, wait_until

from chaosext import kube as kubemod
from chaosext.dns import actions, probes, server
from chaosext.dns import kubernetes as dnskube
from chaosext.dns.faultsfile import FaultsFileWatcher
from chaosext.faults import markers

pytestmark = pytest.mark.kube
NAME = "payment.chaosext.test"
ORIGINAL = {"faults.json": '{"faults": {}}\n', "README": "polled by the chaosext DNS forwarder"}


@pytest.fixture(autouse=True)
def _kubeconfig(kube: Kube, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(kube.kubeconfig))


def _cfg(namespace: str, **extra: Any) -> dict[str, Any]:
    return {"target": "kubernetes", "namespace": namespace, **extra}


def _configmap(kube: Kube, namespace: str) -> client.V1ConfigMap:
    cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name=dnskube.CONFIGMAP), data=dict(ORIGINAL))
    return kube.core.create_namespaced_config_map(namespace, cm)


def _read(kube: Kube, namespace: str) -> client.V1ConfigMap:
    return kube.core.read_namespaced_config_map(dnskube.CONFIGMAP, namespace)


def test_delay_is_written_to_the_configmap_drives_the_server_and_rollback_restores_exactly(
    kube: Kube, namespace: str, tmp_path: Path
) -> None:
    _configmap(kube, namespace)
    record = actions.delay_dns(NAME, delay_ms=300, duration=120, configuration=_cfg(namespace))
    assert "PRIVATE" not in json.dumps(record)
    cm = _read(kube, namespace)
    entry = json.loads(cm.data["faults.json"])["faults"][NAME]
    assert entry["kind"] == "delay" and entry["delay_ms"] == 300 and entry["fault_id"] == record["id"]
    assert abs(entry["expires_at"] - record["expires_at"]) < 0.01
    assert cm.metadata.annotations[kubemod.FAULT_ANNOTATION] == record["id"]
    assert cm.data["README"] == ORIGINAL["README"]
    assert probes.dns_faults(configuration=_cfg(namespace))["faults"][NAME]["kind"] == "delay"

    # what the forwarder does with the mounted file: a real DNS server answers 300 ms late
    mounted = tmp_path / "faults.json"
    mounted.write_text(cm.data["faults.json"])
    store = server.FaultStore()
    port = free_port()
    resolver = server.StackResolver(
        server.Records(None, server.DEFAULT_ZONE), store, server.Metrics(store), None
    )
    dns_server = server.DNSServer(resolver, address="127.0.0.1", port=port, logger=server._QuietLogger())
    dns_server.start_thread()
    watcher = FaultsFileWatcher(mounted, store, interval=0.2)
    watcher.start()
    try:
        seen = probes.resolve(NAME, server=f"127.0.0.1:{port}", samples=5)
        assert abs(seen["latency_ms"] - 300) <= 15, seen
        actions.remove_dns_faults(configuration=_cfg(namespace))
        after = _read(kube, namespace)
        assert after.data == ORIGINAL, "the ConfigMap data was not restored exactly"
        assert kubemod.FAULT_ANNOTATION not in (after.metadata.annotations or {})
        mounted.write_text(after.data["faults.json"])
        wait_until(
            "the server to drop the delay",
            lambda: probes.resolve(NAME, server=f"127.0.0.1:{port}", samples=1)["latency_ms"],
            timeout=5,
            done=lambda ms: ms < 50,
        )
    finally:
        watcher.stop()
        dns_server.stop()
    assert markers.list_markers(family="dns") == []


def test_failure_expires_by_itself_and_the_configmap_is_restored(kube: Kube, namespace: str) -> None:
    _configmap(kube, namespace)
    record = actions.fail_dns(NAME, failure="nxdomain", duration=2, configuration=_cfg(namespace))
    assert json.loads(_read(kube, namespace).data["faults.json"])["faults"][NAME]["kind"] == "nxdomain"
    wait_until(
        "the reaper to restore the ConfigMap",
        lambda: _read(kube, namespace).data,
        timeout=15,
        done=lambda data: data == ORIGINAL,
    )
    wait_until("the marker to go", lambda: markers.load(record["id"]), timeout=5, done=lambda m: m is None)


def test_two_names_then_partial_rollback(kube: Kube, namespace: str) -> None:
    _configmap(kube, namespace)
    actions.delay_dns(NAME, delay_ms=100, duration=120, configuration=_cfg(namespace))
    actions.fail_dns("other.chaosext.test", failure="servfail", duration=120, configuration=_cfg(namespace))
    assert set(json.loads(_read(kube, namespace).data["faults.json"])["faults"]) == {
        NAME,
        "other.chaosext.test",
    }
    actions.remove_dns_faults(NAME, configuration=_cfg(namespace))
    assert set(json.loads(_read(kube, namespace).data["faults.json"])["faults"]) == {"other.chaosext.test"}
    actions.remove_dns_faults(configuration=_cfg(namespace))
    assert _read(kube, namespace).data == ORIGINAL


def test_missing_configmap_is_a_clear_error_and_changes_nothing(kube: Kube, namespace: str) -> None:
    with pytest.raises(ActivityFailed, match="chaosext-dns-faults.*not found"):
        actions.delay_dns(NAME, duration=30, configuration=_cfg(namespace))
    assert markers.list_markers(family="dns") == []
    assert (
        kube.core.list_namespaced_config_map(
            namespace, field_selector="metadata.name=chaosext-dns-faults"
        ).items
        == []
    )


@pytest.mark.parametrize(
    ("kwargs", "cfg_extra", "needle"),
    [
        ({"namespace": "kube-system"}, {}, "refused by the guardrails"),
        ({}, {"allowed_namespaces": "somewhere-else"}, "allowed_namespaces"),
        ({}, {"allowed_contexts": "no-such-context"}, "allowed_contexts"),
        ({"name": "not a name"}, {}, "'name'"),
        ({"duration": -1}, {}, "duration"),
    ],
)
def test_guardrails_and_bad_arguments_change_nothing(
    kube: Kube, namespace: str, kwargs: dict[str, Any], cfg_extra: dict[str, Any], needle: str
) -> None:
    _configmap(kube, namespace)
    before = _read(kube, namespace)
    with pytest.raises(ActivityFailed, match=needle):
        actions.delay_dns(
            **{"name": NAME, "duration": 30, **kwargs}, configuration=_cfg(namespace, **cfg_extra)
        )
    after = _read(kube, namespace)
    assert after.data == before.data and after.metadata.resource_version == before.metadata.resource_version
    assert markers.list_markers(family="dns") == []


def test_leftover_finder_reports_and_removes_entries(kube: Kube, namespace: str) -> None:
    _configmap(kube, namespace)
    record = actions.delay_dns(NAME, delay_ms=100, duration=300, configuration=_cfg(namespace))
    markers.delete(record["id"])  # as if the machine that made the fault was lost
    found = [r for r in dnskube.find_leftovers() if r["namespace"] == namespace]
    assert [r["fault_id"] for r in found] == [record["id"]]
    dnskube.remove_leftovers()
    data = _read(kube, namespace).data
    assert json.loads(data["faults.json"]) == {"faults": {}} and data["README"] == ORIGINAL["README"]
    assert [r for r in dnskube.find_leftovers() if r["namespace"] == namespace] == []
