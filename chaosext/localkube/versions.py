"""Pinned versions of the control plane's components."""

from __future__ import annotations

__all__ = ["ETCD_MODULE", "K8S_VERSION", "KWOK_VERSION", "staging_version"]

# The version kind v0.33.0 uses by default (kindest/node:v1.37.0); its go.mod asks for Go 1.26.0.
K8S_VERSION = "v1.37.0"
# KWOK's newest release; its go.mod has no replace directives, so `go install` works.
KWOK_VERSION = "v0.8.0"
# etcd is built from the very module version k8s.io/kubernetes pins (go.etcd.io/etcd/server/v3 v3.7.0
# for v1.37.0), in the same `go build` as the Kubernetes commands, so it shares their dependencies.
ETCD_MODULE = "go.etcd.io/etcd/server/v3"


def staging_version(k8s_version: str = K8S_VERSION) -> str:
    """k8s.io/kubernetes vX.Y.Z publishes its staging modules (k8s.io/api, ...) as v0.Y.Z."""
    major, minor, patch = k8s_version.lstrip("v").split(".")
    if major != "1":
        raise ValueError(f"k8s_version {k8s_version!r}: only Kubernetes 1.x is supported")
    return f"v0.{minor}.{patch}"
