"""Certificate faults on Kubernetes: replace the data of a TLS Secret (``kubernetes.io/tls``) and,
when the workload does not reload mounted Secrets, rollout-restart it.

The CA that signs a rotated (or expired) certificate comes from ``ca_secret`` (a Secret with the
CA's ``tls.crt``/``tls.key``). With ``new_ca`` a fresh CA signs it and the trust bundles (the
Secret's own ``ca.crt`` and, if given, a ConfigMap's ``ca.crt``) get the new CA added. Undo puts
the old Secret (and ConfigMap) data back exactly and restarts the workload again if it was
restarted. The old data (private key included) is kept in a private local backup, never in a
marker, a result or a log.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets
from cryptography import x509
from kubernetes import client
from kubernetes.client.rest import ApiException

from chaosext import kube
from chaosext.certificate import backup, trust
from chaosext.certificate.driver import DEFAULT_SERVER_NAME, CertificateFault, ClusterBundle, check_port
from chaosext.certificate.material import CA, Served, describe, sans_of
from chaosext.common.pki import load_ca
from chaosext.faults import engine, markers
from chaosext.faults.markers import FaultMarker
from chaosext.faults.undoers import undoer
from chaosext.rollout import kubernetes as rollout
from chaosext.target import setting

__all__ = ["RELOADS_ANNOTATION", "find_leftovers", "inject", "serve_certificate", "tls_endpoint", "undo"]

FAMILY = "certificate"
RELOADS_ANNOTATION = "chaosext.io/reloads-tls"
RESTORE_TIMEOUT_S = 120.0
"""Undo waits at most this long for the workload to serve the old certificate again."""
"""On a workload: "true" when it re-reads a rotated mounted Secret by itself (no restart needed)."""

Builder = Callable[[CA | None, list[str], list[str]], tuple[Served, CA | None]]
"""(the signing CA if known, the current names and IPs) -> (what to serve, the new CA to trust or None)"""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(data: str | bytes) -> bytes:
    return base64.b64decode(data)


def _core(context: str | None) -> client.CoreV1Api:
    return client.CoreV1Api(kube.client_for({"KUBERNETES_CONTEXT": context} if context else None))


def _read_secret(core: client.CoreV1Api, name: str, ns: str, argument: str) -> client.V1Secret:
    try:
        return core.read_namespaced_secret(name, ns)
    except ApiException as exc:
        if exc.status == 404:
            raise ActivityFailed(
                f"'{argument}': Secret {name!r} not found in namespace {ns!r}; nothing changed"
            ) from None
        raise kube.api_error(exc, f"reading Secret {ns}/{name}") from None


def _read_configmap(core: client.CoreV1Api, name: str, ns: str) -> client.V1ConfigMap:
    try:
        return core.read_namespaced_config_map(name, ns)
    except ApiException as exc:
        if exc.status == 404:
            raise ActivityFailed(
                f"'trust_bundle_configmap': ConfigMap {name!r} not found in namespace {ns!r}; nothing changed"
            ) from None
        raise kube.api_error(exc, f"reading ConfigMap {ns}/{name}") from None


def _signing_ca(core: client.CoreV1Api, ca_secret: str | None, ns: str) -> CA | None:
    if not ca_secret:
        return None
    data = _read_secret(core, ca_secret, ns, "ca_secret").data or {}
    if "tls.crt" not in data or "tls.key" not in data:
        raise ActivityFailed(f"'ca_secret': Secret {ns}/{ca_secret} has no tls.crt/tls.key; nothing changed")
    try:
        return load_ca(_unb64(data["tls.crt"]), _unb64(data["tls.key"]), f"Secret {ns}/{ca_secret}")
    except ValueError as exc:
        raise ActivityFailed(f"'ca_secret': {exc}; nothing changed") from None


def _should_restart(
    restart: bool | None,
    workload: str | None,
    kind: str,
    ns: str,
    configuration: Configuration,
    secrets: Secrets,
) -> bool:
    if not workload:
        if restart:
            raise ActivityFailed("'restart' is true but no 'workload' is named; nothing changed")
        return False
    obj = rollout.read_workload(workload, kind, ns, configuration, secrets)  # missing: clear error
    if restart is not None:
        return bool(restart)
    reloads = (obj.metadata.annotations or {}).get(RELOADS_ANNOTATION, "false").lower() == "true"
    return not reloads


def inject(
    kind: str,
    description: str,
    build: Builder,
    *,
    secret: str,
    namespace: str | None,
    ca_secret: str | None,
    trust_bundle_configmap: str | None,
    workload: str | None,
    workload_kind: str,
    restart: bool | None,
    seconds: float,
    timeout: float,
    configuration: Configuration,
    secrets: Secrets,
) -> dict[str, Any]:
    ns = kube.namespace_of(namespace, configuration)
    core = client.CoreV1Api(kube.api_client(configuration, secrets))
    current = _read_secret(core, secret, ns, "secret")
    data: dict[str, str] = {k: str(v) for k, v in (current.data or {}).items()}
    if "tls.crt" not in data or "tls.key" not in data:
        raise ActivityFailed(
            f"'secret': {ns}/{secret} is not a TLS Secret (no tls.crt/tls.key); nothing changed"
        )
    active = markers.list_markers(family=FAMILY, scope={"secret": secret, "namespace": ns})
    if active:
        raise ActivityFailed(
            f"Secret {ns}/{secret} already has a certificate fault ({active[0].id}); "
            "roll it back first; nothing changed"
        )
    version = getattr(current.metadata, "resource_version", None)
    signing = _signing_ca(core, ca_secret, ns)
    bundle_cm = _read_configmap(core, trust_bundle_configmap, ns) if trust_bundle_configmap else None
    do_restart = _should_restart(restart, workload, workload_kind, ns, configuration, secrets)
    try:
        old_cert = x509.load_pem_x509_certificate(_unb64(data["tls.crt"]))
    except ValueError as exc:
        raise ActivityFailed(f"'secret': {ns}/{secret} tls.crt is not a PEM certificate: {exc}") from None
    names, ips = sans_of(old_cert)
    try:
        served, trust_ca = build(signing, names, ips)
    except ValueError as exc:
        raise ActivityFailed(f"cannot make the certificate: {exc}; nothing changed") from None

    new_data = {**data, "tls.crt": _b64(served.cert_pem), "tls.key": _b64(served.key_pem)}
    if trust_ca is not None and "ca.crt" in data:
        new_data["ca.crt"] = _b64(_unb64(data["ca.crt"]).rstrip() + b"\n" + trust_ca.pem)
    new_bundle: dict[str, str] | None = None
    if trust_ca is not None and bundle_cm is not None:
        old_bundle = (bundle_cm.data or {}).get("ca.crt", "")
        new_bundle = {
            "ca.crt": old_bundle.rstrip() + ("\n" if old_bundle.strip() else "") + trust_ca.pem.decode()
        }

    fault_id = markers.new_id(FAMILY)
    expires_at = time.time() + seconds
    context = kube.current_context(secrets)
    saved = backup.save(
        fault_id,
        {
            "secret_data": data,
            "configmap_data": dict(bundle_cm.data or {}) if bundle_cm is not None else None,
        },
    )
    marker = FaultMarker(
        id=fault_id,
        family=FAMILY,
        kind=kind,
        target=f"secret/{ns}/{secret}",
        scope={"secret": secret, "namespace": ns},
        description=f"{description} for {seconds:g}s (Secret {ns}/{secret}"
        f"{f', restarting {workload_kind} {workload}' if do_restart else ''})",
        undo="certificate.secret",
        undo_args={
            "backup_file": saved,
            "namespace": ns,
            "secret": secret,
            "context": context,
            "configmap": trust_bundle_configmap if new_bundle is not None else None,
            "workload": workload if do_restart else None,
            "workload_kind": workload_kind,
        },
        expires_at=expires_at,
    )
    marks = kube.expiry_annotations(fault_id, expires_at)

    def apply() -> dict[str, Any]:
        changed: dict[str, Any] = {
            "secret": f"{ns}/{secret}",
            "old": describe(old_cert),
            "new": describe(served.cert_pem),
            "keys_changed": sorted(k for k in new_data if new_data[k] != data.get(k)),
        }
        if new_bundle is not None and trust_bundle_configmap:
            # trust first, then the certificate
            clients = kube.pods_mounting(core, ns, configmap=trust_bundle_configmap)
            before = {p.metadata.name: _ca_reloads(core, p) for p in clients}
            _patch_configmap(core, trust_bundle_configmap, ns, new_bundle, marks)
            changed["trust_bundle_configmap"] = f"{ns}/{trust_bundle_configmap}"
            with engine.unshielded():
                changed["clients_reloaded_trust"] = _wait_trust(core, ns, clients, before, timeout)
        body = {
            "metadata": {
                "annotations": marks,
                "labels": {kube.FAULT_LABEL: FAMILY},
                "resourceVersion": version,
            },
            "data": new_data,
        }
        try:
            core.patch_namespaced_secret(secret, ns, body)
        except ApiException as exc:
            raise kube.api_error(exc, f"updating Secret {ns}/{secret}") from None
        if do_restart and workload:
            changed["restart"] = rollout.restart(workload, workload_kind, ns, configuration, secrets)
            with engine.unshielded():
                changed["rollout"] = rollout.wait_complete(
                    workload, workload_kind, ns, timeout, configuration, secrets
                )
        return changed

    try:
        return engine.activate(marker, apply)
    finally:
        if markers.load(fault_id) is None:
            backup.drop(saved)


def _ca_reloads(core: client.CoreV1Api, pod: Any) -> float | None:
    text = kube.pod_get(core, pod)
    return None if text is None else trust.ca_reloads_in(text)


def _wait_trust(core: client.CoreV1Api, ns: str, clients: list[Any], before: dict[str, float | None],
                timeout: float) -> dict[str, Any]:
    """Nudge the client pods that mount the trust bundle (the kubelet would otherwise refresh the
    volume up to a minute later), then wait, at most ``timeout`` seconds, until each client that
    exports its CA-reload count has re-read its bundle. Returns who did and how long it took;
    ActivityFailed naming the clients still on the old bundle at the deadline, because serving a
    certificate they cannot verify would break them for a reason that is not the rotation."""
    started = time.monotonic()
    kube.nudge_pods(core, ns, clients)
    watched = {p.metadata.name: p for p in clients if before.get(p.metadata.name) is not None}
    done = {name: False for name in watched}
    while True:
        for name in [n for n, ok in done.items() if not ok]:
            count = _ca_reloads(core, watched[name])
            done[name] = count is not None and count > (before[name] or 0.0)
        if all(done.values()):
            return {"pods": done, "seconds": round(time.monotonic() - started, 1),
                    "without_metrics": sorted(p.metadata.name for p in clients if p.metadata.name not in watched)}
        if time.monotonic() - started > timeout:
            late = sorted(n for n, ok in done.items() if not ok)
            raise ActivityFailed(
                f"trust bundle {ns}: after {timeout:g}s these clients have not re-read it: {', '.join(late)}"
            )
        time.sleep(0.5)


def _patch_configmap(
    core: client.CoreV1Api, name: str, ns: str, data: dict[str, Any], annotations: dict[str, Any]
) -> None:
    try:
        core.patch_namespaced_config_map(name, ns, {"metadata": {"annotations": annotations}, "data": data})
    except ApiException as exc:
        if exc.status != 404:
            raise kube.api_error(exc, f"updating ConfigMap {ns}/{name}") from None


@undoer("certificate.secret")
def undo(
    backup_file: str,
    namespace: str,
    secret: str,
    context: str | None = None,
    configmap: str | None = None,
    workload: str | None = None,
    workload_kind: str = "deployment",
) -> None:
    """Put the old Secret (and trust bundle) data back exactly; restart the workload again if it was
    restarted for the fault. Idempotent."""
    saved = backup.load(backup_file)
    if saved is None:
        return
    core = _core(context)
    unmark = {kube.FAULT_ANNOTATION: None, kube.EXPIRES_ANNOTATION: None}
    try:
        now = core.read_namespaced_secret(secret, namespace)
    except ApiException as exc:
        if exc.status != 404:
            raise kube.api_error(exc, f"reading Secret {namespace}/{secret}") from None
        now = None
    if now is not None:
        old: dict[str, str] = saved["secret_data"]
        data: dict[str, str | None] = {k: old.get(k) for k in {*old, *(now.data or {})}}
        body = {"metadata": {"annotations": unmark, "labels": {kube.FAULT_LABEL: None}}, "data": data}
        try:
            core.patch_namespaced_secret(secret, namespace, body)
        except ApiException as exc:
            if exc.status != 404:
                raise kube.api_error(exc, f"restoring Secret {namespace}/{secret}") from None
    # the old certificate served everywhere first, then the new CA leaves the trust bundle: the
    # other order leaves clients without the CA of the pods still serving the rotated certificate
    try:
        if workload:
            _restart_again(workload, workload_kind, namespace, context)
            if configmap:
                rollout.wait_complete(workload, workload_kind, namespace, RESTORE_TIMEOUT_S, None,
                                      {"KUBERNETES_CONTEXT": context} if context else None)
    finally:
        if configmap and saved.get("configmap_data") is not None:
            _restore_configmap(core, configmap, namespace, saved["configmap_data"], unmark)
    backup.drop(backup_file)


def _restore_configmap(core: client.CoreV1Api, name: str, namespace: str, old: dict[str, str],
                       unmark: dict[str, Any]) -> None:
    try:
        current = core.read_namespaced_config_map(name, namespace)
        data = {k: old.get(k) for k in {*old, *(current.data or {})}}
        _patch_configmap(core, name, namespace, data, unmark)
    except ApiException as exc:
        if exc.status != 404:
            raise kube.api_error(exc, f"restoring ConfigMap {namespace}/{name}") from None
        return
    kube.nudge_pods(core, namespace, kube.pods_mounting(core, namespace, configmap=name))


def _restart_again(name: str, kind: str, namespace: str, context: str | None) -> None:
    from datetime import UTC, datetime

    apps = client.AppsV1Api(kube.client_for({"KUBERNETES_CONTEXT": context} if context else None))
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # never equal to the fault's restart
    patch = {
        "spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": stamp}}}}
    }
    patcher = (
        apps.patch_namespaced_deployment
        if kind.lower() == "deployment"
        else apps.patch_namespaced_stateful_set
    )
    try:
        patcher(name, namespace, patch)
    except ApiException as exc:
        if exc.status != 404:
            raise kube.api_error(exc, f"restarting {kind} {namespace}/{name}") from None


# ---- leftovers (for `chaosext cleanup`) -------------------------------------
def find_leftovers(context: str | None = None) -> list[dict[str, Any]]:
    """Secrets a certificate fault changed and that still carry its marks (label ``chaosext.io/fault``).
    Their old data is restored by the fault's marker (``chaosext cleanup`` on the machine that made it)."""
    core = _core(context)
    try:
        found = core.list_secret_for_all_namespaces(label_selector=f"{kube.FAULT_LABEL}={FAMILY}").items
    except ApiException as exc:
        raise kube.api_error(exc, "listing Secrets changed by certificate faults") from None
    rows = []
    for obj in found:
        meta = obj.metadata
        assert meta is not None
        ann = meta.annotations or {}
        rows.append(
            {
                "namespace": meta.namespace,
                "secret": meta.name,
                "fault_id": ann.get(kube.FAULT_ANNOTATION),
                "expires_at": ann.get(kube.EXPIRES_ANNOTATION),
                "has_local_marker": markers.load(str(ann.get(kube.FAULT_ANNOTATION))) is not None,
            }
        )
    return rows


