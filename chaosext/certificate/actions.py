"""Certificate faults: rotation under traffic, expired and untrusted certificates; each time-bounded
and undone by :func:`restore_certificates` (or when its ``duration`` ends).

Local stack: payment-service's certificate files. Kubernetes: the TLS Secret ``secret`` (and a
rollout restart of ``workload`` unless it reloads mounted Secrets by itself).
"""

from __future__ import annotations

import time
from typing import Any

from chaoslib.types import Configuration, Secrets

from chaosext.certificate.driver import CertificateDriver, CertificateFault, KubeBuilder, LocalBuilder
from chaosext.certificate.material import CA, Served, serve_cert
from chaosext.certificate.material import new_ca as make_ca
from chaosext.common import checks
from chaosext.faults import engine
from chaosext.target import driver_for

__all__ = [
    "restore_certificates",
    "rotate_certificate",
    "serve_expired_certificate",
    "serve_untrusted_certificate",
]

FAMILY = "certificate"


def _stamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _need(ca: CA | None, what: str) -> CA:
    if ca is None:
        raise ValueError(
            f"{what} must be signed by the service's CA: name the Secret holding its tls.crt and "
            "tls.key in 'ca_secret' (or the 'ca_secret' configuration)"
        )
    return ca


def _run(
    kind: str,
    description: str,
    local_build: LocalBuilder,
    kube_build: KubeBuilder,
    duration: float,
    k8s: dict[str, Any],
    timeout: float,
    trust_wait: float,
    configuration: Configuration,
    secrets: Secrets,
) -> dict[str, Any]:
    fault = CertificateFault(
        kind=kind,
        description=description,
        local_build=local_build,
        kube_build=kube_build,
        seconds=engine.check_duration(duration),
        timeout=checks.seconds("timeout", timeout),
        trust_wait=checks.seconds("trust_wait", trust_wait),
        **k8s,
    )
    driver: CertificateDriver = driver_for(configuration, FAMILY)
    return driver.serve_certificate(fault, configuration, secrets)


def rotate_certificate(
    new_ca: bool = False,
    duration: float = 300,
    secret: str = "payment-tls",
    namespace: str | None = None,
    ca_secret: str | None = None,
    trust_bundle_configmap: str | None = None,
    workload: str | None = None,
    workload_kind: str = "deployment",
    restart: bool | None = None,
    timeout: float = 120,
    trust_wait: float = 10,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Rotate the service's certificate (new key and certificate for the same names) while traffic
    runs, for ``duration`` seconds (then, or on rollback, the old one is put back). With ``new_ca``
    a new CA signs it and is first added to the trust bundle clients read (they get up to
    ``trust_wait`` seconds to re-read it). Returns once the new certificate is served (local: both
    payment-service replicas, seen through real handshakes; Kubernetes: the Secret is updated and,
    if ``workload`` does not reload Secrets or ``restart`` is true, its rollout restart completed
    within ``timeout``). The record gives old and new serial, fingerprint, issuer and notAfter."""

    def local_build(ca: CA, names: list[str], ips: list[str], bundle: bytes) -> Served:
        if not new_ca:
            return Served(*serve_cert(ca, names, ips))
        fresh = make_ca(f"chaosext rotated CA {_stamp()}")
        return Served(*serve_cert(fresh, names, ips), bundle_pem=bundle.rstrip() + b"\n" + fresh.pem)

    def kube_build(ca: CA | None, names: list[str], ips: list[str]) -> tuple[Served, CA | None]:
        if not new_ca:
            return Served(*serve_cert(_need(ca, "a rotated certificate (new_ca false)"), names, ips)), None
        fresh = make_ca(f"chaosext rotated CA {_stamp()}")
        return Served(*serve_cert(fresh, names, ips)), fresh

    what = "certificate rotated" + (" to a new CA (added to the trust bundle)" if new_ca else "")
    k8s = {
        "secret": secret,
        "namespace": namespace,
        "ca_secret": ca_secret,
        "trust_bundle_configmap": trust_bundle_configmap,
        "workload": workload,
        "workload_kind": workload_kind,
        "restart": restart,
    }
    return _run(
        "rotate", what, local_build, kube_build, duration, k8s, timeout, trust_wait, configuration, secrets
    )


def serve_expired_certificate(
    duration: float = 60,
    secret: str = "payment-tls",
    namespace: str | None = None,
    ca_secret: str | None = None,
    workload: str | None = None,
    workload_kind: str = "deployment",
    restart: bool | None = None,
    timeout: float = 120,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Serve an expired certificate (signed by the right CA, notAfter a day ago) for ``duration``
    seconds: verifying clients must refuse it and fail safely and visibly. Undone by
    restore_certificates or when ``duration`` ends."""

    def local_build(ca: CA, names: list[str], ips: list[str], bundle: bytes) -> Served:
        return Served(*serve_cert(ca, names, ips, expired=True))

    def kube_build(ca: CA | None, names: list[str], ips: list[str]) -> tuple[Served, CA | None]:
        return Served(*serve_cert(_need(ca, "an expired certificate"), names, ips, expired=True)), None

    k8s = {
        "secret": secret,
        "namespace": namespace,
        "ca_secret": ca_secret,
        "trust_bundle_configmap": None,
        "workload": workload,
        "workload_kind": workload_kind,
        "restart": restart,
    }
    return _run(
        "expired",
        "expired certificate served",
        local_build,
        kube_build,
        duration,
        k8s,
        timeout,
        1,
        configuration,
        secrets,
    )


def serve_untrusted_certificate(
    duration: float = 60,
    secret: str = "payment-tls",
    namespace: str | None = None,
    workload: str | None = None,
    workload_kind: str = "deployment",
    restart: bool | None = None,
    timeout: float = 120,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Serve a certificate from a CA the clients do not trust for ``duration`` seconds: verifying
    clients must refuse it and fail safely and visibly. Undone by restore_certificates or when
    ``duration`` ends."""

    def local_build(ca: CA, names: list[str], ips: list[str], bundle: bytes) -> Served:
        return Served(*serve_cert(make_ca("chaosext untrusted CA"), names, ips))

    def kube_build(ca: CA | None, names: list[str], ips: list[str]) -> tuple[Served, CA | None]:
        return Served(*serve_cert(make_ca("chaosext untrusted CA"), names, ips)), None

    k8s = {
        "secret": secret,
        "namespace": namespace,
        "ca_secret": None,
        "trust_bundle_configmap": None,
        "workload": workload,
        "workload_kind": workload_kind,
        "restart": restart,
    }
    return _run(
        "untrusted",
        "certificate from an untrusted CA served",
        local_build,
        kube_build,
        duration,
        k8s,
        timeout,
        1,
        configuration,
        secrets,
    )


def restore_certificates(
    secret: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> list[dict[str, Any]]:
    """Rollback: put back every certificate (and trust bundle) a certificate fault replaced (only
    the Secret ``secret``, if given). Returns the records of the faults undone."""
    return engine.undo_matching(FAMILY, scope={"secret": secret})
