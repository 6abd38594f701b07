"""Fetch and cache every component of the local stack (idempotent: a second run downloads nothing).

* Apache Kafka broker jars from Maven Central, with Maven, into ``<cache>/kafka/<version>/lib``;
* Toxiproxy server and cli, built with ``go install``, into ``<cache>/bin``;
* Debian's haproxy, prometheus and redis-server must be installed (scripts/setup.sh does it).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from chaosext.errors import ComponentError
from chaosext.stack.config import StackConfig, load_config
from chaosext.stack.kafka_dist import install_kafka, kafka_installed, run_checked

__all__ = ["DEBIAN_PROGRAMS", "find_go", "install", "missing_components"]

Progress = Callable[[str], None]

DEBIAN_PROGRAMS = {
    "haproxy": "/usr/sbin/haproxy",
    "prometheus": "/usr/bin/prometheus",
    "redis-server": "/usr/bin/redis-server",
}


def find_go() -> str | None:
    return shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)


def missing_components(config: StackConfig) -> list[str]:
    """Names of the components that are not installed (empty when the stack can start)."""
    missing = [name for name, path in DEBIAN_PROGRAMS.items() if not Path(path).exists()]
    if not kafka_installed(config):
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
    install_kafka(config, progress)
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
        run_checked(
            [go, "install", f"github.com/Shopify/toxiproxy/v2/cmd/{name}@{config.toxiproxy_version}"],
            "toxiproxy",
            env=env,
        )
        built = bin_dir / name
        if not built.exists():
            raise ComponentError(f"toxiproxy: go install did not produce {built}")
        built.replace(target)
    stamp.write_text(config.toxiproxy_version + "\n")
    progress(f"toxiproxy {config.toxiproxy_version}: {', '.join(str(p) for p in binaries.values())}")
