"""The fault engine: activate records before applying, undo is idempotent and runs in the fault's
environment, a failed apply leaves nothing, signals wait for a whole step."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from chaoslib.exceptions import ActivityFailed
from markers_support import make_marker
from recording_undo import calls
from support import wait_until

from chaosext.faults import engine, markers


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "undo.jsonl"


def test_activate_records_the_marker_before_applying_and_returns_what_changed(log: Path) -> None:
    marker = make_marker(log)
    seen_during_apply: list[bool] = []

    def apply() -> dict[str, Any]:
        seen_during_apply.append(markers.load(marker.id) is not None)
        return {"flipped": True}

    result = engine.activate(marker, apply)

    assert seen_during_apply == [True], "the marker must be on disk before the change is made"
    assert result["id"] == marker.id and result["changed"] == {"flipped": True}
    assert result["undo"] == "recording_undo:record" and result["description"] == marker.description
    assert markers.load(marker.id) == marker
    assert calls(log) == []


def test_a_failing_apply_is_undone_at_once_and_its_error_raised(log: Path) -> None:
    marker = make_marker(log, "half-made")

    def apply() -> dict[str, Any]:
        raise ActivityFailed("the target refused the change")

    with pytest.raises(ActivityFailed, match="refused the change"):
        engine.activate(marker, apply)

    assert markers.load(marker.id) is None
    assert [c["label"] for c in calls(log)] == ["half-made"]


def test_an_apply_that_changed_nothing_drops_the_marker_without_undo_and_raises_its_error(log: Path) -> None:
    marker = make_marker(log, "refused")

    def apply() -> dict[str, Any]:
        raise engine.NothingChanged(ActivityFailed("'proxy' 'nope' does not exist"))

    with pytest.raises(ActivityFailed, match="'proxy' 'nope' does not exist") as raised:
        engine.activate(marker, apply)

    assert type(raised.value) is ActivityFailed  # the user's error itself, not the wrapper
    assert markers.load(marker.id) is None and markers.list_markers() == []
    assert calls(log) == [], "nothing was changed: there is nothing to undo"


def test_undo_calls_the_undo_function_once_and_is_idempotent(log: Path) -> None:
    marker = make_marker(log, "once")
    markers.save(marker)

    first = engine.undo(marker.id)
    second = engine.undo(marker.id)

    assert first is not None and first["id"] == marker.id and first["removed_at"] >= marker.started_at
    assert second is None
    assert [c["label"] for c in calls(log)] == ["once"]
    assert markers.load(marker.id) is None


def test_undo_of_an_unknown_fault_is_a_no_op() -> None:
    assert engine.undo("unit-000000000000") is None


def test_a_failing_undo_keeps_the_marker_for_a_later_attempt(log: Path, tmp_path: Path) -> None:
    flag = tmp_path / "fail-flag"
    flag.touch()
    marker = make_marker(log, "retry", undo="recording_undo:fail_once", flag=str(flag))
    markers.save(marker)

    with pytest.raises(RuntimeError, match="not ready"):
        engine.undo(marker.id)
    assert markers.load(marker.id) is not None, "a fault whose undo failed must stay recorded"

    assert engine.undo(marker.id) is not None
    assert markers.load(marker.id) is None
    assert [c["label"] for c in calls(log)] == ["retry"]


def test_undo_runs_in_the_environment_the_fault_was_made_in(log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAOSEXT_UNIT_PROBE", "at-apply")
    marker = make_marker(log)
    assert marker.env["CHAOSEXT_UNIT_PROBE"] == "at-apply"
    markers.save(marker)
    monkeypatch.setenv("CHAOSEXT_UNIT_PROBE", "later")

    engine.undo(marker.id)

    assert calls(log)[0]["probe_env"] == "at-apply"
    assert os.environ["CHAOSEXT_UNIT_PROBE"] == "later", "the caller's environment is restored"


def test_undo_matching_filters_by_family_kind_and_predicate(log: Path) -> None:
    made = {
        "a": make_marker(log, "a", family="alpha", kind="latency"),
        "b": make_marker(log, "b", family="alpha", kind="down"),
        "c": make_marker(log, "c", family="beta", kind="latency"),
        "d": make_marker(log, "d", family="alpha", kind="latency"),
    }
    for marker in made.values():
        markers.save(marker)

    done = engine.undo_matching("alpha", "latency", where=lambda m: m.undo_args["label"] != "d")
    assert [r["id"] for r in done] == [made["a"].id]

    done = engine.undo_matching("alpha")
    assert sorted(r["undo_args"]["label"] for r in done) == ["b", "d"]
    assert [m.family for m in markers.list_markers()] == ["beta"]
    assert sorted(c["label"] for c in calls(log)) == ["a", "b", "d"]


@pytest.mark.parametrize("good, expected", [(5, 5.0), ("2.5", 2.5), (0.1, 0.1)])
def test_check_duration_accepts_positive_seconds(good: Any, expected: float) -> None:
    assert engine.check_duration(good) == expected


@pytest.mark.parametrize("bad", [0, -1, "soon", None, [3]])
def test_check_duration_names_the_argument(bad: Any) -> None:
    with pytest.raises(ActivityFailed, match="'hold_for'"):
        engine.check_duration(bad, name="hold_for")


@pytest.mark.usefixtures("signal_handlers")
@pytest.mark.parametrize("sig, raised", [(signal.SIGINT, KeyboardInterrupt), (signal.SIGTERM, SystemExit)])
def test_a_signal_during_a_step_is_delivered_after_it(sig: signal.Signals, raised: type[BaseException]) -> None:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    steps: list[str] = []
    with pytest.raises(raised) as caught, engine._shielded():
        steps.append("first half")
        os.kill(os.getpid(), sig)
        steps.append("second half")
    assert steps == ["first half", "second half"], "the step must finish before the signal acts"
    if isinstance(caught.value, SystemExit):
        assert caught.value.code == 128 + signal.SIGTERM
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler, "the handler is restored"


@pytest.mark.usefixtures("signal_handlers")
def test_an_ignored_signal_stays_ignored_inside_a_step() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with engine._shielded():
        os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN


@pytest.mark.usefixtures("signal_handlers")
def test_sigterm_during_apply_waits_for_the_whole_change_then_undoes_it(log: Path) -> None:
    """The change is never half made; the run is interrupted right after it and the fault is
    undone before the interrupt propagates (no reaper was started yet, so nothing else would)."""
    marker = make_marker(log, "whole")
    applied: list[str] = []

    def apply() -> dict[str, Any]:
        os.kill(os.getpid(), signal.SIGTERM)
        applied.append("done")
        return {}

    with pytest.raises(SystemExit):
        engine.activate(marker, apply)

    assert applied == ["done"]
    assert markers.load(marker.id) is None
    assert [c["label"] for c in calls(log)] == ["whole"]


def test_undo_matching_filters_on_the_scope_and_ignores_unset_values(log: Path) -> None:
    made = {
        "a": make_marker(log, "a", family="alpha"),
        "b": make_marker(log, "b", family="alpha"),
        "c": make_marker(log, "c", family="alpha"),
    }
    made["a"].scope = {"service": "payment-service", "namespace": "shop"}
    made["b"].scope = {"service": "checkout-api", "namespace": "shop"}
    for marker in made.values():
        markers.save(marker)

    assert engine.undo_matching("alpha", scope={"service": "nothing-here"}) == []
    done = engine.undo_matching("alpha", scope={"service": "payment-service", "namespace": None})
    assert [r["id"] for r in done] == [made["a"].id] and done[0]["scope"]["namespace"] == "shop"
    done = engine.undo_matching("alpha", scope={"service": None})
    assert sorted(r["undo_args"]["label"] for r in done) == ["b", "c"]


def test_record_saves_what_apply_learnt_for_undo_at_once(log: Path) -> None:
    marker = make_marker(log, "scaled")
    seen: list[dict[str, Any]] = []

    def apply() -> dict[str, Any]:
        engine.record(marker, replicas=3)
        stored = markers.load(marker.id)
        assert stored is not None
        seen.append(stored.undo_args)
        return {}

    engine.activate(marker, apply)
    assert seen == [{"log": str(log), "label": "scaled", "replicas": 3}], "on disk before apply returned"
    assert markers.load(marker.id).undo_args["replicas"] == 3  # type: ignore[union-attr]


def test_deliberate_waits_are_added_up_apart_from_the_rest(log: Path, signal_handlers: None) -> None:
    before = engine.waited_s()

    def apply() -> dict[str, Any]:
        with engine.unshielded():
            wait_until("a short deliberate wait", lambda: engine.waited_s() >= 0 and time.perf_counter() > end)
        return {}

    end = time.perf_counter() + 0.2
    engine.activate(make_marker(log, "waits"), apply)
    with engine.deliberate_wait():
        pass
    assert 0.2 <= engine.waited_s() - before < 2
