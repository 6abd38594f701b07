"""A real TLS handshake with a server, as a client sees it: the certificate it serves and whether
a verifying client accepts it (and if not, why)."""

from __future__ import annotations

import socket
import ssl
from typing import Any

from chaosext.certificate.material import describe

__all__ = ["handshake"]


def _peer_cert(host: str, port: int, server_name: str, timeout: float) -> bytes:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # to read the certificate whatever it is; verification is below
    with socket.create_connection((host, port), timeout=timeout) as sock, \
            ctx.wrap_socket(sock, server_hostname=server_name) as tls:
        der = tls.getpeercert(binary_form=True)
    if not der:
        raise ssl.SSLError(f"{host}:{port} sent no certificate")
    return der


def _verify(host: str, port: int, server_name: str, ca_file: str | None, timeout: float) -> str | None:
    ctx = ssl.create_default_context(cafile=ca_file)
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock, \
                ctx.wrap_socket(sock, server_hostname=server_name):
            return None
    except ssl.SSLCertVerificationError as exc:
        return f"certificate verification failed: {exc.verify_message}"
    except (ssl.SSLError, OSError) as exc:
        return f"handshake failed: {exc}"


def handshake(host: str, port: int, server_name: str, ca_file: str | None,
              timeout: float = 5.0) -> dict[str, Any]:
    """The served certificate's details plus ``handshake_ok`` / ``error`` for a client trusting ``ca_file``.

    Raises OSError/ssl.SSLError when no TLS connection at all can be made."""
    info = describe(_peer_cert(host, port, server_name, timeout))
    error = _verify(host, port, server_name, ca_file, timeout)
    return {"endpoint": f"{host}:{port}", "server_name": server_name, "trusting": ca_file or "system store",
            "handshake_ok": error is None, "error": error, "certificate": info}
