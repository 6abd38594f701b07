"""Certificate faults on the local stack: replace payment-service's certificate files.

payment-service re-reads ``TLS_CERT_FILE``/``TLS_KEY_FILE`` when they change and clients re-read
their trust bundle (``CA_FILE``): a fault writes new files atomically, keeps the old ones in a
private backup, and waits until both payment-service replicas serve the new certificate.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets
from cryptography import x509

from chaosext.certificate import backup, trust
from chaosext.certificate.driver import CertificateFault
from chaosext.certificate.handshake import handshake
from chaosext.certificate.material import CA, Served, describe, pem_certs, sans_of
from chaosext.common.pki import load_ca_files
from chaosext.common.waiting import WaitTimeout, eventually, wait_until
from chaosext.faults import engine, markers
from chaosext.faults.markers import FaultMarker
from chaosext.faults.undoers import undoer
from chaosext.stack.config import StackConfig, load_config

__all__ = ["Builder", "inject", "serve_certificate", "tls_endpoint", "undo"]

FAMILY = "certificate"
Builder = Callable[[CA, list[str], list[str], bytes], Served]
"""(the stack CA, the names and IPs of the current certificate, the current trust bundle) -> what to serve"""


def _write(path: Path, data: bytes, private: bool = False) -> None:
    tmp = path.with_name(f".{path.name}.chaosext.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _replicas(config: StackConfig) -> list[tuple[str, int]]:
    return [
        ("payment-service-1", config.ports.payment_service_1),
        ("payment-service-2", config.ports.payment_service_2),
    ]


def _clients(config: StackConfig) -> list[str]:
    """The metrics URLs of the stack's TLS clients (they trust ``CA_FILE``)."""
    p = config.ports
    return [f"{config.url(port)}/metrics" for port in (p.checkout_api_1, p.checkout_api_2, p.order_consumer)]


def _wait_served(config: StackConfig, fingerprint: str, timeout: float) -> dict[str, Any]:
    """Until every payment-service replica serves the certificate ``fingerprint`` (real handshakes)."""

    def served() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for name, port in _replicas(config):
            try:
                got = handshake(config.host, port, config.payment_dns_name, str(config.ca_bundle), timeout=3)
                seen[name] = got["certificate"]["fingerprint_sha256"]
            except OSError as exc:
                seen[name] = f"unreachable: {exc}"
        return seen

    try:
        return wait_until("payment-service to serve the new certificate", served,
                          done=lambda seen: all(v == fingerprint for v in seen.values()),
                          timeout_s=timeout, interval_s=0.2)
    except WaitTimeout as exc:
        raise ActivityFailed(
            f"payment-service did not serve the new certificate in {timeout:g}s: {exc.last}"
        ) from None


