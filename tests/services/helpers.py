"""Helpers for the service tests: service subprocesses, TLS files, metrics (waiting and ports: tests/support)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from support import wait_until

REPO = Path(__file__).resolve().parents[2]
SERVICES_DIR = REPO / "cluster" / "services"
PAYMENT_HOST = "payment.chaosext.test"



@dataclass
class Service:
    """A service started as `python -m <package>`, its stdout (JSON logs) in a file."""

    package: str
    env: dict[str, str]
    log_path: Path
    scheme: str = "http"
    proc: subprocess.Popen[bytes] | None = None
    verify: str | bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def port(self) -> int:
        return int(self.env["PORT"])

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self, wait_healthy: bool = True) -> Service:
        env = {**os.environ, "PYTHONPATH": str(SERVICES_DIR), "HOST": "127.0.0.1", **self.env}
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.package], env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        if wait_healthy:
            wait_until(f"{self.package} /healthz", lambda: self._healthy(), timeout=20, interval=0.1)
        return self

    def _healthy(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.package} exited {self.proc.returncode}:\n{self.log_path.read_text()}")
        return self.get("/healthz", timeout=1).status_code == 200

    def get(self, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 10)
        return requests.get(self.url + path, verify=self.verify, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 10)
        return requests.post(self.url + path, verify=self.verify, **kw)

    def metrics(self) -> str:
        return self.get("/metrics").text

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if getattr(self, "_log", None):
            self._log.close()

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")


def metric_value(text: str, name: str, labels: dict[str, str] | None = None) -> float | None:
    """The value of the first sample `name{labels...}` in Prometheus text (labels matched as a subset)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in (labels or {}).items()):
                return float(sample.value)
    return None


@dataclass
class TlsFiles:
    ca_cert: Path
    ca_key: ec.EllipticCurvePrivateKey
    ca: x509.Certificate
    cert: Path
    key: Path


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(directory: Path) -> TlsFiles:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("chaosext test CA"))
        .issuer_name(_name("chaosext test CA"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    ca_path = directory / "ca.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files = TlsFiles(ca_cert=ca_path, ca_key=key, ca=ca, cert=directory / "tls.crt", key=directory / "tls.key")
    issue_server_cert(files, days=1)
    return files


def issue_server_cert(files: TlsFiles, days: int) -> x509.Certificate:
    """(Re)write the server certificate and key for payment.chaosext.test and 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(PAYMENT_HOST))
        .issuer_name(files.ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(PAYMENT_HOST), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(files.ca_key.public_key()), critical=False
        )
        .sign(files.ca_key, hashes.SHA256())
    )
    tmp_key, tmp_cert = files.key.with_suffix(".key.tmp"), files.cert.with_suffix(".crt.tmp")
    tmp_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    tmp_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    os.replace(tmp_key, files.key)
    os.replace(tmp_cert, files.cert)
    return cert


def served_certificate(port: int) -> x509.Certificate:
    import ssl

    pem = ssl.get_server_certificate(("127.0.0.1", port), timeout=5)
    return x509.load_pem_x509_certificate(pem.encode())
