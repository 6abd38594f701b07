"""The real local stack for tests: the CLI runner and the Stack handle (fixtures in conftest.py).

A module of its own, not conftest.py: several test folders have a conftest.py, and pytest
imports each as a module named ``conftest``, so ``from conftest import`` would get whichever came
first."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support import wait_until

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
    proc = wait_until("every component of the stack to report healthy",
                      lambda: chaosext("stack", "status", "--json", check=False), timeout=60, interval=0.5,
                      done=lambda status: status.returncode == 0, retry_on=())
    return Stack(status=json.loads(proc.stdout))


