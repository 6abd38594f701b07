"""The dependency error ratio's PromQL: a request cancelled because its hedge answered first is
neither a failure nor a call (its hedge is the call that counts)."""

from __future__ import annotations

from chaosext.slo import queries


def test_hedge_losers_are_left_out_of_both_sides() -> None:
    query = queries.dependency_error_ratio("payment", "checkout-api", "30s")
    bad, _, every = query.partition(") / ")
    assert 'outcome!~"ok|client_error|hedge_lost"' in bad
    assert 'outcome!="hedge_lost"' in every
    assert 'dependency="payment"' in bad and 'dependency="payment"' in every
