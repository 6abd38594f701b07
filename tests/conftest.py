"""Shared fixtures: the real local stack, started once per session (helpers in stack_support.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from redaction_plugin import pytest_runtest_makereport  # noqa: F401  (a hook: masks secrets in failure reports)
from stack_support import Stack, chaosext, stack_up


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
