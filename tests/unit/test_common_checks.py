"""chaosext.common.checks: every refusal is an ActivityFailed naming the argument."""

from __future__ import annotations

import pytest
from chaoslib.exceptions import ActivityFailed

from chaosext.common import checks


def test_seconds_positive_or_not_negative() -> None:
    assert checks.seconds("duration", "2.5") == 2.5
    assert checks.seconds("timeout", 0, zero_ok=True) == 0
    with pytest.raises(ActivityFailed, match="'duration' must be a positive number of seconds, got 0"):
        checks.seconds("duration", 0)
    with pytest.raises(ActivityFailed, match="'timeout' must not be negative, got -1"):
        checks.seconds("timeout", -1, zero_ok=True)
    with pytest.raises(ActivityFailed, match="'timeout' must be a number of seconds, got True"):
        checks.seconds("timeout", True)


def test_number_refuses_what_is_not_one() -> None:
    assert checks.number("threshold", "1e3") == 1000.0
    refused = []
    for value in (None, "soon", [1], {}, False):
        with pytest.raises(ActivityFailed, match="'threshold' must be a number, got") as failure:
            checks.number("threshold", value)
        refused.append(str(failure.value).rsplit("got ", 1)[1])
    assert refused == ["None", "'soon'", "[1]", "{}", "False"]


def test_milliseconds_with_and_without_a_maximum() -> None:
    assert checks.milliseconds("latency_ms", 300) == 300
    with pytest.raises(ActivityFailed, match="'latency_ms' must not be negative"):
        checks.milliseconds("latency_ms", -1)
    with pytest.raises(ActivityFailed, match="'delay_ms' must be between 0 and 60000 ms, got 70000"):
        checks.milliseconds("delay_ms", 70000, maximum=60000)


def test_in_range_excludes_the_low_end_and_includes_the_high_end() -> None:
    assert checks.in_range("rate", 20000, 0, 20000) == 20000
    for bad in (0, 20001):
        with pytest.raises(ActivityFailed, match="'rate' must be greater than 0 and at most 20000"):
            checks.in_range("rate", bad, 0, 20000)


def test_fractions_for_quantiles_and_targets() -> None:
    assert checks.fraction("quantile", 1) == 1.0
    assert checks.fraction("target", "0.999", one_ok=False) == 0.999
    for bad, one_ok in ((0, True), (1.5, True), (1, False)):
        with pytest.raises(ActivityFailed, match="'q' must be between 0 \\(excluded\\) and 1"):
            checks.fraction("q", bad, one_ok=one_ok)
    with pytest.raises(ActivityFailed, match="'q' must be a number between 0 and 1"):
        checks.fraction("q", "high")


def test_names_and_choices() -> None:
    assert checks.non_empty("group", "g") == "g"
    for bad in ("", None, 3):
        with pytest.raises(ActivityFailed, match="'group' must be a non-empty string"):
            checks.non_empty("group", bad)
    assert checks.choice("kind", "deployment", ["deployment", "statefulset"]) == "deployment"
    with pytest.raises(ActivityFailed, match="'kind' must be one of deployment, statefulset, got 'job'"):
        checks.choice("kind", "job", ["deployment", "statefulset"])
    assert checks.positive_int("samples", "3") == 3
    with pytest.raises(ActivityFailed, match="'samples' must be a whole number >= 1, got 0"):
        checks.positive_int("samples", 0)


def test_whole_numbers_in_a_range() -> None:
    assert checks.whole("port", "8443", 1, 65535) == 8443
    for bad in (0, 65536, "http", 80.0):
        with pytest.raises(ActivityFailed, match="'port' must be a whole number from 1 to 65535"):
            checks.whole("port", bad, 1, 65535)
