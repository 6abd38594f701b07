"""Certificate faults on Kubernetes against the real kube-apiserver (pods simulated by KWOK): the TLS
Secret's content changes, the workload is rollout-restarted, rollback restores the Secret exactly."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from chaoslib.exceptions import ActivityFailed
from kube.helpers import Kube
from kubernetes import client
from support import wait_until

from chaosext import kube as kubemod
from chaosext.certificate import actions, probes
from chaosext.certificate import kubernetes as certkube
from chaosext.certificate.material import describe, new_ca, pem_certs, serve_cert
from chaosext.faults import markers

pytestmark = pytest.mark.kube
RESTARTED = "kubectl.kubernetes.io/restartedAt"


@pytest.fixture(autouse=True)
def _kubeconfig(kube: Kube, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(kube.kubeconfig))


def _cfg(namespace: str, **extra: Any) -> dict[str, Any]:
    return {"target": "kubernetes", "namespace": namespace, **extra}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def tls(kube: Kube, namespace: str) -> dict[str, Any]:
    """A CA Secret, the service's TLS Secret (with ca.crt), a trust-bundle ConfigMap, a Deployment."""
    ca = new_ca("test cluster CA")
    cert, key = serve_cert(ca, ["payment.chaosext.test", "payment-service"], [])
    kube.core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="chaosext-ca"),
            type="kubernetes.io/tls",
            data={"tls.crt": _b64(ca.pem), "tls.key": _b64(ca.key_pem)},
        ),
    )
    kube.core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="payment-tls"),
            type="kubernetes.io/tls",
            data={"tls.crt": _b64(cert), "tls.key": _b64(key), "ca.crt": _b64(ca.pem)},
        ),
    )
    kube.core.create_namespaced_config_map(
        namespace,
        client.V1ConfigMap(metadata=client.V1ObjectMeta(name="ca-bundle"), data={"ca.crt": ca.pem.decode()}),
    )
    labels = {"app.kubernetes.io/name": "payment-service"}
    kube.apps.create_namespaced_deployment(
        namespace,
        client.V1Deployment(
            metadata=client.V1ObjectMeta(name="payment-service", labels=labels),
            spec=client.V1DeploymentSpec(
                replicas=2,
                selector=client.V1LabelSelector(match_labels=labels),
                template=client.V1PodTemplateSpec(
                    metadata=client.V1ObjectMeta(labels=labels),
                    spec=client.V1PodSpec(
                        containers=[client.V1Container(name="app", image="example.invalid/p:1")]
                    ),
                ),
            ),
        ),
    )
    _complete(kube, namespace)
    return {"secret": _secret(kube, namespace), "bundle": _bundle(kube, namespace), "ca": ca}


def _secret(kube: Kube, namespace: str) -> client.V1Secret:
    return kube.core.read_namespaced_secret("payment-tls", namespace)


def _bundle(kube: Kube, namespace: str) -> dict[str, str]:
    data: dict[str, str] = kube.core.read_namespaced_config_map("ca-bundle", namespace).data
    return data


def _restarted_at(kube: Kube, namespace: str) -> str | None:
    dep = kube.apps.read_namespaced_deployment("payment-service", namespace)
    return (dep.spec.template.metadata.annotations or {}).get(RESTARTED)


def _complete(kube: Kube, namespace: str) -> Any:
    return wait_until(
        "payment-service rollout to complete",
        lambda: kube.apps.read_namespaced_deployment("payment-service", namespace),
        timeout=90,
        done=lambda d: (
            (d.status.observed_generation or 0) >= d.metadata.generation
            and (d.status.updated_replicas or 0) == 2
            and (d.status.available_replicas or 0) == 2
            and (d.status.replicas or 0) == 2
        ),
    )


def test_rotation_updates_the_secret_restarts_the_workload_and_rollback_restores(
    kube: Kube, namespace: str, tls: dict[str, Any]
) -> None:
    old = describe(base64.b64decode(tls["secret"].data["tls.crt"]))
    record = actions.rotate_certificate(
        secret="payment-tls",
        ca_secret="chaosext-ca",
        workload="payment-service",
        duration=300,
        timeout=90,
        configuration=_cfg(namespace),
    )
    assert "PRIVATE KEY" not in json.dumps(record)
    changed = record["changed"]
    now = _secret(kube, namespace)
    new = describe(base64.b64decode(now.data["tls.crt"]))
    assert new["serial"] == changed["new"]["serial"] != old["serial"]
    assert new["issuer"] == old["issuer"] and new["dns_names"] == old["dns_names"]
    assert (
        now.data["tls.key"] != tls["secret"].data["tls.key"]
        and now.data["ca.crt"] == tls["secret"].data["ca.crt"]
    )
    assert now.metadata.annotations[kubemod.FAULT_ANNOTATION] == record["id"]
    assert (
        probes.secret_certificate("payment-tls", configuration=_cfg(namespace))["certificate"]["serial"]
        == new["serial"]
    )
    # the restart happened (no reload annotation on the workload) and its rollout completed
    assert _restarted_at(kube, namespace) == changed["restart"]["restarted_at"]
    assert changed["rollout"]["complete"] is True
    first_restart = _restarted_at(kube, namespace)

    actions.restore_certificates(configuration=_cfg(namespace))
    back = _secret(kube, namespace)
    assert back.data == tls["secret"].data, "the Secret's data was not restored exactly"
    assert kubemod.FAULT_ANNOTATION not in (back.metadata.annotations or {})
    assert kubemod.FAULT_LABEL not in (back.metadata.labels or {})
    assert _restarted_at(kube, namespace) != first_restart, "the rollback did not restart the workload again"
    _complete(kube, namespace)
    assert markers.list_markers(family="certificate") == []


