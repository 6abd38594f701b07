"""DNS faults on Kubernetes: through the ConfigMap the in-cluster DNS forwarder polls.

The target's pods resolve through the chaosext DNS server (a forwarder: authoritative for the
stack's zone, forwarding the rest to the cluster DNS; pods use it via ``dnsConfig``). It mounts
the ConfigMap ``chaosext-dns-faults`` and polls its ``faults.json`` (``--faults-file``, see
:mod:`chaosext.dns.faultsfile`). A fault is an entry there, written through the API server; each
entry carries its ``expires_at``, so the server drops it on time even if nobody cleans up. Works
on any cluster (kind included) without Chaos Mesh.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets
from kubernetes import client
from kubernetes.client.rest import ApiException

from chaosext import kube
from chaosext.dns.faultsfile import dump_faults, load_faults
from chaosext.dns.names import normalize
from chaosext.dns.spec import DnsFaultSpec
from chaosext.faults import engine, markers
from chaosext.faults.markers import FaultMarker
from chaosext.faults.undoers import undoer
from chaosext.target import setting

__all__ = ["CONFIGMAP", "KEY", "active_faults", "default_server", "find_leftovers", "inject", "remove_leftovers", "undo"]

FAMILY = "dns"
logger = logging.getLogger("chaosext")
CONFIGMAP = "chaosext-dns-faults"
KEY = "faults.json"


def _core(
    context: str | None = None, configuration: Configuration = None, secrets: Secrets = None
) -> client.CoreV1Api:
    if configuration is not None or secrets is not None:
        return client.CoreV1Api(kube.api_client(configuration, secrets))
    return client.CoreV1Api(kube.client_for({"KUBERNETES_CONTEXT": context} if context else None))


def dns_namespace(namespace: str | None, configuration: Configuration) -> str:
    """Where the DNS forwarder and its ConfigMap live: ``namespace``, else ``dns_namespace``, else the
    target namespace."""
    return kube.namespace_of(namespace or setting(configuration, "dns_namespace"), configuration)


def _read(core: client.CoreV1Api, namespace: str) -> client.V1ConfigMap | None:
    try:
        return core.read_namespaced_config_map(CONFIGMAP, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise kube.api_error(exc, f"reading ConfigMap {namespace}/{CONFIGMAP}") from None


def _meta(obj: Any) -> client.V1ObjectMeta:
    meta: client.V1ObjectMeta = obj.metadata
    return meta


def _entries(cm: client.V1ConfigMap) -> dict[str, dict[str, Any]]:
    try:
        return load_faults((cm.data or {}).get(KEY, ""))
    except ValueError as exc:
        raise ActivityFailed(
            f"ConfigMap {_meta(cm).namespace}/{CONFIGMAP} key {KEY} is not a faults file: {exc}"
        ) from None


def _marks(entries: dict[str, dict[str, Any]]) -> dict[str, str | None]:
    """The ConfigMap's chaosext annotations for the chaosext entries left (None = remove)."""
    ours = [e for e in entries.values() if e.get("fault_id")]
    if not ours:
        return {kube.FAULT_ANNOTATION: None, kube.EXPIRES_ANNOTATION: None}
    last = max(ours, key=lambda e: float(e.get("expires_at", 0)))
    return dict(kube.expiry_annotations(str(last["fault_id"]), float(last["expires_at"])))


def _pristine(namespace: str, entries: dict[str, dict[str, Any]]) -> dict[str, str] | None:
    """The ConfigMap's data before the chaosext faults still in it, from their markers (so undoing
    overlapping faults in any order ends with the original data, byte for byte)."""
    ids = {e.get("fault_id") for e in entries.values() if e.get("fault_id")}
    for marker in markers.list_markers(family=FAMILY):
        if marker.id in ids and marker.undo_args.get("namespace") == namespace:
            data: dict[str, str] | None = marker.undo_args.get("original_data")
            return data
    return None


