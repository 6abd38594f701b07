"""Build Vegeta (github.com/tsenart/vegeta, MIT) from the Go module proxy into ``<cache>/bin``.

Why Vegeta and not k6: k6's constant-arrival-rate executor is the field's reference for open-model
load, but k6 is AGPL-licensed and marked not-to-use for this project; Vegeta's ``attack`` is a
constant-rate open-model attacker too (it starts new workers when the in-flight ones are slow, so a
slow server does not lower the offered rate), it records every request's latency and outcome
(including timeouts and refused connections), and it is MIT-licensed and a single Go binary.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from chaosext.common.settings import cache_root
from chaosext.errors import ComponentError

__all__ = ["VEGETA_MODULE", "VEGETA_VERSION", "install_traffic_tools", "vegeta_binary"]

VEGETA_MODULE = "github.com/tsenart/vegeta/v12"
VEGETA_VERSION = "v12.13.0"

Progress = Callable[[str], None]


def vegeta_binary() -> Path:
    return cache_root() / "bin" / "vegeta"


def _stamp() -> Path:
    return cache_root() / "bin" / ".vegeta-version"


def _find_go() -> str | None:
    from chaosext.stack.install import find_go

    return find_go()


def install_traffic_tools(progress: Progress) -> Path:
    """Make ``vegeta`` available in the cache (idempotent: a second run builds nothing)."""
    binary = vegeta_binary()
    stamp = _stamp()
    if binary.exists() and stamp.exists() and stamp.read_text().strip() == VEGETA_VERSION:
        progress(f"vegeta {VEGETA_VERSION}: cached in {binary}, nothing to build")
        return binary
    go = _find_go()
    if go is None:
        raise ComponentError("vegeta: the Go toolchain is not installed (expected /usr/local/go/bin/go)")
    cache = cache_root()
    binary.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        GOPATH=str(cache / "gopath"),
        GOCACHE=str(cache / "gocache"),
        GOBIN=str(binary.parent),
        CGO_ENABLED="0",
        GOFLAGS="-modcacherw",
    )
    progress(f"vegeta {VEGETA_VERSION}: go install {VEGETA_MODULE} (first time: a minute or two)")
    cmd = [go, "install", f"{VEGETA_MODULE}@{VEGETA_VERSION}"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    except subprocess.TimeoutExpired:
        raise ComponentError(f"vegeta: `{' '.join(cmd)}` did not finish in 30 minutes") from None
    if proc.returncode != 0 or not binary.exists():
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-20:])
        raise ComponentError(
            f"vegeta: `{' '.join(cmd)}` failed (exit {proc.returncode}); "
            f"check access to the Go module proxy and retry `chaosext install`.\n{tail}"
        )
    stamp.write_text(VEGETA_VERSION + "\n")
    progress(f"vegeta {VEGETA_VERSION}: {binary}")
    return binary
