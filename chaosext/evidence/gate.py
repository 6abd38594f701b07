"""The SLO gate: is a chaos run's journal a pass?

A journal passes only when the run completed, the steady state was checked and held before
and after the method, no method or rollback activity failed (a process activity that exits
non-zero counts as failed, chaoslib only warns), no during-method check missed, every declared
rollback was played, nothing aborted the run and the journal itself does not say it deviated.
Every breach is listed, in the order it happened; the first one is the headline.

A run whose activity could not do its job because the experiment's own tooling failed (a tool
not installed, a control endpoint such as Toxiproxy or Prometheus unreachable: chaosext raises
:class:`chaosext.errors.ToolingFailure` for those; a process activity whose command was not found)
is not judged at all: its verdict is ERROR, never a breach of the system under test.

Method probes without a ``tolerance`` record a figure but state no claim the gate could check;
each is listed as a note ("not judged") without changing the verdict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaosext.evidence.journal import (
    Journal,
    JournalError,
    activity_name,
    evidence,
    experiment_title,
    load_journal,
    parse_time,
    started_at,
)
from chaosext.evidence.redact import Redactor

__all__ = ["Verdict", "evaluate", "exit_code", "judge", "not_judgeable", "untolerated_probes"]

_MAX_DETAIL = 160
_WRAPPER = re.compile(r"^(?:chaoslib\.exceptions\.)?ActivityFailed: ")
# the class chaosext raises when its tooling failed, as Chaos Toolkit records it in the journal
_TOOLING = re.compile(r"\bchaosext\.errors\.(?:ToolingFailure|ToolMissing|ToolUnreachable): ")
# a shell's "command not found" / "not executable" exit codes
_COMMAND_MISSING = {126: "its command is not executable", 127: "its command was not found"}


@dataclass(frozen=True)
class Verdict:
    path: Path
    title: str
    reasons: tuple[str, ...] = ()
    error: str | None = None  # the run could not be judged (bad journal, tooling failure)
    duration_s: float = 0.0
    error_type: str = "JournalError"  # JUnit <error type>: JournalError or ToolingFailure
    notes: tuple[str, ...] = ()  # what the run recorded but the gate cannot judge (verdict unchanged)

    @property
    def passed(self) -> bool:
        return self.error is None and not self.reasons

    @property
    def label(self) -> str:
        if self.error is not None:
            return "ERROR"
        return "PASS" if self.passed else "FAIL"

    @property
    def first_reason(self) -> str:
        if self.error is not None:
            return self.error
        return self.reasons[0] if self.reasons else "steady state held; no failed activity"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"


def _exception(run: dict[str, Any]) -> str:
    exc = run.get("exception")
    if isinstance(exc, list) and exc:
        exc = exc[-1]
    if not exc:
        return "no error recorded"
    return _short(_WRAPPER.sub("", str(exc)))


def _process_exit(run: dict[str, Any]) -> int | None:
    """The non-zero exit code of a process activity run without a tolerance, else None."""
    activity = run.get("activity")
    output = run.get("output")
    if not isinstance(activity, dict) or not isinstance(output, dict) or "tolerance" in activity:
        return None
    provider = activity.get("provider")
    if not isinstance(provider, dict) or provider.get("type") != "process":
        return None
    code = output.get("status")
    return code if isinstance(code, int) and not isinstance(code, bool) and code != 0 else None


def _tooling_failure(run: Any) -> str | None:
    """Why an activity could not do its job because of the experiment's tooling, else None."""
    if not isinstance(run, dict):
        return None
    if run.get("status") == "failed":
        exc = run.get("exception")
        text = "".join(str(line) for line in exc) if isinstance(exc, list) else str(exc or "")
        if _TOOLING.search(text):
            return _exception(run)
        return None
    activity = run.get("activity")
    output = run.get("output")
    provider = activity.get("provider") if isinstance(activity, dict) else None
    if isinstance(provider, dict) and provider.get("type") == "process" and isinstance(output, dict):
        code = output.get("status")
        if code in _COMMAND_MISSING:
            return f"{_COMMAND_MISSING[code]} (exit {code}): {provider.get('path')!r}"
    return None


