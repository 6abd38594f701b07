"""Dependency faults through Toxiproxy, time-bounded, each with a matching rollback.

Works the same against the local stack and a Kubernetes cluster: both run Toxiproxy on the
services' dependency paths; only its API address differs (``toxiproxy_url``).
"""

from __future__ import annotations

import time
from typing import Any

from chaoslib.types import Configuration, Secrets

from chaosext.dependency.client import ToxiproxyClient, toxiproxy_url
from chaosext.dependency.toxics import Down, Hang, Latency, Reset, Toxic
from chaosext.faults import engine, markers
from chaosext.faults.markers import FaultMarker
from chaosext.faults.undoers import undoer

__all__ = [
    "add_latency",
    "hang_connections",
    "remove_dependency_faults",
    "reset_connections",
    "take_dependency_down",
]

FAMILY = "dependency"


def _inject(proxy: str, fault: Toxic, duration: float, configuration: Configuration) -> dict[str, Any]:
    seconds = engine.check_duration(duration)
    url = toxiproxy_url(configuration)
    client = ToxiproxyClient(url)
    toxic = fault.toxic()  # validates the fault's own arguments before anything changes
    fault_id = markers.new_id(FAMILY)
    marker = FaultMarker(
        id=fault_id,
        family=FAMILY,
        kind=fault.kind,
        target=f"toxiproxy:{proxy}",
        scope={"proxy": proxy},
        description=f"{fault.kind} on dependency path '{proxy}' for {seconds:g}s ({fault})",
        undo="dependency.toxic",
        undo_args={"url": url, "proxy": proxy, "toxic_name": fault_id if toxic else None},
        expires_at=time.time() + seconds,
    )

    def apply() -> dict[str, Any]:
        # one request, no check first: an unknown proxy or an unreachable Toxiproxy raises
        # NothingChanged (a clear error naming the argument; the marker is dropped, no undo)
        if toxic is None:
            return {"proxy": client.disable(proxy)}
        return {"toxic": client.add_toxic(proxy, fault_id, toxic)}

    return engine.activate(marker, apply)


@undoer("dependency.toxic")
def _undo(url: str, proxy: str, toxic_name: str | None) -> None:
    client = ToxiproxyClient(url)
    if toxic_name:
        client.remove_toxic(proxy, toxic_name)
    else:
        client.set_enabled(proxy, True)


def add_latency(
    proxy: str = "payment",
    latency_ms: float = 3000,
    jitter_ms: float = 0,
    duration: float = 60,
    stream: str = "downstream",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Delay every response on the dependency path ``proxy`` by ``latency_ms`` (+/- ``jitter_ms``)
    for ``duration`` seconds. Returns the fault record (its ``id`` is what was added)."""
    return _inject(proxy, Latency(latency_ms, jitter_ms, stream), duration, configuration)


def reset_connections(
    proxy: str = "payment",
    after_ms: float = 0,
    duration: float = 30,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Reset (TCP RST) connections on the dependency path ``proxy`` ``after_ms`` after they open,
    for ``duration`` seconds."""
    return _inject(proxy, Reset(after_ms), duration, configuration)


def hang_connections(
    proxy: str = "payment",
    close_after_ms: float = 0,
    duration: float = 30,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Let connections on ``proxy`` open but pass no data (closed after ``close_after_ms``; 0 =
    never) for ``duration`` seconds: the dependency hangs."""
    return _inject(proxy, Hang(close_after_ms), duration, configuration)


def take_dependency_down(
    proxy: str = "payment",
    duration: float = 30,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Refuse every connection on the dependency path ``proxy`` for ``duration`` seconds."""
    return _inject(proxy, Down(), duration, configuration)


def remove_dependency_faults(
    proxy: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> list[dict[str, Any]]:
    """Rollback: remove every dependency fault chaosext added (on ``proxy`` only, if given)."""
    return engine.undo_matching(FAMILY, scope={"proxy": proxy})
