"""Argument checks: bad input fails with ActivityFailed naming the argument, before anything
changes (no connection, no process, no signal, no marker)."""

from __future__ import annotations

import importlib
import os
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from chaoslib.exceptions import ActivityFailed

from chaosext.dns.names import check_name
from chaosext.kafka import checks
from chaosext.kafka.canary import check_tag
from chaosext.slo.budget import check_target
from chaosext.traffic.stats import check_quantile


class SideEffect(BaseException):  # not an Exception: no `except Exception` in chaosext can hide it
    """An activity tried to reach something while its arguments were bad."""


@pytest.fixture
def no_side_effects(monkeypatch: pytest.MonkeyPatch, state_dir: Path) -> Iterator[None]:
    """Connections, child processes and signals fail the test; no marker may be left."""

    def refuse(what: str) -> Callable[..., Any]:
        def raiser(*args: Any, **kwargs: Any) -> Any:
            raise SideEffect(f"{what} attempted with bad arguments: {args[1:2]}")

        return raiser

    monkeypatch.setattr(socket.socket, "connect", refuse("a connection"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("a connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("a name lookup"))
    monkeypatch.setattr(subprocess.Popen, "_execute_child", refuse("a child process"))
    monkeypatch.setattr(os, "kill", refuse("a signal"))
    yield
    assert list((state_dir / "faults").glob("*.json")) == [], "a marker was written for a refused fault"


# (module, activity, bad arguments, the argument the error must name)
ACTIVITY_CASES: list[tuple[str, str, dict[str, Any], str]] = [
    ("dependency.actions", "add_latency", {"latency_ms": -1}, "latency_ms"),
    ("dependency.actions", "add_latency", {"jitter_ms": "x"}, "jitter_ms"),
    ("dependency.actions", "add_latency", {"stream": "sideways"}, "stream"),
    ("dependency.actions", "add_latency", {"duration": 0}, "duration"),
    ("dependency.actions", "reset_connections", {"after_ms": -5}, "after_ms"),
    ("dependency.actions", "hang_connections", {"close_after_ms": -5}, "close_after_ms"),
    ("dependency.actions", "take_dependency_down", {"duration": -1}, "duration"),
    ("dns.actions", "delay_dns", {"name": "bad name!"}, "name"),
    ("dns.actions", "delay_dns", {"name": "payment.chaosext.test", "delay_ms": -1}, "delay_ms"),
    ("dns.actions", "delay_dns", {"name": "payment.chaosext.test", "duration": 0}, "duration"),
    ("dns.actions", "fail_dns", {"name": "payment.chaosext.test", "failure": "explode"}, "failure"),
    ("instance.actions", "kill_instances", {"service": "payment-service", "count": 0}, "count"),
    ("instance.actions", "kill_instances", {"service": "payment-service", "signal": "SIGFOO"}, "signal"),
    ("instance.actions", "stop_instances", {"service": "payment-service", "count": True}, "count"),
    ("instance.actions", "stop_instances", {"service": "payment-service", "duration": 0}, "duration"),
    ("instance.actions", "wait_for_instances", {"service": "payment-service", "replicas": 0}, "replicas"),
    ("instance.actions", "wait_for_instances", {"service": "payment-service", "running_for_s": -1}, "running_for_s"),
    ("instance.actions", "wait_for_instances", {"service": "payment-service", "timeout": 0}, "timeout"),
    ("kafka.actions", "lose_brokers", {"brokers": "a"}, "brokers"),
    ("kafka.actions", "lose_brokers", {"mode": "explode"}, "mode"),
    ("kafka.actions", "lose_brokers", {"count": 0}, "count"),
    ("kafka.actions", "lose_brokers", {"duration": -1}, "duration"),
    ("kafka.actions", "pause_consumer", {"duration": 0}, "duration"),
    ("kafka.actions", "slow_consumer", {"slowdown": -1}, "slowdown"),
    ("kafka.actions", "produce_canaries", {"tag": "bad tag!"}, "tag"),
    ("kafka.actions", "produce_canaries", {"tag": "ok", "count": 0}, "count"),
    ("kafka.actions", "rewind_consumer_group", {"messages": -3}, "messages"),
    ("kafka.actions", "rewind_consumer_group", {"to_timestamp": "yesterday"}, "to_timestamp"),
    ("kafka.actions", "rewind_consumer_group", {"messages": 5, "ready_url": "ftp://x/readyz"}, "ready_url"),
    ("kafka.actions", "publish_malformed_event", {"kind": "weird"}, "kind"),
    ("stress.actions", "stress_cpu", {"service": "payment-service", "load": 500}, "load"),
    ("stress.actions", "stress_cpu", {"service": "payment-service", "workers": 0}, "workers"),
    ("stress.actions", "stress_cpu", {"service": "payment-service", "duration": 0}, "duration"),
    ("stress.actions", "stress_memory", {"service": "payment-service", "size": "lots"}, "size"),
    ("config.actions", "change_service_config", {"service": "checkout-api", "settings": "x"}, "settings"),
    ("config.actions", "change_service_config", {"service": "checkout-api", "settings": {"a": 1}, "duration": 0},
     "duration"),
    ("rollout.actions", "start_failing_rollout", {"name": "payment-service", "duration": 0}, "duration"),
    ("certificate.actions", "rotate_certificate", {"duration": 0}, "duration"),
    ("certificate.actions", "serve_expired_certificate", {"duration": -1}, "duration"),
    ("traffic.actions", "start_load", {"rate": 0}, "rate"),
    ("traffic.actions", "start_load", {"rate": 10, "duration": 0}, "duration"),
    ("traffic.actions", "start_load", {"rate": 10, "scenario": "nope"}, "scenario"),
    ("traffic.actions", "wait_for_steady_load", {"latency_at_most_ms": 0}, "latency_at_most_ms"),
    ("traffic.actions", "wait_for_steady_load", {"latency_at_most_ms": "fast"}, "latency_at_most_ms"),
    ("traffic.actions", "wait_for_steady_load", {"latency_at_most_ms": 800, "quantile": 1.5}, "quantile"),
    ("traffic.actions", "wait_for_steady_load", {"latency_at_most_ms": 800, "error_ratio_below": 0}, "error_ratio_below"),
    ("traffic.actions", "wait_for_steady_load", {"latency_at_most_ms": 800, "window_s": 0}, "window_s"),
    ("traffic.actions", "wait_for_steady_load", {"latency_at_most_ms": 800, "timeout": -1}, "timeout"),
    ("traffic.probes", "client_latency_ms", {"quantile": 2}, "quantile"),
    ("slo.probes", "latency_quantile_ms", {"quantile": 1.5}, "quantile"),
    ("slo.probes", "error_budget_burn", {"target": 2}, "target"),
    ("slo.probes", "error_ratio", {"window": "five"}, "window"),
    ("dns.probes", "resolve", {"name": "bad name!"}, "name"),
    ("dns.probes", "resolve", {"name": "a.test", "samples": 0}, "samples"),
    ("dependency.probes", "http_round_trip_ms", {"url": "http://x", "samples": 0}, "samples"),
    ("kafka.probes", "canaries_lost", {"tag": "bad tag!"}, "tag"),
    ("kafka.probes", "consumer_lag", {"timeout": -1}, "timeout"),
    ("certificate.probes", "handshake_succeeds", {"host": "x", "port": 0}, "port"),
    ("instance.actions", "kill_instances", {"service": "payment-service", "configuration": {"target": "mars"}}, "target"),
]


def _activity(module: str, name: str) -> Callable[..., Any]:
    function: Callable[..., Any] = getattr(importlib.import_module(f"chaosext.{module}"), name)
    return function


@pytest.mark.usefixtures("no_side_effects")
@pytest.mark.parametrize(
    "module, name, kwargs, argument", ACTIVITY_CASES, ids=[f"{c[1]}-{c[3]}" for c in ACTIVITY_CASES]
)
def test_an_activity_names_its_bad_argument_before_doing_anything(
    module: str, name: str, kwargs: dict[str, Any], argument: str
) -> None:
    with pytest.raises(ActivityFailed, match=f"'{argument}'"):
        _activity(module, name)(**kwargs)


KUBE = {"target": "kubernetes"}

# activities that touch a namespace, with the least they need besides it
GUARDED: list[tuple[str, str, dict[str, Any]]] = [
    ("instance.actions", "kill_instances", {"service": "payment-service"}),
    ("instance.actions", "stop_instances", {"service": "payment-service"}),
    ("dns.actions", "delay_dns", {"name": "payment.chaosext.test"}),
    ("stress.actions", "stress_cpu", {"service": "payment-service"}),
    ("kafka.actions", "lose_brokers", {}),
    ("config.actions", "change_service_config", {"service": "checkout-api", "settings": {"max_attempts": 2}}),
    ("rollout.actions", "restart_workload", {"name": "payment-service"}),
    ("certificate.actions", "rotate_certificate", {}),
]


@pytest.mark.usefixtures("no_side_effects")
@pytest.mark.parametrize("module, name, kwargs", GUARDED, ids=[g[1] for g in GUARDED])
def test_the_guardrails_refuse_kube_system_before_anything_changes(module: str, name: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ActivityFailed, match="namespace 'kube-system' is refused by the guardrails.*nothing changed"):
        _activity(module, name)(namespace="kube-system", configuration=KUBE, **kwargs)


@pytest.mark.usefixtures("no_side_effects")
def test_allowed_namespaces_and_contexts_reach_the_activities() -> None:
    kill = _activity("instance.actions", "kill_instances")
    with pytest.raises(ActivityFailed, match="not in allowed_namespaces=\\['chaos'\\]"):
        kill("payment-service", namespace="default", configuration={**KUBE, "allowed_namespaces": "chaos"})
    with pytest.raises(ActivityFailed, match="not in allowed_contexts=\\['prod'\\]"):
        kill("payment-service", configuration={**KUBE, "allowed_contexts": "prod"})


# --- the shared check functions -------------------------------------------------------------------


@pytest.mark.parametrize("value, minimum, expected", [(0, 0, 0), ("7", 1, 7), (3, 3, 3)])
def test_whole_accepts(value: Any, minimum: int, expected: int) -> None:
    assert checks.whole("n", value, minimum) == expected


@pytest.mark.parametrize("value", [-1, "x", 1.5, True, None, "1.0"])
def test_whole_refuses_naming_the_argument(value: Any) -> None:
    with pytest.raises(ActivityFailed, match="'partition' must be a whole number >= 0"):
        checks.whole("partition", value)


def test_positive_int_and_choice() -> None:
    assert checks.positive_int("count", 2) == 2
    with pytest.raises(ActivityFailed, match="'count' must be a whole number >= 1, got 0"):
        checks.positive_int("count", 0)
    assert checks.choice("mode", "kill", ("kill", "stop")) == "kill"
    with pytest.raises(ActivityFailed, match="'mode' must be one of kill, stop, got 'pause'"):
        checks.choice("mode", "pause", ("kill", "stop"))


@pytest.mark.parametrize(
    "value, expected",
    [(None, None), ("", None), ([], None), (2, [2]), ("1, 3", [1, 3]), ([0, "2"], [0, 2]), ((1,), [1])],
)
def test_broker_ids_accepts_the_documented_forms(value: Any, expected: list[int] | None) -> None:
    assert checks.broker_ids(value) == expected


@pytest.mark.parametrize("value, message", [("1,1", "lists a broker twice"), ("a", "'brokers' must be"), (-1, "'brokers'")])
def test_broker_ids_refuses(value: Any, message: str) -> None:
    with pytest.raises(ActivityFailed, match=message):
        checks.broker_ids(value)


@pytest.mark.parametrize(
    "value, expected",
    [
        (1_700_000_000, 1_700_000_000_000),  # epoch seconds
        (1_700_000_000_123, 1_700_000_000_123),  # epoch milliseconds
        ("1700000000", 1_700_000_000_000),
        ("2023-11-14T22:13:20Z", 1_700_000_000_000),
        ("2023-11-14T23:13:20+01:00", 1_700_000_000_000),
        ("2023-11-14T22:13:20", 1_700_000_000_000),  # no zone: UTC
    ],
)
def test_timestamp_ms(value: Any, expected: int) -> None:
    assert checks.timestamp_ms(value) == expected


@pytest.mark.parametrize("value", ["yesterday", True, None, [1]])
def test_timestamp_ms_refuses_naming_to_timestamp(value: Any) -> None:
    with pytest.raises(ActivityFailed, match="'to_timestamp' must be an ISO-8601 time or epoch seconds"):
        checks.timestamp_ms(value)


@pytest.mark.parametrize(
    "name, expected",
    [("Payment.Chaosext.Test.", "payment.chaosext.test"), ("*.chaosext.test", "*.chaosext.test"), ("_srv.x", "_srv.x")],
)
def test_check_name_normalises(name: str, expected: str) -> None:
    assert check_name(name) == expected


@pytest.mark.parametrize("name", ["", "  ", None, 5, "bad name", "a..b", "-lead.test", "x" * 64 + ".test", "a.*.test"])
def test_check_name_refuses_naming_the_argument(name: Any) -> None:
    with pytest.raises(ActivityFailed, match="'target_name'"):
        check_name(name, argument="target_name")


def test_check_name_without_globs() -> None:
    with pytest.raises(ActivityFailed, match="'name'"):
        check_name("*.chaosext.test", allow_glob=False)


@pytest.mark.parametrize("tag, ok", [("run-1.a_b", True), ("x" * 64, True), ("", False), ("x" * 65, False), ("a/b", False)])
def test_check_tag(tag: str, ok: bool) -> None:
    if ok:
        assert check_tag(tag) == tag
    else:
        with pytest.raises(ActivityFailed, match="'tag' must be"):
            check_tag(tag)


@pytest.mark.parametrize("q, ok", [(0.99, True), ("0.5", True), (1, True), (0, False), (1.01, False), ("p99", False)])
def test_check_quantile(q: Any, ok: bool) -> None:
    if ok:
        assert check_quantile(q, name="q") == float(q)
    else:
        with pytest.raises(ActivityFailed, match="'q' must be"):
            check_quantile(q, name="q")


@pytest.mark.parametrize("target, ok", [(0.999, True), ("0.9", True), (1, False), (0, False), ("high", False)])
def test_check_target(target: Any, ok: bool) -> None:
    if ok:
        assert check_target(target) == float(target)
    else:
        with pytest.raises(ActivityFailed, match="'target' must be"):
            check_target(target)
