"""Certificate authorities and the certificates they sign, on ``cryptography`` (EC P-256, SHA-256).

One implementation for the local stack's TLS files, the control plane's PKI, the certificate faults
and the tests. Private keys are returned as PEM bytes or objects and written with mode 0600; nothing
here logs one.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "CA",
    "CLIENT_AUTH",
    "SERVER_AUTH",
    "PrivateKey",
    "cert_is_fresh",
    "cert_pem",
    "issue_cert",
    "issue_server_cert",
    "key_pem",
    "load_ca",
    "load_ca_files",
    "name",
    "new_ca",
    "write_pem",
]

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
SERVER_AUTH = ExtendedKeyUsageOID.SERVER_AUTH
CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH
# certificates start a little in the past, so a peer whose clock lags slightly accepts them
BACKDATE = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class CA:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def pem(self) -> bytes:
        return cert_pem(self.cert)

    @property
    def key_pem(self) -> bytes:
        return key_pem(self.key)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def name(common_name: str, organization: str | None = None) -> x509.Name:
    """CN (and O: the Kubernetes API server takes a client's groups from it)."""
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attrs)


def key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def new_ca(common_name: str, days: int = 365) -> CA:
    """A self-signed CA that signs leaf certificates only (path length 0)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = name(common_name)
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE).not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CA(cert, key)


def issue_cert(
    ca: CA,
    subject: x509.Name,
    *,
    dns_names: Sequence[str] = (),
    ips: Sequence[str] = (),
    usage: x509.ObjectIdentifier = SERVER_AUTH,
    valid_for: dt.timedelta = dt.timedelta(days=365),
    not_before: dt.datetime | None = None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A leaf certificate for ``subject`` signed by ``ca``, for server or client ``usage``.

    ``not_before``/``valid_for`` let the certificate faults make expired or not-yet-valid ones;
    a bad IP address raises ValueError.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    start = not_before or (_now() - BACKDATE)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(ca.cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(start + valid_for)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
    )
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca.key, hashes.SHA256()), key


def issue_server_cert(
    ca: CA,
    dns_names: Sequence[str],
    ips: Sequence[str] = (),
    valid_for: dt.timedelta = dt.timedelta(days=825),
    not_before: dt.datetime | None = None,
) -> tuple[bytes, bytes]:
    """A serving certificate for ``dns_names`` (the first is its CN) and ``ips``: (cert PEM, key PEM)."""
    if not dns_names:
        raise ValueError("the certificate needs at least one DNS name")
    cert, key = issue_cert(ca, name(dns_names[0]), dns_names=dns_names, ips=ips, valid_for=valid_for,
                           not_before=not_before)
    return cert_pem(cert), key_pem(key)


def load_ca(cert: bytes, key: bytes, what: str) -> CA:
    """A CA from PEM certificate and key; ValueError naming ``what`` if they are not that."""
    try:
        certificate = x509.load_pem_x509_certificate(cert)
        private = serialization.load_pem_private_key(key, password=None)
    except ValueError as exc:
        raise ValueError(f"{what}: not a PEM certificate and key: {exc}") from None
    if not isinstance(private, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{what}: the CA key must be an EC key")
    return CA(certificate, private)


def load_ca_files(cert_file: Path, key_file: Path) -> CA:
    return load_ca(cert_file.read_bytes(), key_file.read_bytes(), str(cert_file))


def cert_is_fresh(path: Path, min_days: float = 0) -> bool:
    """``path`` holds a certificate that is valid now and for ``min_days`` more."""
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return False
    now = _now()
    return cert.not_valid_before_utc <= now and cert.not_valid_after_utc - now > dt.timedelta(days=min_days)


def write_pem(path: Path, data: bytes, private: bool = False) -> None:
    """Replace ``path`` atomically (readers never see half a file); ``private``: mode 0600 from the start."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as out:
        if private:  # a leftover temporary file keeps its mode: make sure
            os.fchmod(out.fileno(), 0o600)
        out.write(data)
    tmp.replace(path)
