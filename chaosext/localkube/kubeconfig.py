"""Kubeconfig files with the certificates embedded, so a file works from any directory."""

from __future__ import annotations

import base64
from pathlib import Path

import yaml

from chaosext.localkube.pki import Pki

__all__ = ["CONTEXT", "write_kubeconfig"]

CONTEXT = "chaosext-localkube"


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


def write_kubeconfig(path: Path, pki: Pki, client: str, server: str) -> Path:
    """Write a kubeconfig for CLIENT (a name in pki.CLIENTS) talking to SERVER; returns PATH."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": {
            "server": server, "certificate-authority-data": _b64(pki.ca_cert)}}],
        "users": [{"name": client, "user": {
            "client-certificate-data": _b64(pki.client_cert(client)),
            "client-key-data": _b64(pki.client_key(client))}}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": client, "namespace": "default"}}],
        "current-context": CONTEXT,
        "preferences": {},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(config, sort_keys=False))
    tmp.chmod(0o600)
    tmp.replace(path)
    return path
