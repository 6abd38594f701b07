"""Helpers for the control-plane tests: the fixture's object and a deadline-bound poll."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from kubernetes import client

T = TypeVar("T")


@dataclass
class Cluster:
    """A cluster's API client and the typed APIs the tests use."""

    kubeconfig: Path
    api: client.ApiClient

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api)


@dataclass
class Kube(Cluster):
    state_dir: Path


def wait_until(what: str, probe: Callable[[], T], done: Callable[[T], bool], timeout_s: float = 60.0,
               interval_s: float = 0.25) -> T:
    """Poll PROBE until DONE(value) or the deadline; the assertion shows the last value seen."""
    deadline = time.monotonic() + timeout_s
    value = probe()
    while not done(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}; last seen: {value!r}")
        time.sleep(interval_s)
        value = probe()
    return value


def labels_selector(labels: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in labels.items())
