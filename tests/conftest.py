"""Shared fixtures: the real local stack, started once per session (helpers in stack_support.py)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from typing import Any

import pytest
from redaction_plugin import pytest_runtest_makereport  # noqa: F401  (a hook: masks secrets in failure reports)
from stack_support import Stack, chaosext, stack_up


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C as a terminal delivers it, even when the suite was started in the background: a
    non-interactive shell starts background jobs with SIGINT ignored, Python then installs no
    KeyboardInterrupt handler, and every process the tests spawn (chaos run, the stack) inherits
    the ignored SIGINT, so the tests of interrupts and rollbacks would test nothing. A handler set
    here is reset to the default in spawned programs, which then install their own."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


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
