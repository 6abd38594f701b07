"""The benchmarked faults (bench/faults.py): per family, the chaosext activity and its rollback, the
same fault done by bare Chaos Toolkit providers (chaostoolkit-toxiproxy, chaoslib ``process`` and
``http`` providers), and the client-side checks that say "fault in effect" / "steady state back".

Every activity is a Chaos Toolkit activity dict, run through chaoslib's activity runner by the
bench, so both sides pay the same chaoslib cost.
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import signal
import ssl
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from faults_observe import (
    Check,
    admin_config_values,
    dns_query_ms,
    get_ms,
    haproxy_status,
    kafka_broker_answers,
    port_refuses,
    served_fingerprint,
)

from chaosext.certificate.material import sans_of, serve_cert
from chaosext.common.pki import load_ca_files
from chaosext.stack.config import StackConfig
from chaosext.stack.supervisor import Supervisor
from chaosext.stress import cgroups
from chaosext.stress import local as local_stress

__all__ = ["Case", "Side", "build_cases"]

Activity = dict[str, Any]
DURATION = 180  # every chaosext fault is time-bounded; the bench rolls each back long before
LATENCY_MS = 200
DNS_DELAY_MS = 300
SCRATCH = Path(tempfile.mkdtemp(prefix="chaosext-bench4-"))


@dataclass
class Side:
    """One way of doing the fault: ``make()`` (untimed: reads pids, writes bare files) returns the
    (action, rollback) activity dicts."""

    make: Callable[[], tuple[Activity, Activity]]


@dataclass
class Case:
    family: str
    name: str
    faulty: Check
    steady: Check
    chaosext: Side
    bare: Side
    bare_what: str
    note: str = ""
    timeout: float = 60.0
    restore: Callable[[], None] = field(default=lambda: None)  # puts back what a bare side changed
    before: Check | None = None  # precondition of a run, when stricter than ``steady``


def _py(module: str, func: str, **arguments: Any) -> Activity:
    return {"type": "action", "name": f"{module.rsplit('.', 1)[-1]}.{func}",
            "provider": {"type": "python", "module": module, "func": func, "arguments": arguments}}


def _proc(path: str, *arguments: Any) -> Activity:
    return {"type": "action", "name": f"process {Path(path).name}",
            "provider": {"type": "process", "path": path, "arguments": [str(a) for a in arguments],
                         "timeout": 120}}


def _http(url: str, method: str, body: dict[str, Any] | None = None) -> Activity:
    provider: dict[str, Any] = {"type": "http", "url": url, "method": method, "timeout": 10}
    if body is not None:
        provider.update(headers={"Content-Type": "application/json"}, arguments=body)
    return {"type": "action", "name": f"http {method}", "provider": provider}


def _write_file(path: Path, content: str) -> Activity:
    """A process provider replacing ``path`` atomically with ``content``."""
    return _proc("sh", "-c", 'printf %s "$1" > "$2.tmp" && mv "$2.tmp" "$2"', "sh", content, str(path))


def _copy_files(pairs: list[tuple[Path, Path]]) -> Activity:
    script = " && ".join(f'cp "{src}" "{dst}.tmp" && mv "{dst}.tmp" "{dst}"' for src, dst in pairs)
    return _proc("sh", "-c", script)


def _supervisorctl(config: StackConfig, *args: str) -> Activity:
    return _proc(str(config.venv / "bin" / "supervisorctl"), "-c", str(config.supervisor_conf), *args)


def _pid(config: StackConfig, program: str) -> int:
    return int(Supervisor(config).processes()[program]["pid"])


def dependency_cases(config: StackConfig) -> list[Case]:
    url = f"https://{config.host}:{config.ports.toxi_payment}/healthz"
    ca = str(config.ca_bundle)
    mod = "chaosext.dependency.actions"

    def slow() -> bool:
        return get_ms(url, ca)[1] >= LATENCY_MS * 0.95

    def fast() -> bool:
        status, ms = get_ms(url, ca)
        return status == 200 and ms < LATENCY_MS / 2

    def refused() -> bool:
        try:
            get_ms(url, ca)
        except Exception:
            return True
        return False

    def healthy() -> bool:
        return get_ms(url, ca)[0] == 200

    return [
        Case(
            "dependency",
            "dependency latency",
            slow,
            fast,
            Side(lambda: (_py(mod, "add_latency", proxy="payment", latency_ms=LATENCY_MS, duration=DURATION),
                          _py(mod, "remove_dependency_faults", proxy="payment"))),
            Side(lambda: (_py("chaostoxi.toxic.actions", "create_latency_toxic", for_proxy="payment",
                               toxic_name="bench4-latency", latency=LATENCY_MS),
                          _py("chaostoxi.toxic.actions", "delete_toxic", for_proxy="payment",
                               toxic_name="bench4-latency"))),
            "chaostoxi create_latency_toxic / delete_toxic",
            f"{LATENCY_MS} ms on the payment path; client: HTTPS GET through Toxiproxy",
        ),
        Case(
            "dependency",
            "dependency down",
            refused,
            healthy,
            Side(lambda: (_py(mod, "take_dependency_down", proxy="payment", duration=DURATION),
                          _py(mod, "remove_dependency_faults", proxy="payment"))),
            Side(lambda: (_py("chaostoxi.proxy.actions", "disable_proxy", proxy_name="payment"),
                          _py("chaostoxi.proxy.actions", "enable_proxy", proxy_name="payment"))),
            "chaostoxi disable_proxy / enable_proxy",
            "client: HTTPS GET through Toxiproxy refused",
        ),
    ]


def dns_case(config: StackConfig) -> Case:
    name = config.payment_dns_name
    control = config.endpoints()["dns_control"].rstrip("/")
    mod = "chaosext.dns.actions"

    def delayed() -> bool:
        return dns_query_ms(name, config.host, config.ports.dns)[1] >= DNS_DELAY_MS * 0.95

    def fast() -> bool:
        rcode, ms = dns_query_ms(name, config.host, config.ports.dns)
        return rcode == "NOERROR" and ms < DNS_DELAY_MS / 2

    return Case(
        "dns",
        "dns delay",
        delayed,
        fast,
        Side(lambda: (_py(mod, "delay_dns", name=name, delay_ms=DNS_DELAY_MS, duration=DURATION),
                      _py(mod, "remove_dns_faults", name=name))),
        Side(lambda: (_http(f"{control}/faults/{name}", "PUT", {"kind": "delay", "delay_ms": DNS_DELAY_MS}),
                      _http(f"{control}/faults/{name}", "DELETE"))),
        "http provider PUT/DELETE on the DNS control API",
        f"{DNS_DELAY_MS} ms on {name}; client: uncached UDP query",
    )


def certificate_case(config: StackConfig) -> Case:
    replicas = [config.ports.payment_service_1, config.ports.payment_service_2]
    files = [config.payment_key_file, config.payment_cert_file]
    saved = [SCRATCH / "old-payment-key.pem", SCRATCH / "old-payment.pem"]
    fresh = [SCRATCH / "new-payment-key.pem", SCRATCH / "new-payment.pem"]
    state: dict[str, str] = {}

    def fingerprint_of(path: Path) -> str:
        import hashlib

        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(path.read_text())).hexdigest()

    def remember() -> None:
        state["old"] = fingerprint_of(config.payment_cert_file)

    def rotated() -> bool:
        if "old" not in state:
            remember()
        return served_fingerprint(config.host, config.ports.payment, config.payment_dns_name) != state["old"]

    def original() -> bool:
        if "old" not in state:
            remember()
        name = config.payment_dns_name
        return all(served_fingerprint(config.host, p, name) == state["old"] for p in replicas)

    def make_chaosext() -> tuple[Activity, Activity]:
        remember()
        mod = "chaosext.certificate.actions"
        return (_py(mod, "rotate_certificate", duration=DURATION, timeout=60),
                _py(mod, "restore_certificates"))

    def make_bare() -> tuple[Activity, Activity]:
        remember()
        for src, dst in zip(files, saved, strict=True):
            shutil.copyfile(src, dst)
        ca = load_ca_files(config.ca_file, config.ca_key_file)
        names, ips = sans_of(x509.load_pem_x509_certificate(config.payment_cert_file.read_bytes()))
        cert_pem, key_pem = serve_cert(ca, names, ips)
        fresh[0].write_bytes(key_pem)
        fresh[0].chmod(0o600)
        fresh[1].write_bytes(cert_pem)
        return (_copy_files(list(zip(fresh, files, strict=True))),
                _copy_files(list(zip(saved, files, strict=True))))

    def restore() -> None:
        if all(p.exists() for p in saved) and "old" in state and fingerprint_of(files[1]) != state["old"]:
            for src, dst in zip(saved, files, strict=True):
                shutil.copyfile(src, dst)

    return Case(
        "certificate",
        "certificate rotate",
        rotated,
        original,
        Side(make_chaosext),
        Side(make_bare),
        "process provider: cp+mv new key/cert files",
        "client: TLS handshake on the payment frontend; chaosext waits until both replicas serve it",
        restore=restore,
    )


def kafka_case(config: StackConfig, broker: int = 3) -> Case:
    program = f"kafka-{broker}"
    port = config.kafka_ports[broker - 1]
    mod = "chaosext.kafka.actions"

    def restore() -> None:
        sup = Supervisor(config)
        if sup.processes().get(program, {}).get("statename") not in ("RUNNING", "STARTING"):
            sup.start_program(program, True)

    return Case(
        "kafka",
        "kafka broker loss",
        lambda: port_refuses(config.host, port),
        lambda: kafka_broker_answers(config.host, port),
        Side(lambda: (_py(mod, "lose_brokers", brokers=[broker], mode="stop", duration=DURATION),
                      _py(mod, "restore_kafka", kind="broker-loss"))),
        Side(lambda: (_supervisorctl(config, "stop", program), _supervisorctl(config, "start", program))),
        "process provider: supervisorctl stop/start",
        f"broker {broker}, controlled shutdown; client: TCP refused / Kafka metadata answered by it",
        timeout=120,
        restore=restore,
    )


def _replicas_ready(config: StackConfig) -> bool:
    ports = [config.ports.payment_service_1, config.ports.payment_service_2]
    return all(get_ms(f"https://{config.host}:{p}/readyz", str(config.ca_file))[0] == 200 for p in ports)


def instance_cases(config: StackConfig) -> list[Case]:
    ports = [config.ports.payment_service_1, config.ports.payment_service_2]
    mod = "chaosext.instance.actions"
    victim = "payment-service-2"

    def gone() -> bool:
        return any(port_refuses(config.host, p) for p in ports)

    def settled() -> bool:  # ready, and RUNNING for the supervisor (past startsecs): kill picks RUNNING ones
        procs = Supervisor(config).processes()
        running = all(procs[n]["statename"] == "RUNNING" for n in ("payment-service-1", victim))
        return running and _replicas_ready(config)

    def restore() -> None:
        sup = Supervisor(config)
        for name in ("payment-service-1", victim):
            if sup.processes().get(name, {}).get("statename") not in ("RUNNING", "STARTING"):
                sup.start_program(name, True)

    return [
        Case(
            "instance",
            "instance kill",
            gone,
            lambda: _replicas_ready(config),
            Side(lambda: (_py(mod, "kill_instances", service="payment-service", count=1, signal="SIGKILL"),
                          _py(mod, "restore_instances", service="payment-service"))),
            Side(lambda: (_proc("kill", "-9", _pid(config, victim)), _proc("true"))),
            "process provider: kill -9 <pid>",
            "payment-service replica; recovery = supervisor restart until /readyz (rollback is a no-op)",
            restore=restore,
            before=settled,
        ),
        Case(
            "instance",
            "instance stop",
            gone,
            lambda: _replicas_ready(config),
            Side(lambda: (_py(mod, "stop_instances", service="payment-service", count=1, duration=DURATION),
                          _py(mod, "restore_instances", service="payment-service"))),
            Side(lambda: (_supervisorctl(config, "stop", victim), _supervisorctl(config, "start", victim))),
            "process provider: supervisorctl stop/start",
            "payment-service replica; client: TCP refused / /readyz 200",
            restore=restore,
            before=settled,
        ),
    ]


def config_case(config: StackConfig) -> Case:
    service = "checkout-api"
    path = config.service_config_file(service)
    urls = [config.url(config.ports.checkout_api_1), config.url(config.ports.checkout_api_2)]
    changed = {"attempt_timeout_s": 0.7}
    state: dict[str, Any] = {}

    def remember() -> None:
        state["content"] = path.read_text() if path.exists() else "{}"
        state["before"] = admin_config_values(urls[0], False)["attempt_timeout_s"]

    def applied() -> bool:
        return all(admin_config_values(u, False)["attempt_timeout_s"] == 0.7 for u in urls)

    def back() -> bool:
        if "before" not in state:
            remember()
        return all(admin_config_values(u, False)["attempt_timeout_s"] == state["before"] for u in urls)

    def make_chaosext() -> tuple[Activity, Activity]:
        remember()
        mod = "chaosext.config.actions"
        return (_py(mod, "change_service_config", service=service, settings=changed, duration=DURATION),
                _py(mod, "restore_service_config", service=service))

    def make_bare() -> tuple[Activity, Activity]:
        remember()
        new = {**json.loads(state["content"] or "{}"), **changed}
        changed_file = json.dumps(new, indent=2, sort_keys=True)
        return _write_file(path, changed_file), _write_file(path, state["content"])

    def restore() -> None:
        if "content" in state and path.exists() and path.read_text() != state["content"]:
            path.write_text(state["content"])

    return Case(
        "config",
        "config reload",
        applied,
        back,
        Side(make_chaosext),
        Side(make_bare),
        "process provider: write the JSON file (tmp + mv)",
        "checkout-api attempt_timeout_s; client: /admin/config of both replicas (1 s mtime poll)",
        restore=restore,
    )


def rollout_case(config: StackConfig) -> Case:
    service, replica = "payment-service", "payment-service-1"
    conf = config.supervisor_conf
    saved, failing = SCRATCH / "supervisord.conf.orig", SCRATCH / "supervisord.conf.failing"

    def not_ready() -> bool:
        return not haproxy_status(service, replica).startswith("UP")

    def ready() -> bool:
        return haproxy_status(service, replica).startswith("UP") and _replicas_ready(config)

    def make_bare() -> tuple[Activity, Activity]:
        saved.write_text(conf.read_text())
        parser = configparser.RawConfigParser()
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read(conf)
        section = f"program:{replica}"
        parser.set(section, "environment", parser.get(section, "environment") + ',READY_FAIL="1"')
        with open(failing, "w") as fh:
            parser.write(fh)
        ctl = str(config.venv / "bin" / "supervisorctl")
        script = f'cp "{{src}}" "{conf}" && "{ctl}" -c "{conf}" update'
        return (_proc("sh", "-c", script.format(src=failing)), _proc("sh", "-c", script.format(src=saved)))

    def restore() -> None:
        if saved.exists() and conf.read_text() != saved.read_text():
            shutil.copyfile(saved, conf)
            Supervisor(config).update()

    mod = "chaosext.rollout.actions"
    return Case(
        "rollout",
        "rollout failing",
        not_ready,
        ready,
        Side(lambda: (_py(mod, "start_failing_rollout", name=service, duration=DURATION, settle_timeout=1),
                      _py(mod, "undo_failing_rollout", name=service))),
        Side(make_bare),
        "process provider: edit supervisord.conf + supervisorctl update",
        "payment-service-1 released with READY_FAIL=1; client: HAProxy server state; chaosext drains "
        "first, waits settle_timeout=1 s, and its undo waits until ready",
        restore=restore,
    )


def _cpu_throttled_periods(pid: int) -> int | None:
    """nr_throttled of the cgroup ``pid`` is in (None when it is in no CPU-limited group)."""
    h = cgroups.hierarchy("cpu")
    stat = cgroups.cgroup_of(pid, h) / "cpu.stat"
    if not stat.exists() or cgroups.cgroup_of(pid, h) == h.mount:
        return None
    return int(cgroups.stats(stat.parent, "cpu", h.version).get("nr_throttled", 0))


def stress_case(config: StackConfig) -> Case:
    """CPU stress in payment-service-1: 2 stress-ng workers at 100% sharing a 0.5-CPU quota with it.
    The bare side does the same work by hand: a process provider creates the cgroup, sets the
    quota, moves the replica in and starts stress-ng inside; its rollback kills stress-ng, moves
    the replica back and removes the group."""
    replica = "payment-service-1"
    h = cgroups.hierarchy("cpu")
    group = h.mount / "chaosext-bench-stress"
    state: dict[str, int] = {}
    # no "$$" in the script: chaoslib substitutes configuration values into process arguments and
    # turns "$$" into "$"; writing 0 to cgroup.procs moves the writing shell itself

    def throttled() -> bool:  # the pid is read before each run: 48 checkers must not all ask supervisord
        periods = _cpu_throttled_periods(state["pid"])
        return periods is not None and periods > 0

    def released() -> bool:
        return _cpu_throttled_periods(state["pid"]) is None and not local_stress.stressor_pids()

    def settled() -> bool:
        state["pid"] = _pid(config, replica)
        return released()

    def make_bare() -> tuple[Activity, Activity]:
        pid = state["pid"] = _pid(config, replica)
        home = cgroups.cgroup_of(pid, h)
        quota = "cpu.max" if h.version == 2 else "cpu.cfs_quota_us"
        value = "50000 100000" if h.version == 2 else "50000"
        start = (f'mkdir -p "{group}" && echo "{value}" > "{group}/{quota}" && echo {pid} > "{group}/cgroup.procs" '
                 f'&& (sh -c \'echo 0 > "{group}/cgroup.procs"; exec stress-ng --cpu 2 --cpu-load 100 '
                 f'--timeout {DURATION}s --temp-path /tmp --quiet\' </dev/null >/dev/null 2>&1 &)')
        stop = (f'pkill -x stress-ng; while pgrep -x stress-ng >/dev/null; do sleep 0.01; done; '
                f'echo {pid} > "{home}/cgroup.procs" && rmdir "{group}"')
        return _proc("sh", "-c", start), _proc("sh", "-c", stop)

    def restore() -> None:
        for pid in local_stress.stressor_pids():
            os.kill(pid, signal.SIGKILL)
        if group.exists():
            cgroups.remove(group, group.parent)

    mod = "chaosext.stress.actions"
    return Case(
        "stress",
        "stress cpu (0.5 CPU)",
        throttled,
        released,
        Side(lambda: (_py(mod, "stress_cpu", service="payment-service", instances=[replica], workers=2, load=100,
                          cpu_limit=0.5, duration=DURATION),
                      _py(mod, "remove_stress", service="payment-service"))),
        Side(make_bare),
        "process provider: mkdir cgroup, quota, move the replica, stress-ng inside; pkill, move back, rmdir",
        "payment-service-1 + 2 stress-ng workers in a 0.5-CPU quota; observed: the replica's cgroup has "
        "throttled periods / the replica is back in its own group and no stress-ng runs",
        restore=restore,
        before=settled,
    )


def build_cases(config: StackConfig) -> list[Case]:
    return [
        *dependency_cases(config),
        dns_case(config),
        certificate_case(config),
        kafka_case(config),
        *instance_cases(config),
        config_case(config),
        rollout_case(config),
        stress_case(config),
    ]
