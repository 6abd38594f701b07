"""Certificate probes: the certificate a service serves (serial, fingerprint, issuer, notAfter) and
whether a verifying client's handshake succeeds; the certificate in a Kubernetes TLS Secret."""

from __future__ import annotations

import base64
import contextlib
import ssl
import tempfile
from collections.abc import Iterator
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets
from kubernetes import client
from kubernetes.client.rest import ApiException

from chaosext import kube
from chaosext.certificate.driver import CertificateDriver, ClusterBundle, check_port
from chaosext.certificate.handshake import handshake
from chaosext.certificate.material import describe
from chaosext.target import driver_for, setting

__all__ = ["handshake_succeeds", "secret_certificate", "served_certificate"]


def _endpoint(host: str | None, port: int | None, server_name: str | None, ca_file: str | None,
              configuration: Configuration, secrets: Secrets) -> tuple[str, int, str, str | None]:
    """Where the argument is not given: the configuration (``payment_tls_host``,
    ``payment_server_name``, ``ca_file``), else the target's defaults (the driver's
    ``tls_endpoint``: locally the stack's payment frontend, HAProxy with TLS passthrough, and its
    CA bundle; on Kubernetes ``payment_tls_port`` and the trust bundle the clients mount)."""
    host = host or setting(configuration, "payment_tls_host") or "127.0.0.1"
    server_name = server_name or setting(configuration, "payment_server_name")
    ca_file = ca_file or setting(configuration, "ca_file")
    driver: CertificateDriver = driver_for(configuration, "certificate")
    port, server_name, ca_file = driver.tls_endpoint(port, server_name, ca_file, configuration, secrets)
    return host, check_port(port, "port"), server_name, ca_file


@contextlib.contextmanager
def _trust_file(ca: str | None) -> Iterator[str | None]:
    """A path to hand to the TLS client: ``ca`` itself, or a private temp file holding a bundle
    read from the cluster (removed afterwards)."""
    if not isinstance(ca, ClusterBundle):
        yield ca
        return
    with tempfile.NamedTemporaryFile("w", prefix="chaosext-trust-", suffix=".pem") as out:
        out.write(str(ca))
        out.flush()
        yield out.name


def _trust_label(ca: str | None) -> str:
    if isinstance(ca, ClusterBundle):
        return ca.source
    return ca or "system store"


def served_certificate(
    host: str | None = None,
    port: int | None = None,
    server_name: str | None = None,
    ca_file: str | None = None,
    timeout: float = 5.0,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Connect to ``host:port`` with TLS (SNI ``server_name``) as a client does and report the
    certificate served (serial, SHA-256 fingerprint, subject, issuer, notBefore/notAfter) and
    whether a client trusting ``ca_file`` completes the handshake (``handshake_ok``, ``error``).
    Defaults: the local stack's payment endpoint, payment.chaosext.test, the stack CA bundle."""
    h, p, name, ca = _endpoint(host, port, server_name, ca_file, configuration, secrets)
    try:
        with _trust_file(ca) as path:
            return {**handshake(h, p, name, path, timeout), "trusting": _trust_label(ca)}
    except (OSError, ssl.SSLError) as exc:
        raise ActivityFailed(f"no TLS connection to {h}:{p}: {exc}") from None


def handshake_succeeds(
    host: str | None = None,
    port: int | None = None,
    server_name: str | None = None,
    ca_file: str | None = None,
    timeout: float = 5.0,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> bool:
    """True when a client trusting ``ca_file`` completes a verified TLS handshake with ``host:port``
    (same defaults as served_certificate); False when the certificate is refused or no TLS
    connection can be made."""
    h, p, name, ca = _endpoint(host, port, server_name, ca_file, configuration, secrets)
    try:
        with _trust_file(ca) as path:
            return bool(handshake(h, p, name, path, timeout)["handshake_ok"])
    except (OSError, ssl.SSLError):
        return False


def secret_certificate(
    secret: str = "payment-tls",
    namespace: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """The certificate in the Kubernetes TLS Secret ``secret`` (serial, fingerprint, issuer,
    notAfter; never the key), and the CAs of its ``ca.crt`` if it has one."""
    ns = kube.namespace_of(namespace, configuration)
    core = client.CoreV1Api(kube.api_client(configuration, secrets))
    try:
        obj = core.read_namespaced_secret(secret, ns)
    except ApiException as exc:
        if exc.status == 404:
            raise ActivityFailed(f"'secret': Secret {secret!r} not found in namespace {ns!r}") from None
        raise kube.api_error(exc, f"reading Secret {ns}/{secret}") from None
    data = obj.data or {}
    if "tls.crt" not in data:
        raise ActivityFailed(f"'secret': {ns}/{secret} has no tls.crt")
    from chaosext.certificate.material import pem_certs

    cas = [describe(c) for c in pem_certs(base64.b64decode(data["ca.crt"]))] if "ca.crt" in data else []
    meta = obj.metadata
    return {"secret": f"{ns}/{secret}", "resource_version": getattr(meta, "resource_version", None),
            "certificate": describe(base64.b64decode(data["tls.crt"])), "ca": cas}
