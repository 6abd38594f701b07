"""The arithmetic behind the probes and the abort criteria (no stack needed)."""

from __future__ import annotations

import pytest
from chaoslib.exceptions import ActivityFailed, InvalidActivity

from chaosext.controls.criteria import BreachTracker, parse_criteria
from chaosext.slo import budget, queries
from chaosext.traffic import stats
from chaosext.traffic.vegeta import Result, _parse


def _r(ts: float, status: int = 200, latency_ms: float = 10.0, error: str = "") -> Result:
    return Result(ts=ts, status=status, latency_ms=latency_ms, error=error, seq=int(ts))


def test_quantile_interpolates_like_numpy() -> None:
    values = [float(v) for v in range(1, 101)]
    assert stats.quantile(values, 0.5) == pytest.approx(50.5)
    assert stats.quantile(values, 0.99) == pytest.approx(99.01)
    assert stats.quantile([], 0.99) is None


def test_outcomes_tell_timeouts_refusals_and_resets_apart() -> None:
    cases = {
        "timeout": _r(0, 0, error='Post "http://x": context deadline exceeded (Client.Timeout exceeded)'),
        "refused": _r(0, 0, error="dial tcp 127.0.0.1:1: connect: connection refused"),
        "reset": _r(0, 0, error="read tcp: connection reset by peer"),
        "server_error": _r(0, 503),
        "client_error": _r(0, 402),
        "ok": _r(0, 201),
    }
    assert {name: stats.outcome(r) for name, r in cases.items()} == {n: n for n in cases}
    assert stats.error_ratio(list(cases.values())) == pytest.approx(4 / 6)
    assert stats.error_ratio(list(cases.values()), include_4xx=True) == pytest.approx(5 / 6)


def test_summary_offered_rate_is_sends_per_second() -> None:
    results = [_r(1000 + i / 200) for i in range(201)]  # 200/s for 1 s
    summary = stats.summarize(results)
    assert summary["offered_rate"] == pytest.approx(200, rel=1e-6)
    assert summary["requests"] == 201


def test_series_uses_a_trailing_window() -> None:
    results = [_r(100 + i * 0.1, 200 if i < 50 else 503, latency_ms=5 if i < 50 else 900) for i in range(100)]
    series = stats.series(results, 100, 110, step=1, span=2)
    assert series["error_ratio"][2][1] == 0.0 and series["error_ratio"][-1][1] == 1.0
    assert series["p99_ms"][-1][1] == pytest.approx(900)


def test_vegeta_csv_rows_are_parsed_and_a_cut_row_skipped() -> None:
    text = (
        "1795751572910414510,200,5717339,0,0,,,,0,GET,http://h/api/catalog,AA==\n"
        "1795751572929607666,0,1000000000,0,0,connection refused,,,1,GET,http://h/api/catalog,\n"
        "17957515729"
    )
    rows = _parse(text)
    assert [(r.status, round(r.latency_ms, 3), r.seq) for r in rows] == [(200, 5.717, 0), (0, 1000.0, 1)]


def test_budget_burn_formula() -> None:
    # 0.5 % errors against a 99.9 % SLO: burn rate 5; over 1 h of a 30-day period: 5 / 720 of the budget
    assert budget.burn_rate(0.005, 0.999) == pytest.approx(5)
    assert budget.budget_burn(0.005, 0.999, 3600, 30 * 86400) == pytest.approx(5 / 720)
    with pytest.raises(ActivityFailed, match="target"):
        budget.check_target(1.5)


def test_promql_builders_validate_their_arguments() -> None:
    q = queries.latency_quantile_ms(0.99, "checkout-api", "/api/checkout", "30s")
    assert 'route="/api/checkout"' in q and "[30s]" in q and q.startswith("histogram_quantile(0.99")
    assert 'route!~"/metrics|/healthz|/readyz"' in queries.error_ratio("checkout-api", None, 60)
    assert queries.seconds("5m") == 300 and queries.seconds(90) == 90
    for call, needle in [
        (lambda: queries.latency_quantile_ms(2, "s", None, "30s"), "quantile"),
        (lambda: queries.error_ratio("s", None, "soon"), "window"),
        (lambda: queries.error_ratio("s", None, "30s", kind="4xx"), "kind"),
        (lambda: queries.selector('a"b'), "service"),
        (lambda: queries.dependency_error_ratio("", "s", "30s"), "dependency"),
    ]:
        with pytest.raises(ActivityFailed, match=needle):
            call()


def test_criteria_are_validated_with_the_bad_key_named() -> None:
    good = [
        {
            "name": "p99",
            "probe": "latency_quantile_ms",
            "operator": ">",
            "threshold": 2000,
            "for_seconds": 60,
        },
        {"name": "lag", "query": "max(kafka_consumer_lag_seconds)", "threshold": 600, "for_seconds": 0},
    ]
    parsed = parse_criteria(good)
    assert [c.name for c in parsed] == ["p99", "lag"] and parsed[1].operator == ">"
    bad = [
        ({"name": "x", "threshold": 1, "for_seconds": 1}, "exactly one of 'query'"),
        ({"name": "x", "query": "up", "threshold": "high", "for_seconds": 1}, "'threshold'"),
        ({"name": "x", "query": "up", "threshold": 1, "for_seconds": -1}, "'for_seconds'"),
        ({"name": "x", "query": "up", "threshold": 1, "for_seconds": 1, "operator": "=>"}, "'operator'"),
        ({"name": "x", "probe": "no_such_probe", "threshold": 1, "for_seconds": 1}, "'probe'"),
        ({"name": "x", "query": "up", "threshold": 1, "for_seconds": 1, "for": 3}, "unknown key"),
    ]
    for raw, needle in bad:
        with pytest.raises(InvalidActivity, match=needle):
            parse_criteria([raw])
    with pytest.raises(InvalidActivity, match="unique"):
        parse_criteria([good[0], good[0]])
    assert parse_criteria([{**good[0], "threshold": "${p99_ms}"}], lenient=True) == []


def test_breach_tracker_fires_only_after_the_condition_held_for_its_duration() -> None:
    (criterion,) = parse_criteria(
        [{"name": "p99", "query": "q", "operator": ">", "threshold": 100, "for_seconds": 5}]
    )
    tracker = BreachTracker(criterion)
    assert tracker.update(150, 0) is False and tracker.since == 0
    assert tracker.update(150, 4) is False
    assert tracker.update(50, 4.5) is False and tracker.since is None  # dropped below: starts over
    assert tracker.update(150, 6) is False
    tracker.failed("prometheus hiccup", 8)  # an error neither starts nor ends a breach
    assert tracker.since == 6
    assert tracker.update(None, 9) is False and tracker.since is None  # no data: not breaching
    assert tracker.update(150, 10) is False
    assert tracker.update(150, 15) is True


def test_fractional_rates_keep_even_spacing_in_vegeta_terms() -> None:
    from chaosext.traffic.vegeta import rate_flag

    assert rate_flag(200) == "200/1s"
    assert rate_flag(12.5) == "12500/1000s"


def test_abort_control_validation_names_the_bad_argument() -> None:
    from chaosext.controls.abort import validate_control

    good = [{"name": "x", "query": "up", "threshold": 1, "for_seconds": 1}]
    validate_control({"provider": {"arguments": {"criteria": good, "interval_s": 1}}})
    with pytest.raises(InvalidActivity, match="interval_s"):
        validate_control({"provider": {"arguments": {"criteria": good, "interval_s": 0}}})
    with pytest.raises(InvalidActivity, match="criteria"):
        validate_control({"provider": {"arguments": {}}})
