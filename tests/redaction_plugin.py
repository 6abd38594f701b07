"""Failure reports are logs too (CI prints them): mask secrets in them with chaosext's own redactor.

A failing test shows its arguments and the values it compared; when those hold a test key (a
certificate fixture, a Kubernetes Secret) the key would land in the CI log. Loaded by conftest.py.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from chaosext.evidence.redact import Redactor


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if not report.failed or report.longrepr is None:
        return
    text = str(report.longrepr)
    clean = Redactor().credentials(text)
    if clean != text:
        report.longrepr = clean
