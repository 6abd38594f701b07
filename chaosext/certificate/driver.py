"""What the certificate family's two drivers (``local``: payment-service's certificate files,
``kubernetes``: a TLS Secret and the workload mounting it) implement under the same names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from chaoslib.types import Configuration, Secrets

from chaosext.certificate.material import CA, Served

__all__ = ["CertificateFault", "CertificateDriver", "KubeBuilder", "LocalBuilder"]

LocalBuilder = Callable[[CA, list[str], list[str], bytes], Served]
"""(the stack's CA, DNS names, IPs, the current trust bundle) -> what to serve."""
KubeBuilder = Callable[[CA | None, list[str], list[str]], tuple[Served, CA | None]]
"""(the service's CA if known, DNS names, IPs) -> what to serve, and a CA clients must trust."""


@dataclass(frozen=True)
class CertificateFault:
    """One certificate fault as the actions ask for it; each driver uses the fields of its target."""

    kind: str
    description: str
    local_build: LocalBuilder
    kube_build: KubeBuilder
    seconds: float
    timeout: float
    trust_wait: float
    secret: str
    namespace: str | None
    ca_secret: str | None
    trust_bundle_configmap: str | None
    workload: str | None
    workload_kind: str
    restart: bool | None


class CertificateDriver(Protocol):
    def serve_certificate(self, fault: CertificateFault, configuration: Configuration,
                          secrets: Secrets) -> dict[str, Any]:
        """Record and serve the fault's certificate for ``fault.seconds``; returns once served."""


if TYPE_CHECKING:  # mypy checks both drivers against the Protocol
    from chaosext.certificate import kubernetes, local

    _local: CertificateDriver = local
    _kubernetes: CertificateDriver = kubernetes
