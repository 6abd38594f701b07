"""Fetch and cache every component of the local stack (idempotent: a second run downloads nothing).

* Apache Kafka broker jars from Maven Central, with Maven, into ``<cache>/kafka/<version>/lib``;
* Toxiproxy server and cli, built with ``go install``, into ``<cache>/bin``;
* Debian's haproxy, prometheus and redis-server must be installed (scripts/setup.sh does it).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from chaosext.errors import ComponentError
from chaosext.stack.config import StackConfig, load_config

__all__ = ["DEBIAN_PROGRAMS", "find_go", "install", "missing_components"]

Progress = Callable[[str], None]

DEBIAN_PROGRAMS = {
    "haproxy": "/usr/sbin/haproxy",
    "prometheus": "/usr/bin/prometheus",
    "redis-server": "/usr/bin/redis-server",
}
LOG4J_VERSION = "2.24.3"
SLF4J_VERSION = "2.0.17"
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


def find_go() -> str | None:
    return shutil.which("go") or (
        "/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None
    )


def _pom(config: StackConfig) -> str:
    return _POM.format(kafka=config.kafka_version, log4j=LOG4J_VERSION, slf4j=SLF4J_VERSION)


def _kafka_stamp(config: StackConfig) -> str:
    return hashlib.sha256(_pom(config).encode()).hexdigest()


def _kafka_cached(config: StackConfig) -> bool:
    marker = config.kafka_lib / _MARKER
    return marker.exists() and marker.read_text().strip() == _kafka_stamp(config)


def missing_components(config: StackConfig) -> list[str]:
    """Names of the components that are not installed (empty when the stack can start)."""
    missing = [name for name, path in DEBIAN_PROGRAMS.items() if not Path(path).exists()]
    if not _kafka_cached(config):
        missing.append(f"kafka {config.kafka_version}")
    if not (config.toxiproxy_server.exists() and config.toxiproxy_cli.exists()):
        missing.append("toxiproxy")
    if shutil.which("java") is None:
        missing.append("java")
    return missing


def install(progress: Progress, config: StackConfig | None = None) -> None:
    """Make every component of the stack available in the cache; says what it found already there."""
    config = config or load_config()
    config.cache.mkdir(parents=True, exist_ok=True)
    _check_debian(progress)
    _install_kafka(config, progress)
    _install_toxiproxy(config, progress)
    progress(f"stack components ready in {config.cache}")


def _check_debian(progress: Progress) -> None:
    missing = [name for name, path in DEBIAN_PROGRAMS.items() if not Path(path).exists()]
    if shutil.which("java") is None:
        missing.append("openjdk-17-jre-headless")
    if missing:
        raise ComponentError(
            f"missing Debian package(s): {', '.join(missing)}; "
            f"fix: apt-get install -y {' '.join(missing)} (or run scripts/setup.sh)"
        )
    progress(f"Debian packages present: {', '.join(DEBIAN_PROGRAMS)}, java")


def _run(cmd: list[str], component: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=1800)
    except FileNotFoundError:
        raise ComponentError(f"{component}: {cmd[0]} is not installed; run scripts/setup.sh") from None
    except subprocess.TimeoutExpired:
        raise ComponentError(f"{component}: `{' '.join(cmd)}` did not finish in 30 minutes") from None
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        raise ComponentError(
            f"{component}: `{' '.join(cmd)}` failed (exit {proc.returncode}); "
            f"check the network access to the registry and retry `chaosext install`.\n{tail}"
        )


def _install_kafka(config: StackConfig, progress: Progress) -> None:
    lib = config.kafka_lib
    if _kafka_cached(config):
        progress(f"kafka {config.kafka_version}: cached in {lib} ({len(list(lib.glob('*.jar')))} jars), nothing to download")
        return
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ComponentError("kafka: Maven (mvn) is not installed; fix: apt-get install -y maven")
    progress(f"kafka {config.kafka_version}: resolving the broker jars from Maven Central (a minute or two)")
    if lib.exists():
        shutil.rmtree(lib)
    lib.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chaosext-kafka-pom-") as tmp:
        pom = Path(tmp) / "pom.xml"
        pom.write_text(_pom(config))
        _run(
            [
                mvn, "-q", "-B", f"-Dmaven.repo.local={config.cache / 'm2'}", "-f", str(pom),
                "dependency:copy-dependencies", f"-DoutputDirectory={lib}", "-DincludeScope=runtime",
            ],
            "kafka",
        )
    jars = list(lib.glob("*.jar"))
    if not any(j.name.startswith("kafka_2.13-") for j in jars):
        raise ComponentError(f"kafka: Maven finished but {lib} holds no kafka_2.13 jar; retry `chaosext install`")
    (lib / _MARKER).write_text(_kafka_stamp(config) + "\n")
    progress(f"kafka {config.kafka_version}: {len(jars)} jars in {lib}")


def _install_toxiproxy(config: StackConfig, progress: Progress) -> None:
    binaries = {"server": config.toxiproxy_server, "cli": config.toxiproxy_cli}
    stamp = config.cache / "bin" / ".toxiproxy-version"
    cached = stamp.exists() and stamp.read_text().strip() == config.toxiproxy_version
    if cached and all(p.exists() for p in binaries.values()):
        progress(f"toxiproxy {config.toxiproxy_version}: cached in {config.cache / 'bin'}, nothing to build")
        return
    go = find_go()
    if go is None:
        raise ComponentError("toxiproxy: the Go toolchain is not installed (expected /usr/local/go/bin/go)")
    bin_dir = config.cache / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        GOPATH=str(config.cache / "gopath"),
        GOCACHE=str(config.cache / "gocache"),
        GOBIN=str(bin_dir),
        CGO_ENABLED="0",
        GOFLAGS="-modcacherw",
    )
    for name, target in binaries.items():
        progress(f"toxiproxy {config.toxiproxy_version}: go install cmd/{name} (first time: a minute or two)")
        _run([go, "install", f"github.com/Shopify/toxiproxy/v2/cmd/{name}@{config.toxiproxy_version}"], "toxiproxy", env)
        built = bin_dir / name
        if not built.exists():
            raise ComponentError(f"toxiproxy: go install did not produce {built}")
        built.replace(target)
    stamp.write_text(config.toxiproxy_version + "\n")
    progress(f"toxiproxy {config.toxiproxy_version}: {', '.join(str(p) for p in binaries.values())}")
