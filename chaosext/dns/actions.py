"""DNS faults for chosen names, time-bounded, each with a matching rollback.

``target`` local: the stack DNS server's control API. ``target`` kubernetes: the ConfigMap
``chaosext-dns-faults`` the in-cluster DNS forwarder polls (no Chaos Mesh needed).
"""

from __future__ import annotations

from typing import Any

from chaoslib.types import Configuration, Secrets

from chaosext.dns.driver import DnsDriver
from chaosext.dns.names import check_name
from chaosext.dns.spec import DnsFaultSpec, delay_spec, failure_spec
from chaosext.faults import engine
from chaosext.target import driver_for

__all__ = ["delay_dns", "fail_dns", "remove_dns_faults"]

FAMILY = "dns"


def _inject(
    spec: DnsFaultSpec, duration: float, namespace: str | None, configuration: Configuration, secrets: Secrets
) -> dict[str, Any]:
    seconds = engine.check_duration(duration)
    driver: DnsDriver = driver_for(configuration, FAMILY)
    return driver.inject(spec, seconds, namespace, configuration, secrets)


def delay_dns(
    name: str = "payment.chaosext.test",
    delay_ms: float = 300,
    jitter_ms: float = 0,
    duration: float = 60,
    namespace: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Delay every DNS answer for ``name`` (a name or ``*.zone`` glob) by ``delay_ms`` (+/- ``jitter_ms``)
    for ``duration`` seconds, as the target's resolver serves it. Returns the fault record: what
    was changed where, its id and when it ends. On Kubernetes ``namespace`` is where the chaosext
    DNS forwarder runs (default: the ``dns_namespace`` configuration, else the target namespace)."""
    spec = delay_spec(check_name(name), delay_ms, jitter_ms)
    return _inject(spec, duration, namespace, configuration, secrets)


def fail_dns(
    name: str = "payment.chaosext.test",
    failure: str = "servfail",
    duration: float = 30,
    namespace: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Make DNS resolution of ``name`` fail for ``duration`` seconds: ``failure`` is ``servfail``,
    ``nxdomain`` or ``no_answer`` (the query is dropped: clients time out). Returns the fault record."""
    spec = failure_spec(check_name(name), failure)
    return _inject(spec, duration, namespace, configuration, secrets)


def remove_dns_faults(
    name: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> list[dict[str, Any]]:
    """Rollback: remove every DNS fault chaosext set (only those on ``name``, if given). Returns
    the records of the faults removed."""
    wanted = check_name(name) if name is not None else None
    return engine.undo_matching(FAMILY, scope={"name": wanted})
