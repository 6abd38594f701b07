"""Helpers for the control-plane tests: the fixture's object, and the kind tests' deadline-bound poll."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import support
from kubernetes import client

from chaosext.common import procs

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
    """The kind tests' form of ``support.wait_until`` (``done`` third, ``timeout_s``): a probe that
    raises fails the test at once, as those tests expect."""
    return support.wait_until(what, probe, timeout=timeout_s, interval=interval_s, done=done, retry_on=())


def labels_selector(labels: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in labels.items())


def live_cmdline(pid: int) -> str | None:
    """The command line of a live process on this machine (None when gone or a zombie): KWOK pods
    run nothing, so an exec'd stressor is a local process here."""
    if procs.live(pid) is None:
        return None
    return " ".join(procs.cmdline(pid)).strip()
