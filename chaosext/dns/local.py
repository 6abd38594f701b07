"""DNS faults on the local stack: set through the stack DNS server's control API.

The server also expires each fault by itself at ``expires_at``, so a fault never outlives its
duration even if both the experiment and the reaper die.
"""

from __future__ import annotations

import time
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext.dns.client import DnsControl, FaultExists, control_url
from chaosext.dns.spec import DnsFaultSpec
from chaosext.faults import engine, markers
from chaosext.faults.markers import FaultMarker
from chaosext.faults.undoers import undoer

__all__ = ["active_faults", "default_server", "inject", "undo"]

FAMILY = "dns"


def inject(spec: DnsFaultSpec, seconds: float, namespace: str | None, configuration: Configuration,
           secrets: Secrets) -> dict[str, Any]:
    """``namespace`` and ``secrets`` are for the Kubernetes driver; the stack has one DNS server."""
    url = control_url(configuration)
    control = DnsControl(url)
    fault_id = markers.new_id(FAMILY)
    expires_at = time.time() + seconds
    marker = FaultMarker(
        id=fault_id,
        family=FAMILY,
        kind=spec.kind,
        target=f"dns:{url}:{spec.name}",
        scope={"name": spec.name},
        description=f"{spec.describe()} for {seconds:g}s (local DNS server {url})",
        undo="dns.local_server",
        undo_args={"url": url, "name": spec.name, "expires_at": expires_at},
        expires_at=expires_at,
    )

    def apply() -> dict[str, Any]:
        # one request: the server sets the fault only if the name has none; an unreachable server
        # raises NothingChanged too (the marker is dropped, no undo)
        try:
            fault = control.put_new(spec.name, spec.body(expires_at))
        except FaultExists as exists:
            raise engine.NothingChanged(ActivityFailed(
                f"'name' {spec.name!r} already has a DNS fault on {url} ({exists.fault['kind']}); "
                "remove it first (remove_dns_faults); nothing changed"
            )) from None
        return {"dns_server_control": url, "name": spec.name, "fault": fault}

    return engine.activate(marker, apply)


@undoer("dns.local_server")
def undo(url: str, name: str, expires_at: float | None = None) -> None:
    """Remove the fault on ``name``, unless the one there now is somebody else's (another expiry)."""
    control = DnsControl(url)
    try:
        current = control.faults().get(name)
    except ActivityFailed:
        current = None  # unreachable: delete() below tolerates a stopped server
    if (
        current is not None
        and expires_at is not None
        and abs(float(current["expires_at"]) - expires_at) > 0.01
    ):
        return  # the fault there now is another one
    control.delete(name)


def active_faults(namespace: str | None, configuration: Configuration, secrets: Secrets) -> dict[str, Any]:
    url = control_url(configuration)
    return {"dns_server_control": url, "faults": DnsControl(url).faults()}


def default_server(configuration: Configuration) -> str:
    """The stack's DNS server."""
    from chaosext.stack.config import load_config

    return load_config().dns_server
