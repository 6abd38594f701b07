"""The Kafka distribution in the cache: broker jars and admin-tool jars from Maven Central, plus a
class-data-sharing (AppCDS) archive that makes the three brokers start with about half the CPU.

Layout (``<cache>/kafka/<version>``): ``lib/`` the runtime classpath of the broker, of
``kafka.tools.StorageTool`` and of the ``kafka-tools`` admin CLIs (log4j2, slf4j 2); ``kafka.jsa`` the
CDS archive (made by starting one throwaway broker once).
"""

from __future__ import annotations

import hashlib
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from chaosext.common.waiting import eventually
from chaosext.errors import ComponentError
from chaosext.stack.config import StackConfig
from chaosext.stack.render import kafka_log4j

__all__ = ["broker_classpath", "cds_archive", "install_kafka", "kafka_installed", "run_checked"]

Progress = Callable[[str], None]
LOG4J_VERSION = "2.24.3"
SLF4J_VERSION = "2.0.17"
JAVA = "/usr/bin/java"
_MARKER = ".complete"

_POM = """<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>chaosext</groupId>
  <artifactId>kafka-broker-bundle</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId>
      <version>{kafka}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId>
      <version>{kafka}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-storage</artifactId>
      <version>{kafka}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId>
      <version>{slf4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId>
      <version>{log4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId>
      <version>{log4j}</version></dependency>
  </dependencies>
</project>
"""


def _pom(config: StackConfig) -> str:
    return _POM.format(kafka=config.kafka_version, log4j=LOG4J_VERSION, slf4j=SLF4J_VERSION)


def _stamp(config: StackConfig) -> str:
    return hashlib.sha256(_pom(config).encode()).hexdigest()


def _home(config: StackConfig) -> Path:
    return config.kafka_lib.parent


def cds_archive(config: StackConfig) -> Path:
    return _home(config) / "kafka.jsa"


def kafka_installed(config: StackConfig) -> bool:
    marker = config.kafka_lib / _MARKER
    return marker.exists() and marker.read_text().strip() == _stamp(config)


def broker_classpath(config: StackConfig) -> str:
    """The broker's classpath, jar by jar in a fixed order (the CDS archive requires the same one)."""
    return ":".join(str(jar) for jar in sorted(config.kafka_lib.glob("*.jar")))