def _runs_of(journal: Journal) -> list[tuple[str, Any]]:
    """Every activity run of the journal with the phase it ran in."""
    states = journal.get("steady_states") or {}
    found: list[tuple[str, Any]] = []
    for phase in ("before", "after"):
        state = states.get(phase)
        if isinstance(state, dict):
            found += [(f"steady-state ({phase})", p) for p in _list(state.get("probes"))]
    for state in _list(states.get("during")):
        if isinstance(state, dict):
            found += [("steady-state (during)", p) for p in _list(state.get("probes"))]
    found += [("method", r) for r in _list(journal.get("run"))]
    found += [("rollback", r) for r in _list(journal.get("rollbacks"))]
    return found


def not_judgeable(journal: Journal) -> list[str]:
    """Activities that could not run because the experiment's tooling failed: such a run is an
    ERROR (not judged), whatever else it recorded; an empty list means the run can be judged."""
    errors: list[str] = []
    for phase, run in _runs_of(journal):
        if (why := _tooling_failure(run)) is not None:
            activity = run.get("activity")
            kind = activity.get("type", "activity") if isinstance(activity, dict) else "activity"
            errors.append(f"{phase} {kind} '{activity_name(run)}' could not run: {why}")
    return errors


def untolerated_probes(journal: Journal) -> list[str]:
    """Method probes that declare no ``tolerance``: their figure is recorded, their claim unjudged."""
    experiment = journal.get("experiment") or {}
    return [
        f"method probe '{activity_name(activity)}' has no tolerance: not judged"
        for activity in _list(experiment.get("method"))
        if isinstance(activity, dict) and activity.get("type") == "probe" and "tolerance" not in activity
    ]


def _when(value: Any, journal: Journal) -> str:
    """A recorded time as UTC ISO 8601 plus its offset from the run's start (T+s)."""
    moment = parse_time(value)
    if moment is None:
        return str(value)
    text = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    start = started_at(journal)
    if start is not None:
        text += f" (T+{(moment - start).total_seconds():.0f} s)"
    return text


def _describe_state(state: dict[str, Any]) -> str:
    """Which probe broke a steady-state check, and how."""
    for probe in state.get("probes") or []:
        if not isinstance(probe, dict) or probe.get("tolerance_met", True) is not False:
            continue
        name = activity_name(probe)
        if probe.get("status") == "failed":
            return f"probe '{name}' failed: {_exception(probe)}"
        output = probe.get("output")
        if isinstance(output, dict) and "status" in output and set(output) <= {"status", "stdout", "stderr"}:
            got = f"exit code {output['status']}"
        else:
            got = _short(repr(output))
        activity = probe.get("activity")
        tolerance = activity.get("tolerance") if isinstance(activity, dict) else None
        return f"probe '{name}' out of tolerance (got {got}, tolerance {_short(repr(tolerance))})"
    return "no probe recorded as failing"


def _activity_breaches(runs: list[Any], phase: str) -> list[str]:
    reasons: list[str] = []
    for run in runs:
        if not isinstance(run, dict):
            continue
        activity = run.get("activity")
        kind = activity.get("type", "activity") if isinstance(activity, dict) else "activity"
        label = f"{phase} {kind} '{activity_name(run)}'"
        status = run.get("status")
        if status == "failed":
            reasons.append(f"{label} failed: {_exception(run)}")
        elif status is None:
            reasons.append(f"{label} did not finish")
        elif (code := _process_exit(run)) is not None:
            reasons.append(f"{label} exited with code {code}")
    return reasons


