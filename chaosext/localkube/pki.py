"""Certificates and keys of the local control plane (chaosext.common.pki; generated once per state dir).

A CA signs the API server's serving certificate (127.0.0.1, localhost and the in-cluster names)
and one client certificate per component; a separate RSA key pair signs service-account tokens.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import ObjectIdentifier

from chaosext.common import pki as certs

__all__ = ["CLIENTS", "Pki", "ensure_pki"]

VALID_DAYS = 365
# component -> (common name, organisation): the API server takes the user from CN and groups from O.
CLIENTS: dict[str, tuple[str, str | None]] = {
    "admin": ("kubernetes-admin", "system:masters"),
    "kube-controller-manager": ("system:kube-controller-manager", None),
    "kube-scheduler": ("system:kube-scheduler", None),
    # KWOK plays every kubelet (node status, leases, pod status): it gets cluster-admin rights.
    "kwok": ("kwok-controller", "system:masters"),
}
SERVING_NAMES = ("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                 "kubernetes.default.svc.cluster.local")


@dataclass(frozen=True)
class Pki:
    directory: Path

    @property
    def ca_cert(self) -> Path:
        return self.directory / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.directory / "ca.key"

    @property
    def apiserver_cert(self) -> Path:
        return self.directory / "apiserver.crt"

    @property
    def apiserver_key(self) -> Path:
        return self.directory / "apiserver.key"

    @property
    def sa_key(self) -> Path:
        return self.directory / "sa.key"

    @property
    def sa_pub(self) -> Path:
        return self.directory / "sa.pub"

    def client_cert(self, name: str) -> Path:
        return self.directory / f"{name}.crt"

    def client_key(self, name: str) -> Path:
        return self.directory / f"{name}.key"


def _make_ca(pki: Pki) -> None:
    ca = certs.new_ca("chaosext-localkube-ca", days=VALID_DAYS)
    certs.write_pem(pki.ca_key, ca.key_pem, private=True)
    certs.write_pem(pki.ca_cert, ca.pem)


def _issue(pki: Pki, cert_path: Path, key_path: Path, subject_cn: str, org: str | None,
           usage: ObjectIdentifier, dns_names: tuple[str, ...] = (), ips: tuple[str, ...] = ()) -> None:
    ca = certs.load_ca_files(pki.ca_cert, pki.ca_key)
    cert, key = certs.issue_cert(ca, certs.name(subject_cn, org), dns_names=dns_names, ips=ips, usage=usage,
                                 valid_for=dt.timedelta(days=VALID_DAYS))
    certs.write_pem(key_path, certs.key_pem(key), private=True)
    certs.write_pem(cert_path, certs.cert_pem(cert))


def _make_sa_keys(pki: Pki) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certs.write_pem(pki.sa_key, certs.key_pem(key), private=True)
    certs.write_pem(pki.sa_pub, key.public_key().public_bytes(serialization.Encoding.PEM,
                                                             serialization.PublicFormat.SubjectPublicKeyInfo))


def ensure_pki(directory: Path, service_ip: str) -> Pki:
    """Create whatever is missing in DIRECTORY; existing files are kept (they stay valid a year)."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    pki = Pki(directory)
    if not (pki.ca_cert.exists() and pki.ca_key.exists()):
        _make_ca(pki)
        for stale in directory.glob("*.crt"):
            if stale != pki.ca_cert:
                stale.unlink()
    if not pki.apiserver_cert.exists():
        _issue(pki, pki.apiserver_cert, pki.apiserver_key, "kube-apiserver", None, certs.SERVER_AUTH,
               SERVING_NAMES, ("127.0.0.1", service_ip))
    for name, (common_name, org) in CLIENTS.items():
        if not pki.client_cert(name).exists():
            _issue(pki, pki.client_cert(name), pki.client_key(name), common_name, org, certs.CLIENT_AUTH)
    if not (pki.sa_key.exists() and pki.sa_pub.exists()):
        _make_sa_keys(pki)
    return pki
