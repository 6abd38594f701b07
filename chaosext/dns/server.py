"""The stack's DNS server: authoritative for ``chaosext.test``, with injectable faults.

* DNS on UDP and TCP (dnslib's threaded servers: a delayed answer never blocks other queries);
* names in the zone come from a records file in zone-file syntax
  (``payment.chaosext.test. 5 IN A 127.0.0.1``), re-read when it changes;
* other names are forwarded to ``--upstream`` (or answered REFUSED when there is none);
* an HTTP control API on ``--control-port``::

    GET    /faults                 {"faults": {name: fault}}
    PUT    /faults/<name>          {"kind": "delay"|"servfail"|"nxdomain"|"drop",
                                    "delay_ms": int, "jitter_ms": int, "expires_at": unix-ts}
                                   with ``If-None-Match: *``: only if the name has no fault yet,
                                   else 412 {"error": ..., "fault": the one there}
    DELETE /faults/<name>, DELETE /faults
    GET    /metrics                Prometheus: dns_queries_total{name,result}, dns_faults_active,
                                   dns_queries_in_flight
    GET    /healthz

  A fault ends by itself at ``expires_at`` (default: 10 minutes after it was set), so it never
  outlives its experiment even if the controller dies. ``<name>`` may be a glob (``*.chaosext.test``).

Run: ``python -m chaosext.dns.server --port 15353 --control-port 15380 --records FILE``.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import logging
import random
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from dnslib import QTYPE, RCODE, RR, DNSRecord
from dnslib.dns import DNSError
from dnslib.server import BaseResolver, DNSHandler, DNSLogger, DNSServer
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    disable_created_metrics,
    generate_latest,
)

from chaosext.dns.names import normalize

__all__ = ["FAULT_KINDS", "Fault", "FaultStore", "Records", "StackResolver", "main", "parse_fault"]

log = logging.getLogger("chaosext.dns")

FAULT_KINDS = ("delay", "servfail", "nxdomain", "drop")
DEFAULT_FAULT_TTL_S = 600.0
MAX_DELAY_MS = 120_000
DEFAULT_ZONE = "chaosext.test"
DEFAULT_RECORDS = "payment.chaosext.test. 5 IN A 127.0.0.1\n"


# ---- faults ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fault:
    name: str
    kind: str
    delay_ms: int
    jitter_ms: int
    expires_at: float

    def matches(self, qname: str) -> bool:
        return fnmatch.fnmatchcase(qname, self.name)

    def delay_s(self) -> float:
        jitter = random.uniform(-self.jitter_ms, self.jitter_ms) if self.jitter_ms else 0.0
        return max(0.0, self.delay_ms + jitter) / 1000.0


class FaultError(ValueError):
    """A bad fault request: the message names the bad field."""


def _int_field(body: dict[str, Any], key: str, default: int, maximum: int) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise FaultError(f"{key} must be an integer between 0 and {maximum}, got {value!r}")
    return value


def parse_fault(name: str, body: Any, now: float) -> Fault:
    """Validate a PUT /faults/<name> body."""
    qname = normalize(name)
    if not qname:
        raise FaultError("the fault name (DNS name or glob) must not be empty")
    if not isinstance(body, dict):
        raise FaultError("the body must be a JSON object")
    unknown = set(body) - {"kind", "delay_ms", "jitter_ms", "expires_at"}
    if unknown:
        raise FaultError(f"unknown field(s): {', '.join(sorted(unknown))}")
    kind = body.get("kind")
    if kind not in FAULT_KINDS:
        raise FaultError(f"kind must be one of {', '.join(FAULT_KINDS)}, got {kind!r}")
    delay_ms = _int_field(body, "delay_ms", 0, MAX_DELAY_MS)
    jitter_ms = _int_field(body, "jitter_ms", 0, MAX_DELAY_MS)
    if jitter_ms > delay_ms and kind == "delay":
        raise FaultError(f"jitter_ms ({jitter_ms}) must not exceed delay_ms ({delay_ms})")
    if kind == "delay" and delay_ms == 0:
        raise FaultError("a delay fault needs delay_ms > 0")
    expires_at = body.get("expires_at", now + DEFAULT_FAULT_TTL_S)
    if isinstance(expires_at, bool) or not isinstance(expires_at, int | float):
        raise FaultError(f"expires_at must be a unix timestamp (number), got {expires_at!r}")
    if expires_at <= now:
        raise FaultError(f"expires_at ({expires_at}) is in the past (now {now:.0f})")
    return Fault(qname, kind, delay_ms, jitter_ms, float(expires_at))


class FaultStore:
    """The active faults, thread-safe; expired faults vanish on every access."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, Fault] = {}

    def _purge(self, now: float) -> None:
        for name in [n for n, f in self._faults.items() if f.expires_at <= now]:
            log.info("fault on %s expired", name)
            del self._faults[name]

    def put(self, fault: Fault) -> None:
        with self._lock:
            self._faults[fault.name] = fault

    def put_new(self, fault: Fault) -> Fault | None:
        """Set ``fault`` unless its name has an active fault already: that one is returned (and
        nothing is set), else None. One step under the lock, so two callers cannot both set one."""
        with self._lock:
            self._purge(time.time())
            current = self._faults.get(fault.name)
            if current is None:
                self._faults[fault.name] = fault
            return current

    def delete(self, name: str) -> bool:
        with self._lock:
            return self._faults.pop(normalize(name), None) is not None

    def clear(self) -> int:
        with self._lock:
            count = len(self._faults)
            self._faults.clear()
            return count

    def active(self) -> dict[str, Fault]:
        with self._lock:
            self._purge(time.time())
            return dict(self._faults)

    def find(self, qname: str) -> Fault | None:
        """The fault for ``qname``: an exact name wins over a glob."""
        with self._lock:
            self._purge(time.time())
            exact = self._faults.get(qname)
            if exact is not None:
                return exact
            return next((f for f in self._faults.values() if f.matches(qname)), None)


