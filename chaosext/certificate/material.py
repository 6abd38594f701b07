"""Certificate material for the faults (made with ``cryptography``), and what is safe to report.

Nothing here returns or logs a private key: :func:`describe` gives serial, fingerprint, issuer,
subject, SANs and validity only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from chaosext.common.pki import CA, issue_server_cert, new_ca

__all__ = ["CA", "Served", "describe", "new_ca", "pem_certs", "sans_of", "serve_cert"]


@dataclass(frozen=True)
class Served:
    """What a fault makes the service serve: certificate and key, plus a trust bundle if it changes."""

    cert_pem: bytes
    key_pem: bytes
    bundle_pem: bytes | None = None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def pem_certs(pem: bytes) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem) if pem.strip() else []


def sans_of(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    """(DNS names, IP addresses) of a certificate, to issue its replacement for the same names."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return ([str(cn[0].value)] if cn else []), []
    return san.get_values_for_type(x509.DNSName), [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]


def serve_cert(ca: CA, names: list[str], ips: list[str], expired: bool = False) -> tuple[bytes, bytes]:
    """A serving certificate for the names, signed by ``ca``; ``expired``: its notAfter is a day ago."""
    if expired:
        return issue_server_cert(ca, names, ips, valid_for=dt.timedelta(days=1),
                                 not_before=_now() - dt.timedelta(days=2))
    return issue_server_cert(ca, names, ips, valid_for=dt.timedelta(days=90))


def describe(cert: x509.Certificate | bytes) -> dict[str, object]:
    """Serial, SHA-256 fingerprint, subject, issuer, SANs and validity of a certificate."""
    if isinstance(cert, bytes):
        cert = x509.load_pem_x509_certificate(cert) if cert.lstrip().startswith(b"-----") \
            else x509.load_der_x509_certificate(cert)
    names, ips = sans_of(cert)
    return {
        "serial": format(cert.serial_number, "x"),
        "fingerprint_sha256": cert.fingerprint(hashes.SHA256()).hex(":"),
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "dns_names": names,
        "ip_addresses": ips,
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "expired": cert.not_valid_after_utc <= _now(),
    }
