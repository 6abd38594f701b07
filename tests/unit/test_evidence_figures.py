"""The figures the experiment log prints: offsets from the fault's start and the peak of a series."""

from __future__ import annotations

import pytest

from chaosext.evidence.figures import fmt_offset, worst


@pytest.mark.parametrize(("seconds", "text"), [
    (-0.05, "T+0 s"),  # a point labelled at the bucket edge just before the fault started
    (-0.5, "T+0 s"),
    (0.4, "T+0 s"),
    (12.4, "T+12 s"),
    (-3.2, "T-3 s"),
])
def test_an_offset_that_rounds_to_zero_reads_plus_zero(seconds: float, text: str) -> None:
    assert fmt_offset(seconds) == text


def test_the_peak_is_placed_relative_to_the_fault_and_its_time_over_threshold_counted() -> None:
    points = [(100.0, 10.0), (100.5, 805.0), (101.0, 803.0), (101.5, 12.0)]
    peak = worst(points, origin=100.55, threshold=500.0)
    assert peak is not None
    assert (peak.value, fmt_offset(peak.offset_s), peak.seconds_over) == (805.0, "T+0 s", 1.0)
    assert worst([], origin=0.0, threshold=None) is None