# ---- records -----------------------------------------------------------------------------------
class Records:
    """The authoritative records, from a zone-syntax file re-read when its mtime changes."""

    def __init__(self, path: Path | None, zone: str) -> None:
        self.path = path
        self.zone = normalize(zone)
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._records: list[RR] = self._parse(DEFAULT_RECORDS, "<default>")
        self.reload()

    @staticmethod
    def _parse(text: str, origin: str) -> list[RR]:
        lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith(";")]
        try:
            return list(RR.fromZone("\n".join(lines))) if lines else []
        except Exception as exc:  # dnslib raises several kinds on bad zone text
            raise ValueError(f"records file {origin}: cannot parse: {exc}") from None

    def reload(self) -> None:
        if self.path is None:
            return
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return
        if mtime == self._mtime:
            return
        try:
            records = self._parse(self.path.read_text(), str(self.path))
        except ValueError as exc:
            log.error("%s; keeping the previous records", exc)
            self._mtime = mtime
            return
        with self._lock:
            self._records, self._mtime = records, mtime
        log.info("loaded %d record(s) from %s", len(records), self.path)

    def in_zone(self, qname: str) -> bool:
        return qname == self.zone or qname.endswith("." + self.zone)

    def lookup(self, qname: str, qtype: int) -> tuple[bool, list[RR]]:
        """(the name exists, the records of that type or its CNAME)."""
        self.reload()
        with self._lock:
            named = [rr for rr in self._records if normalize(str(rr.rname)) == qname]
        matching = [rr for rr in named if rr.rtype == qtype or qtype == QTYPE.ANY or rr.rtype == QTYPE.CNAME]
        return bool(named) or qname == self.zone, matching