def serve_certificate(fault: CertificateFault, configuration: Configuration, secrets: Secrets) -> dict[str, Any]:
    """The driver's entry (``CertificateDriver``): the TLS Secret ``fault.secret``."""
    if not isinstance(fault.secret, str) or not fault.secret:
        raise ActivityFailed(f"'secret' must be the name of a TLS Secret, got {fault.secret!r}")
    return inject(
        fault.kind,
        fault.description,
        fault.kube_build,
        secret=fault.secret,
        namespace=fault.namespace,
        ca_secret=fault.ca_secret or setting(configuration, "ca_secret"),
        trust_bundle_configmap=fault.trust_bundle_configmap or setting(configuration, "trust_bundle_configmap"),
        workload=fault.workload,
        workload_kind=fault.workload_kind,
        restart=fault.restart,
        seconds=fault.seconds,
        timeout=fault.timeout,
        configuration=configuration,
        secrets=secrets,
    )


def tls_endpoint(port: int | None, server_name: str | None, ca_file: str | None, configuration: Configuration,
                 secrets: Secrets) -> tuple[Any, str, str | None]:
    """``payment_tls_port`` (a port reaching payment-service's pods) and the trust bundle the
    clients mount (ConfigMap ``trust_bundle_configmap``, key ca.crt)."""
    if port is None:
        configured = setting(configuration, "payment_tls_port")
        if configured is None:
            raise ActivityFailed("'port' is not given and the configuration sets no 'payment_tls_port': "
                                 "no way to reach payment-service's TLS port from here")
        port = check_port(configured, "payment_tls_port")
    return port, server_name or DEFAULT_SERVER_NAME, ca_file or _cluster_bundle(configuration, secrets)


def _cluster_bundle(configuration: Configuration, secrets: Secrets) -> ClusterBundle:
    """The clients' trust bundle as they mount it now (CA certificates only, nothing secret)."""
    name = setting(configuration, "trust_bundle_configmap") or "chaosext-ca"
    ns = kube.namespace_of(None, configuration)
    core = client.CoreV1Api(kube.api_client(configuration, secrets))
    try:
        bundle = (core.read_namespaced_config_map(name, ns).data or {}).get("ca.crt")
    except ApiException as exc:
        if exc.status == 404:
            raise ActivityFailed(f"'trust_bundle_configmap': ConfigMap {name!r} not found in namespace {ns!r}") from None
        raise kube.api_error(exc, f"reading ConfigMap {ns}/{name}") from None
    if not bundle:
        raise ActivityFailed(f"'trust_bundle_configmap': ConfigMap {ns}/{name} has no ca.crt")
    found = ClusterBundle(bundle)
    found.source = f"ConfigMap {ns}/{name}"
    return found
