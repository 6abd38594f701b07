"""Ports and addresses of the local control plane (all on 127.0.0.1)."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from chaosext.common.settings import port_offset

__all__ = ["POD_CIDR", "SERVICE_CIDR", "SERVICE_IP", "Ports", "port_in_use"]

SERVICE_CIDR = "10.96.0.0/16"
SERVICE_IP = "10.96.0.1"  # first address of SERVICE_CIDR: the `kubernetes` Service
# Pod IPs KWOK writes into pod status. Nothing listens there: pods run no containers.
POD_CIDR = "10.244.0.1/16"


@dataclass(frozen=True)
class Ports:
    apiserver: int = 16443
    etcd_client: int = 12379
    etcd_peer: int = 12380
    controller_manager: int = 10257
    scheduler: int = 10259
    # KWOK's kubelet API (exec, logs): what the API server calls for `kubectl exec`
    kubelet: int = 10250

    @classmethod
    def from_env(cls) -> Ports:
        """Defaults plus CHAOSEXT_PORT_OFFSET, as for the local stack (docs/architecture.md)."""
        offset = port_offset()  # at most 40000: every port stays below 65536
        base = cls()
        return cls(*(getattr(base, f) + offset for f in cls.__dataclass_fields__))

    def items(self) -> list[tuple[str, int]]:
        return [(f, getattr(self, f)) for f in self.__dataclass_fields__]


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False
