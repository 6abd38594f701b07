"""Where the control plane's binaries and runtime state live (see docs/architecture.md)."""

from __future__ import annotations

from pathlib import Path

from chaosext.common.settings import cache_root, state_root
from chaosext.localkube.versions import K8S_VERSION

__all__ = ["BINARIES", "bin_dir", "default_state_dir"]

BINARIES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "etcd")


def bin_dir(k8s_version: str = K8S_VERSION) -> Path:
    """$CHAOSEXT_CACHE_DIR/kube/<k8s-version>/ holds the five binaries."""
    return cache_root() / "kube" / k8s_version


def default_state_dir() -> Path:
    """$CHAOSEXT_STATE_DIR/kube."""
    return state_root() / "kube"
