"""The local stack's configuration: ports, paths and endpoints (docs/architecture.md is the contract).

Every port is a field of :class:`Ports`; ``CHAOSEXT_PORT_OFFSET`` is added to each one and a YAML
file may override any field (``ports: {checkout: 9080}``, ``kafka_version: ...``, ``cache_dir: ...``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chaosext.common.settings import cache_root, port_offset, repo_root, state_root, venv_dir
from chaosext.errors import UsageError

__all__ = [
    "KAFKA_VERSION",
    "SERVICE_REPLICAS",
    "TOXIPROXY_VERSION",
    "Ports",
    "StackConfig",
    "default_url",
    "load_config",
    "state_dir",
]

KAFKA_VERSION = "4.1.1"
TOXIPROXY_VERSION = "v2.12.0"
HOST = "127.0.0.1"
SERVICE_REPLICAS: dict[str, tuple[str, ...]] = {
    "payment-service": ("payment-service-1", "payment-service-2"),
    "checkout-api": ("checkout-api-1", "checkout-api-2"),
    "order-consumer": ("order-consumer",),
}
"""The sample services' supervisor programs (``chaosext.stack.programs`` runs these), so a fault
can ask supervisord about just these instead of listing every program."""


@dataclass(frozen=True)
class Ports:
    """Every TCP (and UDP, for DNS) port of the stack, before the offset is applied."""

    checkout: int = 8080
    checkout_api_1: int = 8081
    checkout_api_2: int = 8082
    payment: int = 8443
    payment_service_1: int = 8444
    payment_service_2: int = 8445
    order_consumer: int = 8091
    haproxy_stats: int = 8404
    toxiproxy_api: int = 8474
    toxi_payment: int = 18443
    toxi_capture: int = 18446
    prometheus: int = 9090
    redis: int = 16379
    dns: int = 15353
    dns_control: int = 15380
    kafka_1: int = 19092
    kafka_2: int = 19093
    kafka_3: int = 19094
    kafka_controller_1: int = 19192
    kafka_controller_2: int = 19193
    kafka_controller_3: int = 19194

    def shifted(self, offset: int) -> Ports:
        return Ports(**{f.name: getattr(self, f.name) + offset for f in dataclasses.fields(self)})

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


def state_dir() -> Path:
    """The stack's runtime state: ``stack`` under the state root."""
    return state_root() / "stack"


@dataclass(frozen=True)
class StackConfig:
    """Everything the stack's renderers, lifecycle and fault actions need to know."""

    ports: Ports = field(default_factory=Ports)
    host: str = HOST
    cache: Path = field(default_factory=cache_root)
    state: Path = field(default_factory=state_dir)
    repo: Path = field(default_factory=repo_root)
    venv: Path = field(default_factory=venv_dir)
    kafka_version: str = KAFKA_VERSION
    toxiproxy_version: str = TOXIPROXY_VERSION
    kafka_heap: str = "-Xms128m -Xmx384m"
    kafka_cluster_id: str = "Y2hhb3NleHQtc3RhY2sx"
    payment_dns_name: str = "payment.chaosext.test"
    orders_topic: str = "orders"
    dlq_topic: str = "orders.dlq"
    consumer_group: str = "order-consumer"
    up_timeout: float = 180.0

    # ---- paths -------------------------------------------------------------------------------
    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def kafka_lib(self) -> Path:
        return self.cache / "kafka" / self.kafka_version / "lib"

    @property
    def toxiproxy_server(self) -> Path:
        return self.cache / "bin" / "toxiproxy-server"

    @property
    def toxiproxy_cli(self) -> Path:
        return self.cache / "bin" / "toxiproxy-cli"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def tls(self) -> Path:
        return self.state / "tls"

    @property
    def ca_file(self) -> Path:
        return self.tls / "ca.pem"

    @property
    def ca_key_file(self) -> Path:
        return self.tls / "ca-key.pem"

    @property
    def payment_cert_file(self) -> Path:
        return self.tls / "payment.pem"

    @property
    def payment_key_file(self) -> Path:
        return self.tls / "payment-key.pem"

    @property
    def ca_bundle(self) -> Path:
        return self.tls / "ca-bundle.pem"

    @property
    def supervisor_conf(self) -> Path:
        return self.state / "supervisord.conf"

    @property
    def supervisor_socket(self) -> Path:
        return self.state / "supervisor.sock"

    @property
    def supervisor_pidfile(self) -> Path:
        return self.state / "supervisord.pid"

    @property
    def dns_records(self) -> Path:
        return self.state / "dns-records.txt"

    def service_config_file(self, service: str) -> Path:
        """The hot-reloaded JSON tunables of one service (``checkout-api``, ``payment-service`` ...)."""
        return self.state / "services" / f"{service}.json"

    def kafka_dir(self, broker_id: int) -> Path:
        return self.state / "kafka" / str(broker_id)

    # ---- endpoints ---------------------------------------------------------------------------
    def url(self, port: int, scheme: str = "http") -> str:
        return f"{scheme}://{self.host}:{port}"

    @property
    def kafka_ports(self) -> list[int]:
        p = self.ports
        return [p.kafka_1, p.kafka_2, p.kafka_3]

    @property
    def kafka_controller_ports(self) -> list[int]:
        p = self.ports
        return [p.kafka_controller_1, p.kafka_controller_2, p.kafka_controller_3]

    @property
    def kafka_bootstrap(self) -> str:
        return ",".join(f"{self.host}:{port}" for port in self.kafka_ports)

    @property
    def dns_server(self) -> str:
        return f"{self.host}:{self.ports.dns}"

    @property
    def payment_url(self) -> str:
        return f"https://{self.payment_dns_name}:{self.ports.toxi_payment}"

    @property
    def capture_url(self) -> str:
        return f"https://{self.payment_dns_name}:{self.ports.toxi_capture}/capture"

    @property
    def redis_url(self) -> str:
        return f"redis://{self.host}:{self.ports.redis}/0"

    def endpoints(self) -> dict[str, str]:
        p = self.ports
        return {
            "checkout": self.url(p.checkout),
            "checkout_api_1": self.url(p.checkout_api_1),
            "checkout_api_2": self.url(p.checkout_api_2),
            "payment": self.url(p.payment, "https"),
            "payment_service_1": self.url(p.payment_service_1, "https"),
            "payment_service_2": self.url(p.payment_service_2, "https"),
            "payment_via_toxiproxy": self.payment_url,
            "capture_via_toxiproxy": self.capture_url,
            "order_consumer": self.url(p.order_consumer),
            "prometheus": self.url(p.prometheus),
            "toxiproxy": self.url(p.toxiproxy_api),
            "haproxy_stats": self.url(p.haproxy_stats),
            "kafka_bootstrap": self.kafka_bootstrap,
            "dns": self.dns_server,
            "dns_control": self.url(p.dns_control),
            "redis": self.redis_url,
            "ca_file": str(self.ca_bundle),
            "state_dir": str(self.state),
            "supervisor_socket": str(self.supervisor_socket),
        }


