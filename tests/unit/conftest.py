"""The unit layer: chaosext's core with no stack and no cluster.

Every test gets its own state directory (``CHAOSEXT_STATE_DIR``), so markers, reaper logs and
locks never touch the user's real state; no other ``CHAOSEXT_*`` setting of the caller; and a
kube config that does not exist, so nothing can reach a real cluster. Each test has a 30 s limit:
the whole directory must stay well under 60 s.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from chaosext.faults.paths import faults_dir

HERE = Path(__file__).resolve().parent
PER_TEST_TIMEOUT_S = 30


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.timeout(PER_TEST_TIMEOUT_S))


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private state directory and no other chaosext setting from the caller's environment
    (target, guardrails, ports); the tests' helper modules importable by reaper processes."""
    for key in [k for k in os.environ if k.startswith("CHAOSEXT_")]:
        monkeypatch.delenv(key)
    state = tmp_path / "state"
    monkeypatch.setenv("CHAOSEXT_STATE_DIR", str(state))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    monkeypatch.delenv("KUBERNETES_CONTEXT", raising=False)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])))
    assert faults_dir().is_relative_to(tmp_path), "the faults directory must be the test's own"
    yield state
    _kill_reapers_of(state)


def _kill_reapers_of(state: Path) -> None:
    """End the reaper processes a test started on ``state`` (found by their environment), so a
    failed test leaves none running."""
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            if "chaosext.faults.reaper" not in (proc.info["cmdline"] or []):
                continue
            if proc.environ().get("CHAOSEXT_STATE_DIR") == str(state):
                proc.kill()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue


@pytest.fixture
def signal_handlers() -> Iterator[None]:
    """Restore SIGINT and SIGTERM handlers after a test that changes them."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)