# ---- metrics -----------------------------------------------------------------------------------
class Metrics:
    def __init__(self, faults: FaultStore) -> None:
        self.registry = CollectorRegistry()
        self.queries = Counter(
            "dns_queries",
            "DNS queries answered, by name and result",
            ["name", "result"],
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "dns_queries_in_flight", "DNS queries being answered right now", registry=self.registry
        )
        active = Gauge("dns_faults_active", "DNS faults currently active", registry=self.registry)
        active.set_function(lambda: len(faults.active()))


# ---- resolver ----------------------------------------------------------------------------------
class StackResolver(BaseResolver):
    """Zone answers, forwarding, and the faults in front of both."""

    def __init__(
        self, records: Records, faults: FaultStore, metrics: Metrics, upstream: tuple[str, int] | None
    ) -> None:
        self.records = records
        self.faults = faults
        self.metrics = metrics
        self.upstream = upstream

    def resolve(self, request: DNSRecord, handler: DNSHandler) -> DNSRecord:
        with self.metrics.in_flight.track_inprogress():
            return self._resolve(request)

    def _resolve(self, request: DNSRecord) -> DNSRecord:
        qname = normalize(str(request.q.qname))
        fault = self.faults.find(qname)
        if fault is not None:
            delay = fault.delay_s()
            if delay:
                time.sleep(delay)
            if fault.kind == "drop":
                self.metrics.queries.labels(qname, "dropped").inc()
                raise DNSError(f"fault: dropping the query for {qname}")
            if fault.kind in ("servfail", "nxdomain"):
                reply = request.reply()
                reply.header.rcode = RCODE.SERVFAIL if fault.kind == "servfail" else RCODE.NXDOMAIN
                self.metrics.queries.labels(qname, fault.kind).inc()
                return reply
        reply = self._answer(request, qname)
        self.metrics.queries.labels(qname, RCODE.get(reply.header.rcode).lower()).inc()
        return reply

    def _answer(self, request: DNSRecord, qname: str) -> DNSRecord:
        reply = request.reply()
        if self.records.in_zone(qname):
            reply.header.aa = 1
            exists, answers = self.records.lookup(qname, request.q.qtype)
            if not exists:
                reply.header.rcode = RCODE.NXDOMAIN
            for rr in answers:
                reply.add_answer(rr)
            return reply
        if self.upstream is None:
            reply.header.rcode = RCODE.REFUSED
            return reply
        try:
            raw = request.send(self.upstream[0], self.upstream[1], timeout=3.0)
            return DNSRecord.parse(raw)
        except Exception as exc:  # socket errors, timeouts, bad answers: all mean SERVFAIL
            log.warning("forwarding %s to %s:%d failed: %s", qname, *self.upstream, exc)
            reply.header.rcode = RCODE.SERVFAIL
            return reply


class _QuietLogger(DNSLogger):
    def __init__(self) -> None:
        super().__init__(log="-recv,-send,-request,-reply,-truncated,-data", prefix=False)

    def log_error(self, handler: DNSHandler, e: Exception) -> None:
        log.debug("%s", e)


