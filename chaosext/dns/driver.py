"""What the DNS family's two drivers (``local``: the stack DNS server's control API,
``kubernetes``: the ConfigMap the in-cluster forwarder polls) implement under the same names;
the actions and probes pick one with ``chaosext.target.driver_for``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from chaoslib.types import Configuration, Secrets

from chaosext.dns.spec import DnsFaultSpec

__all__ = ["DnsDriver"]


class DnsDriver(Protocol):
    def inject(self, spec: DnsFaultSpec, seconds: float, namespace: str | None, configuration: Configuration,
               secrets: Secrets) -> dict[str, Any]:
        """Record and apply one DNS fault for ``seconds``; the fault record."""

    def active_faults(self, namespace: str | None, configuration: Configuration,
                      secrets: Secrets) -> dict[str, Any]:
        """The DNS faults active now on the target."""

    def default_server(self, configuration: Configuration) -> str:
        """host:port of the resolver a probe asks when the experiment names none."""


if TYPE_CHECKING:  # mypy checks both drivers against the Protocol
    from chaosext.dns import kubernetes, local

    _local: DnsDriver = local
    _kubernetes: DnsDriver = kubernetes
