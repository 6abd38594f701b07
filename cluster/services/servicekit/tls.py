"""TLS contexts: a client trust bundle and a serving certificate, both re-read when their files change."""

from __future__ import annotations

import logging
import ssl

from cryptography import x509
from prometheus_client import Counter, Gauge

from .watch import FileWatcher

log = logging.getLogger("tls")

TLS_RELOADS = Counter("tls_reloads", "Reloads of TLS files by result", ["kind", "result"])
TLS_NOT_AFTER = Gauge("tls_certificate_not_after_seconds", "notAfter (unix time) of the certificate served")


def certificate_not_after(cert_file: str) -> float:
    with open(cert_file, "rb") as fh:
        cert = x509.load_pem_x509_certificate(fh.read())
    return cert.not_valid_after_utc.timestamp()


class ServerTls:
    """One live SSLContext for the listening socket; new handshakes see a rotated certificate."""

    def __init__(self, cert_file: str, key_file: str) -> None:
        self.cert_file = cert_file
        self.key_file = key_file
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.context.load_cert_chain(cert_file, key_file)
        TLS_NOT_AFTER.set(certificate_not_after(cert_file))
        self.watcher = FileWatcher([cert_file, key_file], self.reload)

    def reload(self) -> bool:
        try:
            self.context.load_cert_chain(self.cert_file, self.key_file)
            not_after = certificate_not_after(self.cert_file)
        except (OSError, ssl.SSLError, ValueError) as exc:
            # typical mid-rotation state: the new certificate is written, the key not yet
            TLS_RELOADS.labels(kind="server", result="error").inc()
            log.warning("TLS certificate reload failed, will retry: %s", exc)
            return False
        TLS_NOT_AFTER.set(not_after)
        TLS_RELOADS.labels(kind="server", result="success").inc()
        log.info("TLS certificate reloaded", extra={"not_after": not_after})
        return True


class ClientTrust:
    """Client SSLContext trusting CA_FILE (or the system store). A changed CA file gives a new context,
    handed out per request, so the connection pool is not touched."""

    def __init__(self, ca_file: str | None) -> None:
        self.ca_file = ca_file
        self.context = self._build()
        self.watcher = FileWatcher([ca_file], self.reload) if ca_file else None

    def _build(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.ca_file)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        return ctx

    def reload(self) -> bool:
        try:
            self.context = self._build()
        except (OSError, ssl.SSLError) as exc:
            TLS_RELOADS.labels(kind="client_ca", result="error").inc()
            log.warning("CA bundle reload failed, will retry: %s", exc)
            return False
        TLS_RELOADS.labels(kind="client_ca", result="success").inc()
        log.info("CA bundle reloaded from %s", self.ca_file)
        return True
