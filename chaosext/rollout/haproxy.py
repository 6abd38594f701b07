"""The local stack's HAProxy runtime API (its admin socket): drain, ready, server states.

Written by hand because it is a few lines over a unix socket; the one maintained Python client
(haproxyadmin) has been unmaintained since 2020."""

from __future__ import annotations

import csv
import io
import socket
from pathlib import Path
from typing import Any

from chaoslib.exceptions import ActivityFailed

from chaosext.stack.config import load_config

__all__ = ["command", "server_states", "set_state"]


def _socket_path() -> Path:
    return load_config().state / "haproxy" / "admin.sock"


def command(line: str, timeout: float = 5.0) -> str:
    path = _socket_path()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    except OSError as exc:
        raise ActivityFailed(f"HAProxy admin socket {path} is not answering: {exc}") from None
    return b"".join(chunks).decode()


def server_states(backend: str) -> dict[str, dict[str, Any]]:
    """Each server of ``backend``: status (UP, DOWN, DRAIN, MAINT...), current sessions."""
    text = command("show stat").lstrip("# ")
    rows = {}
    for row in csv.DictReader(io.StringIO(text)):
        if row.get("pxname") == backend and row.get("svname") not in ("FRONTEND", "BACKEND"):
            rows[row["svname"]] = {"status": row.get("status", ""), "sessions": int(row.get("scur") or 0),
                                   "check": row.get("check_status", "")}
    if not rows:
        raise ActivityFailed(f"HAProxy has no backend {backend!r}")
    return rows


def set_state(backend: str, server: str, state: str) -> None:
    out = command(f"set server {backend}/{server} state {state}").strip()
    if out:
        raise ActivityFailed(f"HAProxy refused 'set server {backend}/{server} state {state}': {out}")