def inject(
    spec: DnsFaultSpec, seconds: float, namespace: str | None, configuration: Configuration, secrets: Secrets
) -> dict[str, Any]:
    ns = dns_namespace(namespace, configuration)
    core = _core(configuration=configuration or {}, secrets=secrets)
    cm = _read(core, ns)
    if cm is None:
        raise ActivityFailed(
            f"ConfigMap '{CONFIGMAP}' not found in namespace '{ns}': the chaosext DNS forwarder is not "
            "deployed there (set 'namespace' or the 'dns_namespace' configuration); nothing changed"
        )
    entries = _entries(cm)
    now = time.time()
    existing = entries.get(spec.name)
    if existing is not None and float(existing.get("expires_at", 0)) > now:
        raise ActivityFailed(
            f"'name' {spec.name!r} already has a DNS fault in {ns}/{CONFIGMAP} "
            f"({existing.get('fault_id') or existing.get('kind')}); remove it first; nothing changed"
        )
    fault_id = markers.new_id(FAMILY)
    expires_at = now + seconds
    entry = {**spec.body(expires_at), "fault_id": fault_id}
    context = kube.current_context(secrets)
    original = _pristine(ns, entries) or dict(cm.data or {})
    marker = FaultMarker(
        id=fault_id,
        family=FAMILY,
        kind=spec.kind,
        target=f"configmap/{ns}/{CONFIGMAP}:{spec.name}",
        scope={"name": spec.name, "namespace": ns},
        description=f"{spec.describe()} for {seconds:g}s (ConfigMap {ns}/{CONFIGMAP})",
        undo="dns.configmap",
        undo_args={
            "namespace": ns,
            "name": spec.name,
            "fault_id": fault_id,
            "context": context,
            "original_data": original,
        },
        expires_at=expires_at,
    )

    def apply() -> dict[str, Any]:
        new_entries = {**entries, spec.name: entry}
        meta = {"annotations": _marks(new_entries), "resourceVersion": _meta(cm).resource_version}
        body = {"metadata": meta, "data": {KEY: dump_faults(new_entries)}}
        try:
            patched = core.patch_namespaced_config_map(CONFIGMAP, ns, body)
        except ApiException as exc:
            raise kube.api_error(exc, f"patching ConfigMap {ns}/{CONFIGMAP}") from None
        return {
            "configmap": f"{ns}/{CONFIGMAP}",
            "key": KEY,
            "name": spec.name,
            "fault": entry,
            "resource_version": _meta(patched).resource_version,
        }

    record = engine.activate(marker, apply)
    # waiting is outside the activation: an interrupt meanwhile rolls the entry back at once
    record["changed"]["served_by"] = wait_served(core, ns, spec.name, True, min(SERVE_WAIT_S, seconds))
    return record


UNDO_WAIT_S = 30.0
SERVE_WAIT_S = 60.0
"""How long a fault may take to reach every forwarder replica (ConfigMap volume refresh after the
pods are nudged, plus the forwarder's 1 s poll)."""


def _serves(core: client.CoreV1Api, pod: Any, name: str) -> bool | None:
    """Whether the forwarder in ``pod`` has a fault for ``name`` now; None if it does not answer."""
    text = kube.pod_get(core, pod, "/faults")
    if text is None:
        return None
    try:
        faults = json.loads(text).get("faults", {})
    except ValueError:
        return None
    return any(normalize(n) == normalize(name) for n in faults)


def wait_served(core: client.CoreV1Api, ns: str, name: str, present: bool, timeout: float) -> dict[str, Any]:
    """Nudge the forwarder pods that mount the faults ConfigMap, then wait (at most ``timeout``
    seconds) until each serves (``present``) or no longer serves the fault for ``name``. Returns
    the pods and the seconds it took; ActivityFailed naming the replicas not there by the deadline."""
    started = time.monotonic()
    pods = kube.pods_mounting(core, ns, configmap=CONFIGMAP)
    kube.nudge_pods(core, ns, pods)
    pending = {p.metadata.name for p in pods}
    while True:
        for pod in [p for p in pods if p.metadata.name in pending]:
            if _serves(core, pod, name) is present:
                pending.discard(pod.metadata.name)
        if not pending:
            return {"pods": sorted(p.metadata.name for p in pods), "seconds": round(time.monotonic() - started, 1)}
        if time.monotonic() - started > timeout:
            raise ActivityFailed(
                f"DNS fault for {name!r}: after {timeout:g}s these forwarder replicas do not "
                f"{'serve' if present else 'drop'} it yet: {', '.join(sorted(pending))}"
            )
        time.sleep(0.5)


