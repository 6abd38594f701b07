"""Error-budget arithmetic.

For an SLO ``target`` (e.g. 0.999 = 99.9 % good events over a ``period``, e.g. 30 days) the error
budget is the ``1 - target`` share of events allowed to fail. Over a ``window`` with error ratio
``r`` (bad events / all events):

* burn rate   = r / (1 - target)                 (1.0 = spending the budget exactly on schedule)
* budget burn = r / (1 - target) * window / period
  = the fraction of the whole period's budget the window consumed, assuming the window's traffic
  is the period's average traffic (0.01 = 1 % of the month's budget gone).
"""

from __future__ import annotations

from chaoslib.exceptions import ActivityFailed

from chaosext.common import checks

__all__ = ["budget_burn", "burn_rate", "check_target"]


def check_target(target: float) -> float:
    return checks.fraction("target", target, one_ok=False, example="0.999")


def burn_rate(error_ratio: float, target: float) -> float:
    return error_ratio / (1 - check_target(target))


def budget_burn(error_ratio: float, target: float, window_s: float, period_s: float) -> float:
    if period_s <= 0 or window_s <= 0:
        raise ActivityFailed(f"'window' and 'period' must be positive, got {window_s!r} and {period_s!r}")
    return burn_rate(error_ratio, target) * window_s / period_s
