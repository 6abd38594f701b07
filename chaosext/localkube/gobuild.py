"""Run the `go` command with chaosext's caches, streaming its output as progress lines."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path

from chaosext.common.settings import cache_root
from chaosext.errors import ComponentError

__all__ = ["go_binary", "go_env", "run_go"]

Progress = Callable[[str], None]
REPORT_EVERY_S = 20.0


def go_binary() -> str:
    found = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    if not found:
        raise ComponentError("the Go toolchain (`go`, 1.26+) is not on PATH: install it to build Kubernetes")
    return found


def go_env() -> dict[str, str]:
    """Keep GOPATH, the module cache and the build cache under $CHAOSEXT_CACHE_DIR so CI can keep them."""
    root = cache_root()
    env = dict(os.environ)
    env.update(
        GOPATH=str(root / "gopath"),
        GOMODCACHE=str(root / "gopath" / "pkg" / "mod"),
        GOCACHE=str(root / "gocache"),
        GOFLAGS="-modcacherw -buildvcs=false",
        CGO_ENABLED="0",
        GOTOOLCHAIN="local",
    )
    return env


def _looks_like_package(line: str) -> bool:
    """`go build -v` prints one import path per line; `go: downloading M V` per module fetched."""
    if line.startswith("go: downloading "):
        return True
    return bool(line) and " " not in line and ("/" in line or line.isidentifier())


def run_go(args: Sequence[str], cwd: Path, progress: Progress, label: str, env: dict[str, str]) -> None:
    """Run `go ARGS`; package lines of `-v` are counted and reported every 20 s, anything else is shown."""
    cmd = [go_binary(), *args]
    started = time.monotonic()
    tail: deque[str] = deque(maxlen=40)
    count = 0
    last_pkg = ""
    lock = threading.Lock()
    done = threading.Event()

    def reporter() -> None:
        while not done.wait(REPORT_EVERY_S):
            with lock:
                elapsed = int(time.monotonic() - started)
                progress(f"{label}: {count} packages/modules done, {elapsed // 60}m{elapsed % 60:02d}s, last {last_pkg}")

    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    thread = threading.Thread(target=reporter, daemon=True)
    thread.start()
    assert proc.stdout is not None
    try:
        for raw in proc.stdout:
            line = raw.rstrip()
            tail.append(line)
            with lock:
                if _looks_like_package(line):
                    count += 1
                    last_pkg = line
                    continue
            if line:
                progress(f"{label}: {line}")
        code = proc.wait()
    finally:
        done.set()
        thread.join()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    elapsed = time.monotonic() - started
    if code != 0:
        shown = "\n".join(tail)
        raise ComponentError(
            f"{label} failed (exit {code}) after {elapsed:.0f}s: `{' '.join(cmd)}` in {cwd}\n{shown}"
        )
    progress(f"{label}: done in {elapsed:.0f}s ({count} packages/modules)")