def test_rotation_to_a_new_ca_extends_the_trust_bundles_and_rollback_restores_them(
    kube: Kube, namespace: str, tls: dict[str, Any]
) -> None:
    record = actions.rotate_certificate(
        new_ca=True,
        secret="payment-tls",
        trust_bundle_configmap="ca-bundle",
        workload="payment-service",
        restart=False,
        duration=300,
        configuration=_cfg(namespace),
    )
    new = record["changed"]["new"]
    assert new["issuer"] != record["changed"]["old"]["issuer"]
    bundle = pem_certs(_bundle(kube, namespace)["ca.crt"].encode())
    secret_cas = pem_certs(base64.b64decode(_secret(kube, namespace).data["ca.crt"]))
    assert len(bundle) == 2 and len(secret_cas) == 2
    assert describe(bundle[1])["subject"] == new["issuer"]
    assert "restart" not in record["changed"] and _restarted_at(kube, namespace) is None
    actions.restore_certificates(configuration=_cfg(namespace))
    assert _secret(kube, namespace).data == tls["secret"].data
    assert _bundle(kube, namespace) == tls["bundle"]
    assert _restarted_at(kube, namespace) is None


def test_workload_that_reloads_secrets_is_not_restarted(
    kube: Kube, namespace: str, tls: dict[str, Any]
) -> None:
    kube.apps.patch_namespaced_deployment(
        "payment-service", namespace, {"metadata": {"annotations": {certkube.RELOADS_ANNOTATION: "true"}}}
    )
    record = actions.serve_untrusted_certificate(
        secret="payment-tls", workload="payment-service", duration=300, configuration=_cfg(namespace)
    )
    assert "restart" not in record["changed"] and _restarted_at(kube, namespace) is None
    assert record["changed"]["new"]["issuer"] == "CN=chaosext untrusted CA"
    actions.restore_certificates(configuration=_cfg(namespace))
    assert _secret(kube, namespace).data == tls["secret"].data


def test_expired_certificate_lands_in_the_secret_and_expires_by_itself(
    kube: Kube, namespace: str, tls: dict[str, Any]
) -> None:
    record = actions.serve_expired_certificate(
        secret="payment-tls", ca_secret="chaosext-ca", duration=3, configuration=_cfg(namespace)
    )
    served = probes.secret_certificate("payment-tls", configuration=_cfg(namespace))["certificate"]
    assert served["expired"] is True and served["serial"] == record["changed"]["new"]["serial"]
    wait_until(
        "the reaper to restore the Secret",
        lambda: _secret(kube, namespace).data,
        timeout=20,
        done=lambda data: data == tls["secret"].data,
    )
    wait_until("the marker to go", lambda: markers.load(record["id"]), timeout=5, done=lambda m: m is None)


@pytest.mark.parametrize(
    ("call", "kwargs", "needle"),
    [
        ("rotate_certificate", {"secret": "no-such-secret"}, "'secret'.*not found"),
        ("rotate_certificate", {"ca_secret": "no-such-ca"}, "'ca_secret'.*not found"),
        ("rotate_certificate", {}, "ca_secret"),  # same CA needs the CA's key
        ("serve_expired_certificate", {}, "ca_secret"),
        ("rotate_certificate", {"new_ca": True, "trust_bundle_configmap": "nope"}, "trust_bundle_configmap"),
        ("rotate_certificate", {"new_ca": True, "workload": "no-such-deployment"}, "no-such-deployment"),
        ("rotate_certificate", {"new_ca": True, "duration": -1}, "duration"),
        ("rotate_certificate", {"new_ca": True, "namespace": "kube-system"}, "guardrails"),
        ("serve_untrusted_certificate", {"restart": True}, "workload"),
    ],
)
def test_bad_arguments_are_clear_errors_and_change_nothing(
    kube: Kube, namespace: str, tls: dict[str, Any], call: str, kwargs: dict[str, Any], needle: str
) -> None:
    with pytest.raises(ActivityFailed, match=needle):
        getattr(actions, call)(
            **{"secret": "payment-tls", "duration": 60, **kwargs}, configuration=_cfg(namespace)
        )
    now = _secret(kube, namespace)
    assert now.data == tls["secret"].data
    assert now.metadata.resource_version == tls["secret"].metadata.resource_version
    assert _bundle(kube, namespace) == tls["bundle"] and _restarted_at(kube, namespace) is None
    assert markers.list_markers(family="certificate") == []


def test_leftover_finder_reports_marked_secrets(kube: Kube, namespace: str, tls: dict[str, Any]) -> None:
    record = actions.serve_untrusted_certificate(
        secret="payment-tls", duration=300, configuration=_cfg(namespace)
    )
    found = [r for r in certkube.find_leftovers() if r["namespace"] == namespace]
    assert found == [
        {
            "namespace": namespace,
            "secret": "payment-tls",
            "fault_id": record["id"],
            "expires_at": found[0]["expires_at"],
            "has_local_marker": True,
        }
    ]
    actions.restore_certificates(configuration=_cfg(namespace))
    assert [r for r in certkube.find_leftovers() if r["namespace"] == namespace] == []
