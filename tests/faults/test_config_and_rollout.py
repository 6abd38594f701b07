"""Config reload and rolling updates on the real local stack, under traffic."""

from __future__ import annotations

from typing import Any

import pytest
from chaoslib.exceptions import ActivityFailed
from faults.test_instance_faults import CheckoutStream
from stack_support import Stack
from support import wait_until

from chaosext.config import actions as config_actions
from chaosext.config import probes as config_probes
from chaosext.faults import markers
from chaosext.rollout import actions as rollout_actions
from chaosext.rollout import probes as rollout_probes

pytestmark = pytest.mark.stack
LOCAL: dict[str, Any] = {"target": "local"}


def _attempt_timeouts() -> list[Any]:
    return [r.get("config", {}).get("values", {}).get("attempt_timeout_s")
            for r in config_probes.service_config("checkout-api", configuration=LOCAL)]


def test_config_reload_mid_traffic_applies_and_restores(stack: Stack) -> None:
    before = _attempt_timeouts()
    assert len(before) == 2 and None not in before, before
    with CheckoutStream(stack.url("checkout")) as stream:
        record = config_actions.change_service_config(
            "checkout-api", {"attempt_timeout_s": 0.6}, duration=60, configuration=LOCAL)
        wait_until("both replicas to reload", lambda: _attempt_timeouts() == [0.6, 0.6], timeout=10)
        config_actions.restore_service_config("checkout-api", configuration=LOCAL)
        wait_until("both replicas to restore", lambda: _attempt_timeouts() == before, timeout=10)
        wait_until("20 checkouts around the reloads", lambda: len(stream.codes) >= 20, timeout=30)
    assert not stream.failures, f"{len(stream.failures)} of {len(stream.codes)} checkouts failed"
    assert markers.load(record["id"]) is None


def test_config_bad_arguments_change_nothing(stack: Stack) -> None:
    before = _attempt_timeouts()
    with pytest.raises(ActivityFailed, match="service"):
        config_actions.change_service_config("nope", {"x": 1}, configuration=LOCAL)
    with pytest.raises(ActivityFailed, match="duration"):
        config_actions.change_service_config("checkout-api", {"attempt_timeout_s": 1}, duration=-1,
                                             configuration=LOCAL)
    with pytest.raises(ActivityFailed, match="settings"):
        config_actions.change_service_config("checkout-api", {}, configuration=LOCAL)
    assert _attempt_timeouts() == before


def test_rolling_restart_under_traffic_completes_without_errors(stack: Stack) -> None:
    with CheckoutStream(stack.url("checkout")) as stream:
        result = rollout_actions.restart_workload("checkout-api", timeout=120, configuration=LOCAL)
    assert result["rollout"]["complete"], result
    assert [s["replica"] for s in result["replicas"]] == ["checkout-api-1", "checkout-api-2"]
    assert len(stream.codes) >= 10
    assert not stream.failures, f"{len(stream.failures)} of {len(stream.codes)} checkouts failed"


def test_rollout_with_failing_readiness_stalls_and_old_replicas_serve(stack: Stack) -> None:
    with CheckoutStream(stack.url("checkout")) as stream:
        record = rollout_actions.start_failing_rollout("payment-service", duration=120, settle_timeout=6,
                                                       configuration=LOCAL)
        state = record["rollout"]
        assert state["stalled"] and not state["complete"], state
        assert state["ready_replicas"] == 1 and state["updated_replicas"] == 1, state
        wait_until("20 checkouts during the stalled rollout", lambda: len(stream.codes) >= 20, timeout=30)
        undone = rollout_actions.undo_failing_rollout("payment-service", configuration=LOCAL)
        assert [u["id"] for u in undone] == [record["id"]]
    assert not stream.failures, f"{len(stream.failures)} of {len(stream.codes)} checkouts failed"
    wait_until(
        "the rollout to be complete after undo",
        lambda: rollout_probes.rollout_complete("payment-service", configuration=LOCAL),
        timeout=30,
    )
