"""Helpers for the service tests: service subprocesses, TLS files, metrics (waiting and ports: tests/support)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from cryptography import x509
from support import wait_until

from chaosext.common import procs
from chaosext.common.pki import CA, new_ca, write_pem
from chaosext.common.pki import issue_server_cert as pki_server_cert

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
        if self.proc is not None:
            procs.end(self.proc, grace_s=15, kill_wait_s=5)
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
    ca: CA
    cert: Path
    key: Path


def make_ca(directory: Path) -> TlsFiles:
    ca = new_ca("chaosext test CA", days=2)
    ca_path = directory / "ca.pem"
    write_pem(ca_path, ca.pem)
    files = TlsFiles(ca_cert=ca_path, ca=ca, cert=directory / "tls.crt", key=directory / "tls.key")
    issue_server_cert(files, days=1)
    return files


def issue_server_cert(files: TlsFiles, days: int) -> x509.Certificate:
    """(Re)write the server certificate and key for payment.chaosext.test and 127.0.0.1."""
    cert_pem, key_pem = pki_server_cert(files.ca, [PAYMENT_HOST], ["127.0.0.1"], valid_for=dt.timedelta(days=days))
    write_pem(files.key, key_pem, private=True)
    write_pem(files.cert, cert_pem)
    return x509.load_pem_x509_certificate(cert_pem)


def served_certificate(port: int) -> x509.Certificate:
    import ssl

    pem = ssl.get_server_certificate(("127.0.0.1", port), timeout=5)
    return x509.load_pem_x509_certificate(pem.encode())
