"""Shared fixtures: the real local stack, started once per session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
CHAOSEXT = [str(Path(sys.executable).parent / "chaosext")]


def chaosext(*args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the chaosext CLI as a user would; its output is shown when it fails."""
    proc = subprocess.run([*CHAOSEXT, *args], capture_output=True, text=True, timeout=timeout, cwd=REPO)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"chaosext {' '.join(args)} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


@dataclass
class Stack:
    status: dict[str, Any]

    @property
    def endpoints(self) -> dict[str, str]:
        endpoints: dict[str, str] = self.status["endpoints"]
        return endpoints

    def url(self, name: str) -> str:
        return self.endpoints[name].rstrip("/")


def stack_up() -> Stack:
    """Bring the stack up (idempotent) and wait until every component reports healthy: a replica
    that a previous test's rollback is restarting may be unhealthy for a few seconds."""
    chaosext("stack", "up", timeout=900)
    deadline = time.monotonic() + 60
    while True:
        proc = chaosext("stack", "status", "--json", check=time.monotonic() > deadline)
        if proc.returncode == 0:
            return Stack(status=json.loads(proc.stdout))
        time.sleep(0.5)


@pytest.fixture(scope="session")
def stack_session() -> Iterator[dict[str, Any]]:
    holder: dict[str, Any] = {}
    yield holder
    if os.environ.get("CHAOSEXT_KEEP_STACK") != "1":
        chaosext("stack", "down", check=False, timeout=300)


@pytest.fixture
def stack(stack_session: dict[str, Any]) -> Stack:
    """The local stack, up and healthy (brought up once; again only if a test took it down)."""
    current: Stack | None = stack_session.get("stack")
    if current is None or chaosext("stack", "status", "--json", check=False).returncode != 0:
        current = stack_up()
        stack_session["stack"] = current
    return current