def run_checked(cmd: list[str], component: str, timeout: float = 1800, **kwargs: object) -> str:
    """Run a command; a failure becomes a ComponentError naming the component and the fix."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)  # type: ignore[call-overload]
    except FileNotFoundError:
        raise ComponentError(
            f"{component}: {cmd[0]} is not installed; install it (README: Install with pip), "
            "or in a checkout run scripts/setup.sh"
        ) from None
    except subprocess.TimeoutExpired:
        raise ComponentError(
            f"{component}: `{' '.join(cmd[:4])} ...` did not finish in {timeout:.0f}s"
        ) from None
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        raise ComponentError(
            f"{component}: `{' '.join(cmd[:6])} ...` failed (exit {proc.returncode}); "
            f"check the access to the registry and retry `chaosext install`.\n{tail}"
        )
    return str(proc.stdout)


def install_kafka(config: StackConfig, progress: Progress) -> None:
    """Broker and tool jars from Maven Central (cached in ``<cache>/m2``), then the CDS archive."""
    if kafka_installed(config):
        jars = len(list(config.kafka_lib.glob("*.jar")))
        progress(
            f"kafka {config.kafka_version}: cached in {config.kafka_lib} ({jars} jars), nothing to download"
        )
    else:
        mvn = shutil.which("mvn")
        if mvn is None:
            raise ComponentError("kafka: Maven (mvn) is not installed; fix: apt-get install -y maven")
        lib = config.kafka_lib
        progress(f"kafka {config.kafka_version}: resolving the broker and tool jars from Maven Central")
        if lib.exists():
            shutil.rmtree(lib)
        lib.mkdir(parents=True)
        cds_archive(config).unlink(missing_ok=True)
        with tempfile.TemporaryDirectory(prefix="chaosext-kafka-pom-") as tmp:
            pom = Path(tmp) / "pom.xml"
            pom.write_text(_pom(config))
            run_checked(
                [
                    mvn,
                    "-q",
                    "-B",
                    f"-Dmaven.repo.local={config.cache / 'm2'}",
                    "-f",
                    str(pom),
                    "dependency:copy-dependencies",
                    f"-DoutputDirectory={lib}",
                    "-DincludeScope=runtime",
                ],
                "kafka",
            )
        if not any(j.name.startswith("kafka_2.13-") for j in lib.glob("*.jar")):
            raise ComponentError(
                f"kafka: Maven finished but {lib} holds no kafka_2.13 jar; retry `chaosext install`"
            )
        (lib / _MARKER).write_text(_stamp(config) + "\n")
        progress(f"kafka {config.kafka_version}: {len(list(lib.glob('*.jar')))} jars in {lib}")
    if cds_archive(config).exists():
        progress(
            f"kafka {config.kafka_version}: class-data-sharing archive cached ({cds_archive(config).name})"
        )
        return
    try:
        _build_cds(config, progress)
    except ComponentError as exc:  # an optimisation only: the brokers start without it, just slower
        progress(f"warning: {exc}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _build_cds(config: StackConfig, progress: Progress, timeout: float = 120.0) -> None:
    """Start one throwaway single-node broker with -XX:ArchiveClassesAtExit, stop it, keep the archive."""
    progress(f"kafka {config.kafka_version}: building the class-data-sharing archive (one throwaway broker)")
    archive = cds_archive(config)
    classpath = broker_classpath(config)
    with tempfile.TemporaryDirectory(prefix="chaosext-kafka-cds-") as tmp:
        work = Path(tmp)
        client, controller = _free_port(), _free_port()
        (work / "server.properties").write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{controller}",
                    f"listeners=PLAINTEXT://127.0.0.1:{client},CONTROLLER://127.0.0.1:{controller}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{client}",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    "inter.broker.listener.name=PLAINTEXT",
                    "controller.listener.names=CONTROLLER",
                    f"log.dirs={work / 'data'}",
                    "offsets.topic.replication.factor=1",
                    "transaction.state.log.replication.factor=1",
                    "share.coordinator.state.topic.replication.factor=1",
                ]
            )
            + "\n"
        )
        run_checked(
            [
                JAVA,
                "-cp",
                classpath,
                "kafka.tools.StorageTool",
                "format",
                "-t",
                config.kafka_cluster_id,
                "-c",
                str(work / "server.properties"),
            ],
            "kafka (CDS archive)",
            timeout=120,
        )
        (work / "log4j2.properties").write_text(kafka_log4j(config))
        log_path = work / "broker.log"
        partial = archive.with_name(archive.name + ".tmp")
        partial.unlink(missing_ok=True)
        with open(log_path, "w") as log:
            broker = subprocess.Popen(
                [
                    JAVA,
                    "-Xms128m",
                    "-Xmx384m",
                    "-XX:TieredStopAtLevel=1",
                    f"-XX:ArchiveClassesAtExit={partial}",
                    f"-Dlog4j2.configurationFile={work / 'log4j2.properties'}",
                    "-cp",
                    classpath,
                    "kafka.Kafka",
                    str(work / "server.properties"),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=work,
            )
        try:
            def not_started() -> ComponentError:
                return ComponentError(
                    "kafka (CDS archive): the throwaway broker did not start; last lines:\n"
                    + "\n".join(log_path.read_text(errors="replace").splitlines()[-15:])
                )

            def started() -> bool:
                if "Kafka Server started" in log_path.read_text(errors="replace"):
                    return True
                if broker.poll() is not None:
                    raise not_started()
                return False

            if not eventually("the throwaway broker to start", started, timeout_s=timeout, interval_s=0.2):
                raise not_started()
            broker.send_signal(signal.SIGTERM)
            broker.wait(timeout=60)
        finally:
            if broker.poll() is None:
                broker.kill()
                broker.wait()
    if not partial.exists():
        raise ComponentError(
            "kafka (CDS archive): the JVM wrote no archive; the brokers will start without one"
        )
    partial.replace(archive)
    size_mib = archive.stat().st_size >> 20
    progress(f"kafka {config.kafka_version}: class-data-sharing archive {archive} ({size_mib} MiB)")