def inject(
    kind: str, description: str, build: Builder, seconds: float, trust_wait: float, wait_timeout: float
) -> dict[str, Any]:
    config = load_config()
    files = {"cert": config.payment_cert_file, "key": config.payment_key_file, "bundle": config.ca_bundle}
    missing = [str(p) for p in (*files.values(), config.ca_file, config.ca_key_file) if not p.exists()]
    if missing:
        raise ActivityFailed(
            f"the stack's TLS files are missing ({', '.join(missing)}): is the stack up? nothing changed"
        )
    active = markers.list_markers(family=FAMILY)
    if active:
        raise ActivityFailed(
            f"a certificate fault is already active ({active[0].id}: "
            f"{active[0].description}); roll it back first; nothing changed"
        )
    try:
        ca = load_ca_files(config.ca_file, config.ca_key_file)
        old = {name: path.read_bytes() for name, path in files.items()}
        names, ips = sans_of(x509.load_pem_x509_certificate(old["cert"]))
        served = build(ca, names, ips, old["bundle"])
    except ValueError as exc:
        raise ActivityFailed(f"cannot make the certificate: {exc}; nothing changed") from None
    fault_id = markers.new_id(FAMILY)
    saved = backup.save(fault_id, {"files": {str(files[n]): old[n].decode() for n in files}})
    marker = FaultMarker(
        id=fault_id,
        family=FAMILY,
        kind=kind,
        target=f"local:payment-service:{config.payment_cert_file}",
        scope={"service": "payment-service"},
        description=f"{description} for {seconds:g}s (payment-service, local stack)",
        undo="certificate.local_files",
        undo_args={
            "backup_file": saved,
            "private": [str(files["key"])],
            "order": [str(files["cert"]), str(files["key"]), str(files["bundle"])],
            "bundle": str(files["bundle"]),
            "server_name": config.payment_dns_name,
            "replicas": [[config.host, port] for _, port in _replicas(config)],
            "fingerprint": describe(old["cert"])["fingerprint_sha256"],
        },
        expires_at=time.time() + seconds,
    )
    new_info = describe(served.cert_pem)

    def apply() -> dict[str, Any]:
        changed: dict[str, Any] = {"old": describe(old["cert"]), "new": new_info, "files": []}
        if served.bundle_pem is not None:
            before = {url: trust.ca_reloads(url) for url in _clients(config)}
            # clients first trust the new CA, then the certificate changes: no failed handshake
            _write(files["bundle"], served.bundle_pem)
            changed["files"].append(str(files["bundle"]))
            changed["trust_bundle_cas"] = len(pem_certs(served.bundle_pem))
            with engine.unshielded():
                changed["clients_reloaded_trust"] = trust.wait_reloaded(before, trust_wait)
        _write(files["key"], served.key_pem, private=True)
        _write(files["cert"], served.cert_pem)
        changed["files"] += [str(files["key"]), str(files["cert"])]
        with engine.unshielded():
            changed["served_by"] = _wait_served(config, str(new_info["fingerprint_sha256"]), wait_timeout)
        return changed

    try:
        return engine.activate(marker, apply)
    finally:
        if markers.load(fault_id) is None:
            backup.drop(saved)


@undoer("certificate.local_files")
def undo(
    backup_file: str,
    order: list[str],
    private: list[str],
    bundle: str | None = None,
    replicas: list[list[Any]] | None = None,
    server_name: str = "",
    fingerprint: str = "",
) -> None:
    """Put the replaced files back: certificate and key first, then (once the old certificate is
    served again, so no client ever distrusts what it is served) the trust bundle. Idempotent."""
    saved = backup.load(backup_file)
    if saved is None:
        return
    files: dict[str, str] = saved["files"]
    for path in order:
        if path in files and path != bundle:
            _write(Path(path), files[path].encode(), private=path in private)
    if replicas and fingerprint:  # return once the old certificate is served again (bounded)
        _wait_fingerprint([(str(h), int(p)) for h, p in replicas], server_name, fingerprint, 30.0)
    if bundle and bundle in files:
        _write(Path(bundle), files[bundle].encode())
    backup.drop(backup_file)


def _wait_fingerprint(
    replicas: list[tuple[str, int]], server_name: str, fingerprint: str, timeout: float
) -> None:
    """Best effort, bounded: until every reachable replica serves ``fingerprint``."""

    def served() -> bool:
        for host, port in replicas:
            try:
                got = handshake(host, port, server_name, None, timeout=2)["certificate"]["fingerprint_sha256"]
            except OSError:
                continue
            if got != fingerprint:
                return False
        return True

    eventually("every reachable replica to serve the certificate", served, timeout_s=timeout, interval_s=0.2)


def serve_certificate(fault: CertificateFault, configuration: Configuration, secrets: Secrets) -> dict[str, Any]:
    """The driver's entry (``CertificateDriver``): payment-service's files, on every replica."""
    return inject(fault.kind, fault.description, fault.local_build, fault.seconds, fault.trust_wait, fault.timeout)


def tls_endpoint(port: int | None, server_name: str | None, ca_file: str | None, configuration: Configuration,
                 secrets: Secrets) -> tuple[Any, str, str | None]:
    """The stack's payment frontend (HAProxy, TLS passthrough), its DNS name and CA bundle."""
    if port is not None and ca_file is not None and server_name is not None:
        return port, server_name, ca_file
    config = load_config()
    return (config.ports.payment if port is None else port, server_name or config.payment_dns_name,
            ca_file or str(config.ca_bundle))
