"""chaosext.common.pki: the one CA and certificate code of the stack, the control plane, the faults and the tests."""

from __future__ import annotations

import datetime as dt
import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from chaosext.common import pki
from chaosext.localkube.pki import CLIENTS, ensure_pki
from chaosext.stack.config import StackConfig
from chaosext.stack.tls import ensure_tls


def test_server_cert_is_trusted_for_its_names_by_a_tls_client(tmp_path: Path) -> None:
    ca = pki.new_ca("unit CA")
    cert_pem, key_pem = pki.issue_server_cert(ca, ["svc.example.test", "localhost"], ["127.0.0.1"])
    cert = x509.load_pem_x509_certificate(cert_pem)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["svc.example.test", "localhost"]
    assert cert.issuer == ca.cert.subject
    # a verifying client completes a handshake for the name (what the services and probes do)
    (tmp_path / "c.pem").write_bytes(cert_pem)
    (tmp_path / "k.pem").write_bytes(key_pem)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    client = ssl.create_default_context(cadata=ca.pem.decode())
    assert _handshake(client, server, "svc.example.test") == cert.fingerprint(hashes.SHA256())
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(client, server, "other.example.test")


def _handshake(client: ssl.SSLContext, server: ssl.SSLContext, name: str) -> bytes:
    """A TLS handshake in memory; the SHA-256 fingerprint of the certificate the client accepted."""
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    near = client.wrap_bio(c_in, c_out, server_hostname=name)
    far = server.wrap_bio(s_in, s_out, server_side=True)
    done = {"client": False, "server": False}
    for _ in range(10):
        for side, tls in (("client", near), ("server", far)):
            if not done[side]:
                try:
                    tls.do_handshake()
                    done[side] = True
                except ssl.SSLWantReadError:
                    pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if all(done.values()):
            break
    der = near.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der).fingerprint(hashes.SHA256())


def test_expired_and_bad_input(tmp_path: Path) -> None:
    ca = pki.new_ca("unit CA")
    cert_pem, _ = pki.issue_server_cert(ca, ["a.test"], valid_for=dt.timedelta(days=1),
                                        not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=2))
    (tmp_path / "old.pem").write_bytes(cert_pem)
    assert not pki.cert_is_fresh(tmp_path / "old.pem")
    assert not pki.cert_is_fresh(tmp_path / "missing.pem")
    with pytest.raises(ValueError, match="IP"):
        pki.issue_server_cert(ca, ["a.test"], ["not-an-ip"])
    with pytest.raises(ValueError, match="at least one DNS name"):
        pki.issue_server_cert(ca, [])
    with pytest.raises(ValueError, match="my CA: not a PEM"):
        pki.load_ca(b"junk", b"junk", "my CA")


def test_ca_round_trips_through_files_and_keys_are_private(tmp_path: Path) -> None:
    ca = pki.new_ca("unit CA", days=10)
    pki.write_pem(tmp_path / "ca.pem", ca.pem)
    pki.write_pem(tmp_path / "ca-key.pem", ca.key_pem, private=True)
    assert stat.S_IMODE((tmp_path / "ca-key.pem").stat().st_mode) == 0o600
    again = pki.load_ca_files(tmp_path / "ca.pem", tmp_path / "ca-key.pem")
    assert again.cert == ca.cert and again.key.private_numbers() == ca.key.private_numbers()
    assert pki.cert_is_fresh(tmp_path / "ca.pem", min_days=9) and not pki.cert_is_fresh(tmp_path / "ca.pem", 11)


def test_stack_tls_is_made_once_and_kept(tmp_path: Path) -> None:
    config = StackConfig(state=tmp_path / "stack")
    assert ensure_tls(config) is True
    served = x509.load_pem_x509_certificate(config.payment_cert_file.read_bytes())
    assert served.issuer == x509.load_pem_x509_certificate(config.ca_file.read_bytes()).subject
    assert config.ca_bundle.read_bytes() == config.ca_file.read_bytes()
    assert ensure_tls(config) is False
    assert x509.load_pem_x509_certificate(config.payment_cert_file.read_bytes()) == served


def test_control_plane_pki_has_serving_and_client_certs(tmp_path: Path) -> None:
    files = ensure_pki(tmp_path / "pki", "10.96.0.1")
    ca = pki.load_ca_files(files.ca_cert, files.ca_key)
    api = x509.load_pem_x509_certificate(files.apiserver_cert.read_bytes())
    ips = api.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.IPAddress)
    assert [str(ip) for ip in ips] == ["127.0.0.1", "10.96.0.1"] and api.issuer == ca.cert.subject
    admin = x509.load_pem_x509_certificate(files.client_cert("admin").read_bytes())
    assert admin.subject.rfc4514_string() == "O=system:masters,CN=kubernetes-admin"
    usage = admin.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [pki.CLIENT_AUTH]
    assert all(files.client_key(name).exists() for name in CLIENTS) and files.sa_pub.exists()
