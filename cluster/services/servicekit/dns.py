"""aiohttp resolver that asks a given DNS server at every new connection (dnspython, no cache)."""

from __future__ import annotations

import ipaddress
import logging
import socket

import dns.asyncresolver
import dns.exception
import dns.rdatatype
import dns.resolver
from aiohttp import TCPConnector
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from prometheus_client import Counter

log = logging.getLogger("dns")

DNS_LOOKUPS = Counter("dns_lookups", "DNS lookups done for upstream connections", ["result"])


class DnsPerConnectionResolver(AbstractResolver):
    """Resolves through `nameserver:port` for every connection aiohttp opens; nothing is cached."""

    def __init__(self, nameserver: str, port: int, lifetime: float = 2.0) -> None:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [nameserver]
        resolver.port = port
        resolver.lifetime = lifetime
        resolver.timeout = lifetime
        resolver.cache = None
        self._resolver = resolver
        self.server = f"{nameserver}:{port}"

    async def _query(self, host: str, rdtype: dns.rdatatype.RdataType) -> list[str]:
        try:
            answer = await self._resolver.resolve(host, rdtype, search=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        return [rr.to_text() for rr in answer]

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            fam = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
            return [_result(host, str(ip), port, fam)]
        results: list[ResolveResult] = []
        try:
            if family in (socket.AF_INET, socket.AF_UNSPEC):
                results += [_result(host, a, port, socket.AF_INET) for a in await self._query(host, dns.rdatatype.A)]
            if family == socket.AF_INET6 or (family == socket.AF_UNSPEC and not results):
                results += [
                    _result(host, a, port, socket.AF_INET6) for a in await self._query(host, dns.rdatatype.AAAA)
                ]
        except dns.exception.Timeout as exc:
            DNS_LOOKUPS.labels(result="timeout").inc()
            log.warning("DNS lookup of %s via %s timed out", host, self.server)
            raise OSError(socket.EAI_AGAIN, f"DNS timeout resolving {host} via {self.server}") from exc
        except dns.exception.DNSException as exc:
            DNS_LOOKUPS.labels(result="error").inc()
            log.warning("DNS lookup of %s via %s failed: %s", host, self.server, exc)
            raise OSError(socket.EAI_FAIL, f"DNS failure resolving {host} via {self.server}: {exc}") from exc
        if not results:
            DNS_LOOKUPS.labels(result="nxdomain").inc()
            log.warning("DNS: %s has no address at %s", host, self.server)
            raise OSError(socket.EAI_NONAME, f"{host} does not resolve via {self.server}")
        DNS_LOOKUPS.labels(result="ok").inc()
        log.debug("DNS %s -> %s", host, [r["host"] for r in results])
        return results

    async def close(self) -> None:
        return None


def _result(hostname: str, address: str, port: int, family: int) -> ResolveResult:
    return ResolveResult(
        hostname=hostname, host=address, port=port, family=family, proto=0, flags=socket.AI_NUMERICHOST
    )


def make_resolver(dns_server: tuple[str, int] | None) -> AbstractResolver:
    if dns_server is None:
        return ThreadedResolver()
    return DnsPerConnectionResolver(*dns_server)


def fresh_connector(dns_server: tuple[str, int] | None, limit: int = 0) -> TCPConnector:
    """A connector that resolves anew for every connection and does not reuse connections."""
    return TCPConnector(
        resolver=make_resolver(dns_server),
        use_dns_cache=False,
        ttl_dns_cache=0,
        force_close=True,
        limit=limit,
    )
