"""Server-side SLO probes on the stack's real Prometheus, moved by real faults under real load."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any, cast

import pytest
from chaoslib.exceptions import ActivityFailed
from stack_support import Stack
from support import wait_until

from chaosext.dependency import actions as dependency
from chaosext.slo import budget, probes, queries
from chaosext.slo.prom import PrometheusClient, prometheus_url, scalar
from chaosext.traffic import actions as traffic
from chaosext.traffic.install import install_traffic_tools

pytestmark = pytest.mark.stack


@pytest.fixture
def load(stack: Stack) -> Iterator[str]:
    """20 checkouts/s in the background for the test's length."""
    install_traffic_tools(lambda line: print(line, file=sys.stderr))
    record = traffic.start_load(rate=20, duration=240, scenario="checkout")
    try:
        yield record["run_id"]
    finally:
        dependency.remove_dependency_faults()
        traffic.stop_load()


def test_latency_quantiles_follow_an_injected_dependency_latency(stack: Stack, load: str) -> None:
    wait_until("a fast steady state", lambda: 0 < probes.latency_quantile_ms(0.5, window="5s") < 200, timeout=30)
    assert probes.latency_below(1000, window="5s") is True
    # each checkout makes two trips through the payment path's latency (TLS handshake, answer)
    dependency.add_latency("payment", latency_ms=250, duration=60)
    p50 = wait_until(
        "p50 to show the latency",
        lambda: (v := probes.latency_quantile_ms(0.5, window="5s")) > 400 and v,
        timeout=30,
    )
    assert p50 < 1000
    p95 = probes.latency_quantile_ms(0.95, window="5s")
    p99 = probes.latency_quantile_ms(0.99, window="5s")
    assert p50 <= p95 <= p99
    assert probes.latency_below(400, window="5s") is False
    dependency.remove_dependency_faults()
    wait_until("p99 to recover after the rollback", lambda: probes.latency_quantile_ms(0.99, window="5s") < 300, timeout=30)


def test_error_ratios_breaker_and_budget_follow_a_dependency_outage(stack: Stack, load: str) -> None:
    # a breaker leaves the open state only on a call: the load makes those calls
    wait_until("closed breakers", lambda: probes.circuit_breaker_closed(), timeout=45)
    assert probes.error_ratio(window="10s") < 0.01
    dependency.take_dependency_down("payment", duration=60)
    wait_until("5xx ratio to rise", lambda: probes.error_ratio(window="5s") > 0.5, timeout=30)
    assert probes.error_ratio_below(0.02, window="5s") is False
    # the business ratio comes from another counter, scraped on its own: it crosses 0.5 a scrape later
    wait_until("business error ratio to rise", lambda: probes.error_ratio(window="5s", kind="business") > 0.5, timeout=15)
    wait_until("dependency errors", lambda: probes.dependency_error_ratio(window="5s") > 0.5, timeout=30)
    assert probes.dependency_error_ratio_below(0.05, window="5s") is False
    wait_until("an open breaker", lambda: probes.circuit_breaker_state() == 1, timeout=30)
    assert probes.circuit_breaker_closed() is False
    # the burn is the window's error ratio over the budget, scaled to the period
    burn = probes.error_budget_burn(target=0.999, window="10s", period="1h")
    prom = PrometheusClient(prometheus_url(None))
    ratio = scalar(prom.query(queries.error_ratio("checkout-api", None, "10s", func="increase")))
    assert ratio is not None and ratio > 0
    assert burn == pytest.approx(budget.budget_burn(ratio, 0.999, 10, 3600), rel=0.25)
    assert probes.error_budget_burn_below(0.01, window="10s", period="1h") is False
    dependency.remove_dependency_faults()
    wait_until("breakers to close after the rollback", lambda: probes.circuit_breaker_closed(), timeout=45)
    wait_until("5xx ratio to recover", lambda: probes.error_ratio(window="5s") < 0.01, timeout=30)


def test_consumer_lag_probes_return_numbers(stack: Stack, load: str) -> None:
    wait_until(
        "checkout traffic in Prometheus",
        lambda: probes.query_value('sum(rate(http_requests_total{job="checkout-api"}[5s]))') > 5,
        timeout=30,
    )
    assert probes.consumer_lag_messages() >= 0
    lag = probes.consumer_lag_seconds()
    assert 0 <= lag < 60
    assert probes.consumer_lag_below(600) is True


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda: probes.latency_quantile_ms(quantile=1.5), "quantile"),
        (lambda: probes.latency_quantile_ms(window="a while"), "window"),
        (lambda: probes.error_ratio(kind="slow"), "kind"),
        (lambda: probes.error_ratio(service='checkout"api'), "service"),
        (lambda: probes.error_budget_burn(target=99.9), "target"),
        (lambda: probes.error_budget_burn(period="forever"), "period"),
        (lambda: probes.latency_below(threshold_ms=cast(Any, "fast")), "threshold_ms"),
        (lambda: probes.query_value("sum(("), "Prometheus rejected"),
        (lambda: probes.query_value('absent_metric_xyz{job="none"}'), "no data"),
        (lambda: probes.circuit_breaker_state(dependency="nothing"), "no data"),
    ],
)
def test_bad_arguments_give_a_clear_error(stack: Stack, call: object, needle: str) -> None:
    with pytest.raises(ActivityFailed, match=needle):
        call()  # type: ignore[operator]


def test_unreachable_prometheus_is_a_clear_error(stack: Stack) -> None:
    with pytest.raises(ActivityFailed, match="unreachable"):
        probes.error_ratio(configuration={"prometheus_url": "http://127.0.0.1:1"})
    with pytest.raises(ActivityFailed, match="prometheus_url"):
        probes.error_ratio(configuration={"target": "kubernetes"})