@undoer("dns.configmap")
def undo(
    namespace: str,
    name: str,
    fault_id: str,
    context: str | None = None,
    original_data: dict[str, str] | None = None,
) -> None:
    """Take this fault's entry out of the ConfigMap; when only what was there before is left, put
    the original data back byte for byte. Idempotent."""
    core = _core(context)
    for _ in range(5):  # optimistic concurrency: retry on a conflicting write
        cm = _read(core, namespace)
        if cm is None:
            return
        try:
            entries = load_faults((cm.data or {}).get(KEY, ""))
        except ValueError:
            entries = {}
        if (
            entries.get(name, {}).get("fault_id") != fault_id
            and (_meta(cm).annotations or {}).get(kube.FAULT_ANNOTATION) != fault_id
        ):
            return  # already gone
        left = {n: e for n, e in entries.items() if e.get("fault_id") != fault_id}
        original = original_data or {}
        try:
            before = load_faults(original.get(KEY, "")) if original_data is not None else None
        except ValueError:
            before = None
        data: dict[str, str | None]
        if before is not None and left == before:
            data = {k: original.get(k) for k in {*original, *(cm.data or {})}}
        else:
            data = {KEY: dump_faults(left)}
        body = {
            "metadata": {"annotations": _marks(left), "resourceVersion": _meta(cm).resource_version},
            "data": data,
        }
        try:
            core.patch_namespaced_config_map(CONFIGMAP, namespace, body)
        except ApiException as exc:
            if exc.status == 404:
                return
            if exc.status != 409:
                raise kube.api_error(exc, f"restoring ConfigMap {namespace}/{CONFIGMAP}") from None
            continue
        try:
            wait_served(core, namespace, name, False, UNDO_WAIT_S)
        except ActivityFailed as exc:  # the entry is gone; the forwarders drop it by its expiry anyway
            logger.warning("%s", exc)
        return
    raise ActivityFailed(f"ConfigMap {namespace}/{CONFIGMAP} kept changing; fault {fault_id} not removed")


def active_faults(namespace: str | None, configuration: Configuration, secrets: Secrets) -> dict[str, Any]:
    ns = dns_namespace(namespace, configuration)
    cm = _read(_core(configuration=configuration or {}, secrets=secrets), ns)
    if cm is None:
        raise ActivityFailed(f"ConfigMap '{CONFIGMAP}' not found in namespace '{ns}'")
    now = time.time()
    return {
        "configmap": f"{ns}/{CONFIGMAP}",
        "faults": {n: e for n, e in _entries(cm).items() if float(e.get("expires_at", 0)) > now},
    }


# ---- leftovers (for `chaosext cleanup`) ----------------------------------------
def find_leftovers(context: str | None = None) -> list[dict[str, Any]]:
    """Every chaosext DNS fault entry left in a ``chaosext-dns-faults`` ConfigMap, in any namespace."""
    core = _core(context)
    try:
        cms = core.list_config_map_for_all_namespaces(field_selector=f"metadata.name={CONFIGMAP}").items
    except ApiException as exc:
        raise kube.api_error(exc, f"listing {CONFIGMAP} ConfigMaps") from None
    found = []
    for cm in cms:
        try:
            entries = load_faults((cm.data or {}).get(KEY, ""))
        except ValueError:
            continue
        for name, entry in entries.items():
            if entry.get("fault_id"):
                found.append(
                    {
                        "namespace": _meta(cm).namespace,
                        "configmap": CONFIGMAP,
                        "name": name,
                        "fault_id": entry["fault_id"],
                        "kind": entry.get("kind"),
                        "expires_at": entry.get("expires_at"),
                    }
                )
    return found


def remove_leftovers(context: str | None = None, dry_run: bool = False) -> list[dict[str, Any]]:
    """Remove every entry :func:`find_leftovers` reports (and the ConfigMaps' chaosext annotations)."""
    found = find_leftovers(context)
    if not dry_run:
        for row in found:
            undo(row["namespace"], row["name"], row["fault_id"], context)
    return found


def default_server(configuration: Configuration) -> str:
    """There is none: the resolver the pods use has no address known from outside the cluster."""
    raise ActivityFailed("'server' is required on Kubernetes (host:port of the target's resolver)")