def _tolerance_misses(runs: list[Any]) -> list[str]:
    """Method probes that declare a ``tolerance`` are judged here, with chaoslib's own rules:
    chaoslib only applies tolerances in the steady-state hypothesis, so a during-fault check such
    as "client p99 under 5 s while payment is slow" would otherwise never fail a run."""
    from chaoslib.hypothesis import within_tolerance

    reasons: list[str] = []
    for run in runs:
        activity = run.get("activity") if isinstance(run, dict) else None
        if not isinstance(activity, dict) or "tolerance" not in activity or run.get("status") != "succeeded":
            continue
        tolerance, value = activity["tolerance"], run.get("output")
        try:
            ok = within_tolerance(tolerance, value, configuration={}, secrets={})
        except Exception as exc:  # a tolerance chaoslib cannot apply is itself a breach
            ok, value = False, f"{value!r} ({exc})"
        if not ok:
            reasons.append(f"during-method check '{activity_name(run)}' out of tolerance "
                           f"(got {_short(repr(value))}, tolerance {_short(repr(tolerance))})")
    return reasons


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def evaluate(journal: Journal) -> list[str]:
    """Every breach of one journal, in order; an empty list is a pass."""
    reasons: list[str] = []
    status = journal.get("status")
    experiment = journal.get("experiment") or {}
    states = journal.get("steady_states") or {}
    abort = evidence(journal).get("abort")

    if isinstance(abort, dict) or abort:
        info = abort if isinstance(abort, dict) else {}
        at = f" at {_when(info.get('at'), journal)}" if info.get("at") else ""
        reasons.append(f"aborted by chaosext{at}: {_short(str(info.get('reason') or 'no reason recorded'))}")
    elif status == "aborted":
        reasons.append("run aborted (status 'aborted'): an unexpected error stopped the experiment")
    if status == "interrupted":
        reasons.append("run interrupted (signal, control or exit) before it completed")
    elif status not in ("completed", "failed", "aborted"):
        reasons.append(f"run did not complete (status {status!r})")
    stopped = status in ("interrupted", "aborted") or bool(abort)

    before = states.get("before")
    has_hypothesis = bool(experiment.get("steady-state-hypothesis"))
    before_failed = False
    state_breached = False  # a recorded check shows the steady state deviated
    if not has_hypothesis:
        reasons.append("the experiment has no steady-state hypothesis: nothing was verified")
    elif not isinstance(before, dict):
        if not stopped:
            reasons.append("steady state was not checked before the method")
    elif before.get("steady_state_met") is not True:
        before_failed = state_breached = True
        reasons.append(f"steady state not met before the method: {_describe_state(before)}")

    runs = _list(journal.get("run"))
    if not before_failed:
        reasons.extend(_activity_breaches(runs, "method"))
        reasons.extend(_tolerance_misses(runs))
        declared = len(_list(experiment.get("method")))
        if runs and len(runs) < declared:
            reasons.append(f"method stopped after {len(runs)} of {declared} activities")
        elif not runs and declared and not stopped and status == "completed":
            reasons.append("the method did not run")

    during = [s for s in _list(states.get("during")) if isinstance(s, dict)]
    misses = [s for s in during if s.get("steady_state_met") is False]
    if misses:
        state_breached = True
        reasons.append(
            f"steady state missed during the method in {len(misses)} of {len(during)} checks: "
            f"{_describe_state(misses[0])}"
        )

    after = states.get("after")
    if isinstance(after, dict) and after.get("steady_state_met") is not True:
        state_breached = True
        reasons.append(f"steady state not met after the method: {_describe_state(after)}")
    elif has_hypothesis and after is None and not before_failed and not stopped:
        reasons.append("steady state was not checked after the method")
    # chaoslib's own word: a run that says it deviated never passes, even when the checks it
    # kept read as met
    if journal.get("deviated") is True and not state_breached:
        reasons.append("the journal records that the run deviated from its steady state ('deviated': true)")

    rollbacks = _list(journal.get("rollbacks"))
    reasons.extend(_activity_breaches(rollbacks, "rollback"))
    declared_rollbacks = len(_list(experiment.get("rollbacks")))
    if declared_rollbacks and not rollbacks:
        reasons.append(
            f"{declared_rollbacks} rollback(s) declared but none were played"
            " (run with --rollback-strategy always)"
        )
    elif 0 < len(rollbacks) < declared_rollbacks:
        reasons.append(f"only {len(rollbacks)} of {declared_rollbacks} rollbacks were played")

    if status == "failed" and not reasons:
        reasons.append("run status is 'failed'")
    return reasons


def judge(path: Path) -> Verdict:
    """Load and evaluate one journal; a bad file gives an ERROR verdict naming it (never an exception)."""
    try:
        journal = load_journal(path)
    except JournalError as exc:
        return Verdict(path=path, title=path.name, error=str(exc))
    redactor = Redactor.for_journal(journal)
    duration = journal.get("duration")
    errors = [redactor.text(e) for e in not_judgeable(journal)]
    error = None
    if errors:
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        error = f"not judged, the experiment's tooling failed: {errors[0]}{more}"
    return Verdict(
        path=path,
        title=redactor.text(experiment_title(journal)),
        reasons=tuple(redactor.text(reason) for reason in evaluate(journal)),
        error=error,
        duration_s=float(duration) if isinstance(duration, int | float) else 0.0,
        error_type="ToolingFailure" if errors else "JournalError",
        notes=tuple(redactor.text(note) for note in untolerated_probes(journal)),
    )


def exit_code(verdicts: list[Verdict]) -> int:
    """2 when any run could not be judged (bad journal, tooling failure), 1 when any breached, else 0."""
    if any(v.error is not None for v in verdicts):
        return 2
    return 0 if all(v.passed for v in verdicts) else 1