# ---- control API -------------------------------------------------------------------------------
class ControlHandler(BaseHTTPRequestHandler):
    server: ControlServer
    protocol_version = "HTTP/1.1"  # keep-alive: a client's next call reuses its connection
    # an answer is written as headers, then body: with Nagle's algorithm the body would wait for
    # the client's delayed ACK of the headers (40 ms) on a kept-alive connection
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        log.debug("control: " + format, *args)

    def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else (json.dumps(body) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _fault_name(self) -> str | None:
        path = self.path.split("?", 1)[0]
        if path.startswith("/faults/") and len(path) > len("/faults/"):
            return unquote(path[len("/faults/") :])
        return None

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        path = self.path.split("?", 1)[0]
        if path == "/faults":
            self._send(200, {"faults": {n: asdict(f) for n, f in self.server.faults.active().items()}})
        elif path == "/metrics":
            self._send(200, generate_latest(self.server.metrics.registry), CONTENT_TYPE_LATEST)
        elif path in ("/healthz", "/readyz"):
            self._send(200, {"status": "ok"})
        else:
            self._send(404, {"error": f"no such path {path}"})

    def do_PUT(self) -> None:  # noqa: N802
        name = self._fault_name()
        if name is None:
            self._send(404, {"error": "PUT /faults/<name>"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"null")
            fault = parse_fault(name, body, time.time())
        except json.JSONDecodeError as exc:
            self._send(400, {"error": f"the body is not JSON: {exc}"})
            return
        except FaultError as exc:
            self._send(400, {"error": str(exc)})
            return
        if self.headers.get("If-None-Match", "").strip() == "*":
            current = self.server.faults.put_new(fault)
            if current is not None:
                self._send(412, {"error": f"{fault.name} already has a fault", "fault": asdict(current)})
                return
        else:
            self.server.faults.put(fault)
        log.info("fault set: %s", asdict(fault))
        self._send(200, asdict(fault))

    def do_DELETE(self) -> None:  # noqa: N802
        path = self.path.split("?", 1)[0]
        if path == "/faults":
            self._send(200, {"removed": self.server.faults.clear()})
            return
        name = self._fault_name()
        if name is None:
            self._send(404, {"error": f"no such path {path}"})
        elif self.server.faults.delete(name):
            log.info("fault removed: %s", name)
            self._send(200, {"removed": 1})
        else:
            self._send(404, {"error": f"no fault on {normalize(name)}", "removed": 0})


class ControlServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], faults: FaultStore, metrics: Metrics) -> None:
        self.faults = faults
        self.metrics = metrics
        super().__init__(address, ControlHandler)


# ---- entry point -------------------------------------------------------------------------------
def _host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected host:port, got {value!r}")
    return host, int(port)


def _port(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise argparse.ArgumentTypeError(f"expected a port 1..65535, got {value!r}")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m chaosext.dns.server", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=15353, help="DNS port, UDP and TCP (default 15353)")
    parser.add_argument(
        "--control-port", type=_port, default=15380, help="HTTP control API port (default 15380)"
    )
    parser.add_argument(
        "--records", type=Path, default=None, help="zone-syntax records file (re-read on change)"
    )
    parser.add_argument("--zone", default=DEFAULT_ZONE, help=f"authoritative zone (default {DEFAULT_ZONE})")
    parser.add_argument(
        "--upstream", type=_host_port, default=None, help="host:port to forward other names to"
    )
    parser.add_argument(
        "--faults-file", type=Path, default=None,
        help="also read faults from this JSON file, polled (a mounted ConfigMap on Kubernetes)",
    )
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    disable_created_metrics()
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if args.records is not None and not args.records.exists():
        print(f"error: --records {args.records}: no such file", file=sys.stderr)
        return 2
    try:
        records = Records(args.records, args.zone)
    except ValueError as exc:
        print(f"error: --records: {exc}", file=sys.stderr)
        return 2
    faults = FaultStore()
    if args.faults_file is not None:
        from chaosext.dns.faultsfile import FaultsFileWatcher  # imports this module: keep it here

        FaultsFileWatcher(args.faults_file, faults).start()
    metrics = Metrics(faults)
    resolver = StackResolver(records, faults, metrics, args.upstream)
    try:
        servers = [
            DNSServer(resolver, address=args.host, port=args.port, tcp=tcp, logger=_QuietLogger())
            for tcp in (False, True)
        ]
        control = ControlServer((args.host, args.control_port), faults, metrics)
    except OSError as exc:
        print(
            f"error: cannot listen on {args.host} (--port {args.port}, --control-port "
            f"{args.control_port}): {exc}",
            file=sys.stderr,
        )
        return 1
    for server in servers:
        server.start_thread()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=control.serve_forever, daemon=True).start()
    log.info(
        "DNS on %s:%d udp+tcp (zone %s, upstream %s), control API http://%s:%d",
        args.host,
        args.port,
        args.zone,
        args.upstream or "none: REFUSED",
        args.host,
        args.control_port,
    )
    stop.wait()
    control.shutdown()
    for server in servers:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
