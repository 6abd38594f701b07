"""Callers of chaosext.common.waiting keep their own errors: what was awaited and the last state seen."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from chaoslib.exceptions import ActivityFailed

from chaosext.kafka import local as kafka_local
from chaosext.kafka import probes as kafka_probes
from chaosext.rollout import kubernetes as rollout_k8s
from chaosext.stack.procs import wait_gone


class FakeSupervisor:
    def __init__(self, states: list[str]) -> None:
        self.states = states

    def processes(self) -> dict[str, dict[str, Any]]:
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        return {"kafka-1": {"statename": state}}


def test_supervisor_state_is_awaited_then_reported_on_timeout() -> None:
    sup: Any = FakeSupervisor(["STARTING", "STARTING", "RUNNING"])
    assert kafka_local._wait_state(sup, "kafka-1", {"RUNNING"}, timeout=5) == "RUNNING"
    stuck: Any = FakeSupervisor(["BACKOFF"])
    with pytest.raises(ActivityFailed, match=r"kafka-1 did not reach EXITED/STOPPED within 0.2s \(state BACKOFF\)"):
        kafka_local._wait_state(stuck, "kafka-1", {"STOPPED", "EXITED"}, timeout=0.2)


def test_rollout_wait_reports_the_last_state(monkeypatch: pytest.MonkeyPatch) -> None:
    states = iter([{"complete": False, "n": 1}, {"complete": True, "n": 2}])
    monkeypatch.setattr(rollout_k8s, "read_workload", lambda *a, **k: SimpleNamespace(kind=None))
    monkeypatch.setattr(rollout_k8s, "rollout_state", lambda obj: next(states))
    done = rollout_k8s.wait_complete("web", "deployment", "ns", timeout=5, interval=0.01)
    assert done["n"] == 2 and done["waited_s"] >= 0
    monkeypatch.setattr(rollout_k8s, "rollout_state", lambda obj: {"complete": False, "n": 7})
    with pytest.raises(ActivityFailed, match=r"rollout of deployment ns/web did not complete within 0.1s: .*'n': 7"):
        rollout_k8s.wait_complete("web", "deployment", "ns", timeout=0.1, interval=0.02)


def test_wait_gone_returns_what_still_listens() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert [listener.port for listener in wait_gone([port], timeout=0.3)] == [port]
    assert wait_gone([port], timeout=5) == []


def test_kafka_poll_returns_the_last_reading_or_raises_the_last_error(monkeypatch: pytest.MonkeyPatch) -> None:
    @contextlib.asynccontextmanager
    async def session(conn: Any) -> AsyncIterator[None]:
        yield None

    monkeypatch.setattr(kafka_probes.admin, "session", session)
    readings: list[Any] = [OSError("broker restarting"), 1, 0]

    async def read(s: Any) -> Any:
        reading = readings.pop(0) if len(readings) > 1 else readings[0]
        if isinstance(reading, Exception):
            raise reading
        return reading

    assert asyncio.run(kafka_probes._poll(None, read, lambda v: v == 0, 5)) == 0
    readings[:] = [3]
    assert asyncio.run(kafka_probes._poll(None, read, lambda v: v == 0, 0)) == 3
    readings[:] = [OSError("down")]
    with pytest.raises(OSError, match="down"):
        asyncio.run(kafka_probes._poll(None, read, lambda v: v == 0, 0.1))
