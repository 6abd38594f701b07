"""Where the control plane's binaries and runtime state live (see docs/architecture.md)."""

from __future__ import annotations

import os
from pathlib import Path

from chaosext.localkube.versions import K8S_VERSION

__all__ = ["BINARIES", "bin_dir", "cache_root", "default_state_dir"]

BINARIES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "etcd")


def cache_root() -> Path:
    env = os.environ.get("CHAOSEXT_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "chaosext"


def bin_dir(k8s_version: str = K8S_VERSION) -> Path:
    """$CHAOSEXT_CACHE_DIR/kube/<k8s-version>/ holds the five binaries."""
    return cache_root() / "kube" / k8s_version


def default_state_dir() -> Path:
    env = os.environ.get("CHAOSEXT_STATE_DIR")
    if env:
        root = Path(env).expanduser()
    else:
        xdg = os.environ.get("XDG_STATE_HOME")
        root = (Path(xdg).expanduser() if xdg else Path.home() / ".local" / "state") / "chaosext"
    return root / "kube"
