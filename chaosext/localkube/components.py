"""Command lines of the five processes of the control plane."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from chaosext.localkube.nodes import KWOK_ANNOTATION
from chaosext.localkube.pki import Pki
from chaosext.localkube.settings import POD_CIDR, SERVICE_CIDR, Ports
from chaosext.localkube.stages import write_stages

__all__ = ["ORDER", "Layout", "command"]

# Start order; stop goes the other way.
ORDER = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
HEALTH_PATHS = "/healthz,/readyz,/livez,/metrics"


@dataclass(frozen=True)
class Layout:
    bin_dir: Path
    state_dir: Path
    pki: Pki
    ports: Ports

    def kubeconfig(self, client: str) -> Path:
        return self.state_dir / "kubeconfigs" / f"{client}.kubeconfig"

    @property
    def admin_kubeconfig(self) -> Path:
        return self.state_dir / "kubeconfig"

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.ports.apiserver}"


def _etcd(lay: Layout) -> list[str]:
    client = f"http://127.0.0.1:{lay.ports.etcd_client}"
    peer = f"http://127.0.0.1:{lay.ports.etcd_peer}"
    return [
        str(lay.bin_dir / "etcd"), "--name=localkube", f"--data-dir={lay.state_dir / 'etcd'}",
        f"--listen-client-urls={client}", f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=localkube={peer}", "--initial-cluster-state=new",
        "--auto-compaction-retention=1", "--log-level=warn",
    ]


def _apiserver(lay: Layout) -> list[str]:
    pki = lay.pki
    return [
        str(lay.bin_dir / "kube-apiserver"),
        "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", f"--secure-port={lay.ports.apiserver}",
        # the `kubernetes` Service gets no endpoints: 127.0.0.1 is not a valid endpoint address
        "--endpoint-reconciler-type=none",
        f"--etcd-servers=http://127.0.0.1:{lay.ports.etcd_client}",
        f"--tls-cert-file={pki.apiserver_cert}", f"--tls-private-key-file={pki.apiserver_key}",
        f"--client-ca-file={pki.ca_cert}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={pki.sa_pub}", f"--service-account-signing-key-file={pki.sa_key}",
        "--authorization-mode=Node,RBAC", f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--allow-privileged=true", f"--cert-dir={lay.state_dir / 'certs' / 'kube-apiserver'}",
        "--enable-admission-plugins=NodeRestriction",
    ]


def _component_common(lay: Layout, name: str, port: int) -> list[str]:
    kubeconfig = lay.kubeconfig(name)
    return [
        f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}", f"--authorization-always-allow-paths={HEALTH_PATHS}",
        "--bind-address=127.0.0.1", f"--secure-port={port}",
        f"--cert-dir={lay.state_dir / 'certs' / name}", "--leader-elect=false",
    ]


def _controller_manager(lay: Layout) -> list[str]:
    pki = lay.pki
    return [
        str(lay.bin_dir / "kube-controller-manager"),
        *_component_common(lay, "kube-controller-manager", lay.ports.controller_manager),
        f"--service-account-private-key-file={pki.sa_key}", f"--root-ca-file={pki.ca_cert}",
        "--use-service-account-credentials=true",
        f"--cluster-signing-cert-file={pki.ca_cert}", f"--cluster-signing-key-file={pki.ca_key}",
        f"--service-cluster-ip-range={SERVICE_CIDR}", "--controllers=*",
    ]


def _scheduler(lay: Layout) -> list[str]:
    return [
        str(lay.bin_dir / "kube-scheduler"),
        *_component_common(lay, "kube-scheduler", lay.ports.scheduler),
    ]


def _kwok(lay: Layout) -> list[str]:
    key, value = KWOK_ANNOTATION
    return [
        str(lay.bin_dir / "kwok"), f"--kubeconfig={lay.kubeconfig('kwok')}",
        f"--config={write_stages(lay.bin_dir, lay.state_dir)}",
        "--manage-all-nodes=false", f"--manage-nodes-with-annotation-selector={key}={value}",
        "--node-ip=127.0.0.1", f"--cidr={POD_CIDR}", "--node-lease-duration-seconds=40",
        # the kubelet API of every fake node: the API server proxies exec there (the nodes'
        # daemonEndpoints carry this port) and KWOK runs the command on this machine
        f"--server-address=127.0.0.1:{lay.ports.kubelet}", f"--node-port={lay.ports.kubelet}",
    ]


def command(name: str, lay: Layout) -> list[str]:
    builders = {"etcd": _etcd, "kube-apiserver": _apiserver, "kube-controller-manager": _controller_manager,
                "kube-scheduler": _scheduler, "kwok": _kwok}
    return builders[name](lay)
