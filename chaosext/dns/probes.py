"""DNS probes: resolution latency and answer for a name as the target sees it; active faults."""

from __future__ import annotations

import statistics
import time
from typing import Any

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext.common import checks
from chaosext.dns.driver import DnsDriver
from chaosext.dns.names import check_name
from chaosext.target import driver_for, setting

__all__ = ["dns_faults", "resolve"]


def _server(server: str | None, configuration: Configuration) -> tuple[str, int]:
    value = server or setting(configuration, "dns_server")
    if not value:
        driver: DnsDriver = driver_for(configuration, "dns")
        value = driver.default_server(configuration)
    host, sep, port = str(value).rpartition(":")
    if not sep:
        host, port = str(value), "53"
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ActivityFailed(f"'server' must be host:port, got {value!r}")
    return host.strip("[]"), int(port)


def _query_once(
    name: str, rdtype: dns.rdatatype.RdataType, host: str, port: int, timeout: float
) -> tuple[str, list[str], float]:
    query = dns.message.make_query(name, rdtype)
    start = time.perf_counter()
    try:
        reply = dns.query.udp(query, host, port=port, timeout=timeout)
    except dns.exception.Timeout:
        return "TIMEOUT", [], (time.perf_counter() - start) * 1000
    except OSError as exc:
        raise ActivityFailed(f"cannot query the resolver {host}:{port}: {exc}") from None
    elapsed = (time.perf_counter() - start) * 1000
    answers = [rr.to_text() for rrset in reply.answer for rr in rrset if rrset.rdtype == rdtype]
    return dns.rcode.to_text(reply.rcode()), answers, elapsed


def resolve(
    name: str = "payment.chaosext.test",
    server: str | None = None,
    record_type: str = "A",
    samples: int = 3,
    timeout: float = 5.0,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Resolve ``name`` through the target's resolver ``server`` (host:port; default: the
    ``dns_server`` configuration, else the local stack's DNS server) ``samples`` times without
    cache, as the target does. Returns the result code (NOERROR, NXDOMAIN, SERVFAIL or TIMEOUT),
    the answers, and the median and per-sample resolution latency in ms."""
    qname = check_name(name, allow_glob=False)
    try:
        rdtype = dns.rdatatype.from_text(str(record_type))
    except dns.rdatatype.UnknownRdatatype:
        raise ActivityFailed(f"'record_type' {record_type!r} is not a DNS record type") from None
    samples = checks.positive_int("samples", samples)
    timeout = checks.seconds("timeout", timeout)
    host, port = _server(server, configuration)
    rcodes: list[str] = []
    timings: list[float] = []
    answers: list[str] = []
    for _ in range(samples):
        rcode, answers, elapsed = _query_once(qname, rdtype, host, port, float(timeout))
        rcodes.append(rcode)
        timings.append(round(elapsed, 2))
    return {
        "name": qname,
        "server": f"{host}:{port}",
        "record_type": dns.rdatatype.to_text(rdtype),
        "rcode": rcodes[-1],
        "rcodes": rcodes,
        "answers": sorted(answers),
        "resolved": rcodes[-1] == "NOERROR" and bool(answers),
        "latency_ms": round(statistics.median(timings), 2),
        "samples_ms": timings,
    }


def dns_faults(
    namespace: str | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """The DNS faults active now: on the local stack's DNS server, or in the ``chaosext-dns-faults``
    ConfigMap on Kubernetes."""
    driver: DnsDriver = driver_for(configuration, "dns")
    return driver.active_faults(namespace, configuration, secrets)
