"""The stack's supervisor programs and the supervisord config that runs them."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

from chaosext.stack.config import StackConfig
from chaosext.stack.install import DEBIAN_PROGRAMS
from chaosext.stack.kafka_dist import broker_classpath, cds_archive

__all__ = ["Program", "programs", "supervisord_conf"]


@dataclass(frozen=True)
class Program:
    """One supervisor program: its command, environment, ports and log file."""

    name: str
    command: list[str]
    ports: list[int]
    env: dict[str, str] = field(default_factory=dict)
    stopwaitsecs: int = 10
    priority: int = 500
    group: str = "service"

    def log_file(self, config: StackConfig) -> Path:
        return config.logs / f"{self.name}.log"


def _kafka(config: StackConfig, broker_id: int, config_hash: str) -> Program:
    props = config.kafka_dir(broker_id) / "server.properties"
    command = [
        "/usr/bin/java",
        *config.kafka_heap.split(),
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-XX:+ExitOnOutOfMemoryError",
        "-XX:TieredStopAtLevel=1",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={config.state / 'kafka' / 'log4j2.properties'}",
        f"-Dkafka.logs.dir={config.kafka_dir(broker_id) / 'logs'}",
        *([f"-XX:SharedArchiveFile={cds_archive(config)}"] if cds_archive(config).exists() else []),
        "-cp",
        broker_classpath(config),
        "kafka.Kafka",
        str(props),
    ]
    ports = [config.kafka_ports[broker_id - 1], config.kafka_controller_ports[broker_id - 1]]
    return Program(
        f"kafka-{broker_id}",
        command,
        ports,
        {"CHAOSEXT_CONFIG_HASH": config_hash},
        stopwaitsecs=15,
        priority=100,
        group="infra",
    )


def _service_env(config: StackConfig, service: str, instance: str, port: int) -> dict[str, str]:
    return {
        "PYTHONPATH": str(config.repo / "cluster" / "services"),
        "PYTHONUNBUFFERED": "1",
        "HOST": config.host,
        "PORT": str(port),
        "SERVICE_NAME": service,
        "INSTANCE": instance,
        "CONFIG_FILE": str(config.service_config_file(service)),
    }


def _service(config: StackConfig, name: str, package: str, port: int, env: dict[str, str]) -> Program:
    service = name.rsplit("-", 1)[0] if name[-1].isdigit() else name
    full_env = {**_service_env(config, service, name, port), **env}
    return Program(name, [str(config.python), "-m", package], [port], full_env, stopwaitsecs=8, priority=300)


def programs(config: StackConfig, hashes: dict[str, str] | None = None) -> list[Program]:
    """Every program of the stack, infrastructure first (``hashes``: of each component's config files)."""
    hashes = hashes or {}
    p, h = config.ports, config.host
    state = config.state
    infra = [
        *(_kafka(config, i, hashes.get(f"kafka-{i}", "") + hashes.get("kafka-log4j", "")) for i in (1, 2, 3)),
        Program(
            "redis",
            [
                DEBIAN_PROGRAMS["redis-server"],
                "--bind",
                h,
                "--port",
                str(p.redis),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(state / "redis"),
                "--protected-mode",
                "yes",
            ],
            [p.redis],
            priority=100,
            group="infra",
        ),
        Program(
            "toxiproxy",
            [
                str(config.toxiproxy_server),
                "-host",
                h,
                "-port",
                str(p.toxiproxy_api),
                "-config",
                str(state / "toxiproxy" / "proxies.json"),
                "-proxy-metrics",
                "-runtime-metrics",
            ],
            [p.toxiproxy_api, p.toxi_payment, p.toxi_capture],
            {"CHAOSEXT_CONFIG_HASH": hashes.get("toxiproxy", "")},
            priority=100,
            group="infra",
        ),
        Program(
            "dns",
            [
                str(config.python),
                "-m",
                "chaosext.dns.server",
                "--host",
                h,
                "--port",
                str(p.dns),
                "--control-port",
                str(p.dns_control),
                "--records",
                str(config.dns_records),
            ],
            [p.dns, p.dns_control],
            {"PYTHONUNBUFFERED": "1"},
            priority=100,
            group="infra",
        ),
        Program(
            "prometheus",
            [
                DEBIAN_PROGRAMS["prometheus"],
                f"--config.file={state / 'prometheus' / 'prometheus.yml'}",
                f"--storage.tsdb.path={state / 'prometheus' / 'data'}",
                "--storage.tsdb.retention.time=6h",
                f"--web.listen-address={h}:{p.prometheus}",
                "--web.enable-lifecycle",
                "--web.enable-admin-api",
            ],
            [p.prometheus],
            {"CHAOSEXT_CONFIG_HASH": hashes.get("prometheus", "")},
            priority=200,
            group="infra",
        ),
        Program(
            "haproxy",
            [DEBIAN_PROGRAMS["haproxy"], "-db", "-f", str(state / "haproxy" / "haproxy.cfg")],
            [p.checkout, p.payment, p.haproxy_stats],
            {"CHAOSEXT_CONFIG_HASH": hashes.get("haproxy", "")},
            priority=200,
            group="infra",
        ),
    ]
    payment_env = {
        "TLS_CERT_FILE": str(config.payment_cert_file),
        "TLS_KEY_FILE": str(config.payment_key_file),
        "REDIS_URL": config.redis_url,
    }
    common = {"CA_FILE": str(config.ca_bundle), "DNS_SERVER": config.dns_server}
    checkout_env = {
        **common,
        "PAYMENT_URL": config.payment_url,
        "KAFKA_BOOTSTRAP": config.kafka_bootstrap,
        "ORDERS_TOPIC": config.orders_topic,
    }
    consumer_env = {
        **common,
        "KAFKA_BOOTSTRAP": config.kafka_bootstrap,
        "ORDERS_TOPIC": config.orders_topic,
        "DLQ_TOPIC": config.dlq_topic,
        "GROUP_ID": config.consumer_group,
        "CAPTURE_URL": config.capture_url,
        "REDIS_URL": config.redis_url,
    }
    services = [
        _service(config, "payment-service-1", "payment_service", p.payment_service_1, payment_env),
        _service(config, "payment-service-2", "payment_service", p.payment_service_2, payment_env),
        _service(config, "checkout-api-1", "checkout_api", p.checkout_api_1, checkout_env),
        _service(config, "checkout-api-2", "checkout_api", p.checkout_api_2, checkout_env),
        _service(config, "order-consumer", "order_consumer", p.order_consumer, consumer_env),
    ]
    return infra + services


def _env_line(env: dict[str, str]) -> str:
    return ",".join(f'{k}="{v.replace("%", "%%")}"' for k, v in env.items())


def supervisord_conf(config: StackConfig, progs: list[Program]) -> str:
    s = config.state
    sections = [
        "; generated by chaosext stack: do not edit (re-rendered by `chaosext stack up`)",
        "[unix_http_server]",
        f"file={config.supervisor_socket}",
        "chmod=0700",
        "",
        "[supervisord]",
        f"logfile={config.logs / 'supervisord.log'}",
        "logfile_maxbytes=10MB",
        "logfile_backups=1",
        f"pidfile={config.supervisor_pidfile}",
        f"childlogdir={config.logs}",
        f"directory={s}",
        "identifier=chaosext-stack",
        "nodaemon=false",
        "minfds=4096",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{config.supervisor_socket}",
        "",
    ]
    for prog in progs:
        sections += [
            f"[program:{prog.name}]",
            "command=" + " ".join(shlex.quote(part).replace("%", "%%") for part in prog.command),
            f"directory={s}",
            "autostart=true",
            "autorestart=true",
            "startsecs=1",
            "startretries=1000",
            f"priority={prog.priority}",
            "stopsignal=TERM",
            f"stopwaitsecs={prog.stopwaitsecs}",
            "stopasgroup=true",
            "killasgroup=true",
            "redirect_stderr=true",
            f"stdout_logfile={prog.log_file(config)}",
            "stdout_logfile_maxbytes=20MB",
            "stdout_logfile_backups=1",
        ]
        if prog.env:
            sections.append(f"environment={_env_line(prog.env)}")
        sections.append("")
    return "\n".join(sections)
