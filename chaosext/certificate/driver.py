"""What the certificate family's two drivers (``local``: payment-service's certificate files,
``kubernetes``: a TLS Secret and the workload mounting it) implement under the same names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from chaoslib.types import Configuration, Secrets

from chaosext.certificate.material import CA, Served
from chaosext.common import checks

__all__ = [
    "DEFAULT_SERVER_NAME",
    "CertificateDriver",
    "CertificateFault",
    "ClusterBundle",
    "KubeBuilder",
    "LocalBuilder",
    "check_port",
]

DEFAULT_SERVER_NAME = "payment.chaosext.test"
"""The name clients dial payment-service by, in the sample stack (local and Kubernetes)."""

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


class ClusterBundle(str):
    """A trust bundle's PEM text read from a ConfigMap (rather than a file path)."""

    source: str = ""


def check_port(value: Any, argument: str) -> int:
    """A TCP port (an integer, or digits from the environment)."""
    return checks.whole(argument, value, 1, 65535)


class CertificateDriver(Protocol):
    def serve_certificate(self, fault: CertificateFault, configuration: Configuration,
                          secrets: Secrets) -> dict[str, Any]:
        """Record and serve the fault's certificate for ``fault.seconds``; returns once served."""

    def tls_endpoint(self, port: int | None, server_name: str | None, ca_file: str | None,
                     configuration: Configuration, secrets: Secrets) -> tuple[Any, str, str | None]:
        """The probes' defaults for what the experiment leaves out: (port, server name, trust
        bundle: a file path or a ``ClusterBundle``)."""


if TYPE_CHECKING:  # mypy checks both drivers against the Protocol
    from chaosext.certificate import kubernetes, local

    _local: CertificateDriver = local
    _kubernetes: CertificateDriver = kubernetes