_TOP_LEVEL = {f.name for f in dataclasses.fields(StackConfig)} - {"ports"}
_PATH_FIELDS = {"cache", "state", "repo", "venv"}


def default_url(name: str) -> str:
    """``load_config().url(<port name>)`` without building the whole configuration (whose paths
    cost file-system look-ups): the URL of a plain-HTTP control endpoint of the stack, such as
    ``toxiproxy_api`` or ``dns_control``, with ``CHAOSEXT_PORT_OFFSET`` added."""
    return f"http://{HOST}:{getattr(Ports(), name) + port_offset()}"


def load_config(path: Path | str | None = None) -> StackConfig:
    """The stack's configuration: defaults, ``CHAOSEXT_PORT_OFFSET``, then the YAML file ``path``.

    Ports in the YAML file are taken as given (the offset is not added to them).
    """
    ports = Ports().shifted(port_offset())
    overrides: dict[str, Any] = {}
    if path is not None:
        overrides = _read_yaml(Path(path))
    port_overrides = overrides.pop("ports", None) or {}
    if not isinstance(port_overrides, dict):
        raise UsageError(f"--config {path}: 'ports' must be a mapping of name to port")
    if port_overrides:  # checked only when given: every fault action loads the config
        ports = _override_ports(ports, port_overrides, path)
    kwargs: dict[str, Any] = {}
    for name, value in overrides.items():
        if name not in _TOP_LEVEL:
            raise UsageError(
                f"--config {path}: unknown setting {name!r}; known: {', '.join(sorted(_TOP_LEVEL))}"
            )
        kwargs[name] = Path(str(value)).expanduser() if name in _PATH_FIELDS else value
    return StackConfig(ports=ports, **kwargs)


def _override_ports(ports: Ports, overrides: dict[str, Any], path: Path | str | None) -> Ports:
    known_ports = {f.name for f in dataclasses.fields(Ports)}
    for name, value in overrides.items():
        if name not in known_ports:
            raise UsageError(
                f"--config {path}: unknown port {name!r}; known: {', '.join(sorted(known_ports))}"
            )
        if not isinstance(value, int) or not 1 <= value <= 65535:
            raise UsageError(f"--config {path}: port {name} must be an integer 1..65535, got {value!r}")
    return dataclasses.replace(ports, **overrides)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"--config {path}: no such file") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"--config {path}: not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"--config {path}: the top level must be a mapping")
    return dict(data)
