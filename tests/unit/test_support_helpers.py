"""The shared test helpers: ``wait_until`` and ``free_port``."""

from __future__ import annotations

import itertools
import socket
import time
from collections.abc import Iterator

import pytest
from support import free_port, wait_until


def test_wait_until_returns_the_first_truthy_value() -> None:
    values: Iterator[object] = iter([None, 0, [], {"ready": True}])
    assert wait_until("readiness", lambda: next(values), timeout=5, interval=0.01) == {"ready": True}


def test_wait_until_with_done_may_return_a_falsy_value() -> None:
    values = iter(["marker", "marker", None])
    assert wait_until("the marker to go", lambda: next(values), timeout=5, interval=0.01, done=lambda v: v is None) is None


def test_a_probe_error_means_not_yet_by_default() -> None:
    attempts = itertools.count()

    def probe() -> int:
        n = next(attempts)
        if n < 2:
            raise ConnectionError("starting")
        return n

    assert wait_until("the server", probe, timeout=5, interval=0.01) == 2


def test_retry_on_nothing_lets_the_probe_error_through() -> None:
    def probe() -> bool:
        raise KeyError("gone")

    with pytest.raises(KeyError):
        wait_until("a key", probe, timeout=5, interval=0.01, retry_on=())


def test_the_timeout_names_what_and_the_last_value_seen() -> None:
    started = time.monotonic()
    with pytest.raises(AssertionError) as failure:
        wait_until("three replicas", lambda: 2, timeout=0.3, interval=0.05, done=lambda n: n == 3,
                   on_timeout=lambda: "replica log tail")
    elapsed = time.monotonic() - started
    message = str(failure.value)
    assert "waiting for three replicas" in message and "last seen: 2" in message and "replica log tail" in message
    assert 0.3 <= elapsed < 5


def test_the_timeout_shows_the_last_error() -> None:
    def probe() -> None:
        raise ConnectionRefusedError("port 9 closed")

    with pytest.raises(AssertionError, match="ConnectionRefusedError\\('port 9 closed'\\)"):
        wait_until("a closed port", probe, timeout=0.2, interval=0.05)


def test_free_port_is_free_for_tcp_and_udp() -> None:
    port = free_port()
    assert 1024 <= port <= 65535
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        tcp.bind(("127.0.0.1", port))
        udp.bind(("127.0.0.1", port))
