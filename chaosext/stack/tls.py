"""The stack's TLS material: a CA and payment-service's serving certificate (made with ``cryptography``).

Files (in ``<state>/tls``): ``ca.pem``/``ca-key.pem`` (the stack CA), ``payment.pem``/``payment-key.pem``
(for payment.chaosext.test, localhost and 127.0.0.1), and ``ca-bundle.pem`` (what clients trust).
Existing, still valid files are kept, so ``stack up`` is idempotent and services keep their certs.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from chaosext.stack.config import StackConfig

__all__ = ["ensure_tls", "issue_server_cert", "load_ca"]

PrivateKey = ec.EllipticCurvePrivateKey


def _write(path: Path, data: bytes, private: bool = False) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    if private:
        os.chmod(tmp, 0o600)
    tmp.replace(path)


def _key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _make_ca(days: int = 3650) -> tuple[x509.Certificate, PrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "chaosext stack CA")])
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def load_ca(config: StackConfig) -> tuple[x509.Certificate, PrivateKey]:
    cert = x509.load_pem_x509_certificate(config.ca_file.read_bytes())
    key = serialization.load_pem_private_key(config.ca_key_file.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{config.ca_key_file} is not an EC key")
    return cert, key


def issue_server_cert(
    ca_cert: x509.Certificate,
    ca_key: PrivateKey,
    dns_names: list[str],
    ips: list[str],
    valid_for: dt.timedelta = dt.timedelta(days=825),
    not_before: dt.datetime | None = None,
) -> tuple[bytes, bytes]:
    """A serving certificate signed by the CA: (certificate PEM, key PEM).

    ``not_before``/``valid_for`` let certificate-rotation faults make expired or not-yet-valid certs.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    start = not_before or (_now() - dt.timedelta(minutes=5))
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_names[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + valid_for)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def _cert_ok(path: Path, min_days: int = 7) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return False
    return (
        cert.not_valid_after_utc - _now() > dt.timedelta(days=min_days)
        and cert.not_valid_before_utc <= _now()
    )


def ensure_tls(config: StackConfig) -> bool:
    """Create the CA, the payment certificate and the CA bundle unless valid ones exist; True if made."""
    config.tls.mkdir(parents=True, exist_ok=True)
    made = False
    if not (_cert_ok(config.ca_file) and config.ca_key_file.exists()):
        ca_cert, ca_key = _make_ca()
        _write(config.ca_key_file, _key_pem(ca_key), private=True)
        _write(config.ca_file, ca_cert.public_bytes(serialization.Encoding.PEM))
        for stale in (config.payment_cert_file, config.payment_key_file):
            stale.unlink(missing_ok=True)
        made = True
    if not (_cert_ok(config.payment_cert_file) and config.payment_key_file.exists()):
        ca_cert, ca_key = load_ca(config)
        cert_pem, key_pem = issue_server_cert(
            ca_cert, ca_key, [config.payment_dns_name, "localhost"], ["127.0.0.1"]
        )
        _write(config.payment_key_file, key_pem, private=True)
        _write(config.payment_cert_file, cert_pem)
        made = True
    if made or not config.ca_bundle.exists():
        _write(config.ca_bundle, config.ca_file.read_bytes())
    return made
