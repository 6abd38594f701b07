"""Activate and undo faults.

Every fault is (1) recorded as a marker before it is applied, (2) applied, (3) watched by the
state directory's reaper, a detached process that undoes it when its duration ends, even if the
experiment process was killed. Rollback actions and ``chaosext cleanup`` undo it earlier through
the same marker.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from chaoslib.exceptions import ActivityFailed

from chaosext.faults import markers, reaper, undoers
from chaosext.faults.markers import FaultMarker, Scope
from chaosext.faults.paths import faults_dir

__all__ = ["NothingChanged", "activate", "check_duration", "deliberate_wait", "record", "undo", "undo_matching",
           "unshielded", "waited_s"]

lifecycle = logging.getLogger("chaostoolkit.chaosext")
"""Fault lifecycle (active, ended): a child of Chaos Toolkit's own logger, so the lines reach the
run's console and chaostoolkit.log (whose handlers chaos run configures) as well as anything
listening on ``chaostoolkit``."""


def _utc(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


def _sigterm_interrupts_the_run(signum: int, _frame: object) -> None:
    lifecycle.warning("SIGTERM received: interrupting the experiment, rollbacks follow")
    raise SystemExit(128 + signum)


def _mend_chaoslib_sigterm() -> None:
    """Make SIGTERM interrupt a run even while a Python activity is running.

    chaoslib's SIGTERM handler raises InterruptExecution, an Exception; when it lands inside a
    Python activity (a fault waiting for its effect, a probe), chaoslib's Python provider wraps
    it into ActivityFailed, records a failed activity and goes on with the method, so the
    rollbacks wait for the rest of the method. SystemExit is not an Exception: the run loop stops
    and marks the run interrupted, and ``--rollback-strategy always`` plays the rollbacks at once.
    Only chaoslib's own handler is replaced, only in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return
    current = signal.getsignal(signal.SIGTERM)
    if getattr(current, "__module__", "") == "chaoslib.exit" and getattr(current, "__name__", "") == "_terminate_now":
        signal.signal(signal.SIGTERM, _sigterm_interrupts_the_run)


def check_duration(duration: float, name: str = "duration") -> float:
    """A fault's duration must be a positive number of seconds."""
    try:
        value = float(duration)
    except (TypeError, ValueError):
        raise ActivityFailed(f"'{name}' must be a number of seconds, got {duration!r}") from None
    if value <= 0:
        raise ActivityFailed(f"'{name}' must be greater than 0 seconds, got {duration!r}")
    return value


@contextmanager
def _locked(fault_id: str) -> Iterator[None]:
    lock_path = faults_dir() / f"{fault_id}.lock"
    with open(lock_path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    """Undo where the fault was made: the stack's ports/state dir and kube config of that run."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def _shielded() -> Iterator[None]:
    """Defer SIGINT/SIGTERM while a fault is applied or undone, then deliver them.

    A Ctrl-C landing in the middle of a multi-step change (stop, remove, re-add a supervisor
    program; a read-modify-write of a ConfigMap) would leave a half-made change that neither the
    fault nor its undo describes; deferred by the few seconds a step takes, the signal still
    interrupts the run and the rollbacks see a whole fault. Only the main thread can do this."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def defer(signum: int, _frame: object) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, defer) for sig in (signal.SIGINT, signal.SIGTERM)}
    _shields.append((previous, defer, received))
    try:
        yield
    finally:
        _shields.pop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _deliver(received, previous)


_Handlers = dict[signal.Signals, Any]
_shields: list[tuple[_Handlers, Callable[[int, object], None], list[int]]] = []
"""The shields in force in the main thread (innermost last): the handlers they replaced, their
deferring handler and the signals they deferred."""


def _deliver(received: list[int], previous: _Handlers) -> None:
    """Deliver deferred signals as the BaseExceptions a run loop stops on. Re-raising SIGTERM
    through chaoslib's handler would raise InterruptExecution inside this activity, which chaoslib
    records as a failed activity and then goes on with the method; SystemExit interrupts the run
    instead (status "interrupted", rollbacks played with --rollback-strategy always)."""
    pending = list(received)
    received.clear()
    for signum in pending:
        if previous[signal.Signals(signum)] == signal.SIG_IGN:
            continue
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(128 + signum)


_waited = [0.0]
_waited_lock = threading.Lock()


@contextmanager
def deliberate_wait() -> Iterator[None]:
    """Count the time inside as a wait the fault does on purpose (for its effect to be observed:
    a certificate served everywhere, a rollout seen stalled, replicas loading a ConfigMap), not
    as chaosext's own cost; ``waited_s`` adds them up (bench/faults.py reports them in their own
    column)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        with _waited_lock:
            _waited[0] += time.perf_counter() - started


def waited_s() -> float:
    """Seconds this process spent in ``deliberate_wait`` (and ``unshielded``) so far."""
    with _waited_lock:
        return _waited[0]


@contextmanager
def unshielded() -> Iterator[None]:
    """Inside a fault's ``apply``: let SIGINT/SIGTERM through while waiting for the change to take
    effect (a certificate served everywhere, clients re-reading their trust, a rollout). Applying
    is shielded so a change is never half made; a wait can last minutes and must not hold Ctrl-C
    back. A signal deferred before the wait is delivered when it starts. Interrupted, ``activate``
    undoes the fault at once. Counted as a ``deliberate_wait``."""
    if not _shields or threading.current_thread() is not threading.main_thread():
        with deliberate_wait():
            yield
        return
    previous, defer, received = _shields[-1]
    for sig, handler in previous.items():
        signal.signal(sig, handler)
    try:
        _deliver(received, previous)
        with deliberate_wait():
            yield
    finally:
        for sig in previous:
            signal.signal(sig, defer)


class NothingChanged(Exception):
    """Raised by a fault's ``apply`` when the change was certainly not made: the target refused it
    (the proxy does not exist, the name already has a fault) or the request never reached it.
    ``activate`` then drops the marker without running the undo and raises ``error``, the
    message for the user: bad input fails as it would have before any marker was written."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def activate(marker: FaultMarker, apply: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Record, apply and time-bound a fault. Returns the marker plus what ``apply`` reports.

    If ``apply`` fails, the marker is undone at once (a half-applied fault is not left behind);
    if it raises :class:`NothingChanged`, the marker is only dropped.
    """
    _mend_chaoslib_sigterm()
    home = faults_dir()  # once: finding it resolves the state directory and makes sure it exists
    markers.save(marker, home)
    try:
        with _shielded():
            changed = apply()
    except NothingChanged as refused:
        markers.delete(marker.id, home)
        raise refused.error from None
    except Exception:
        undo(marker.id, "apply failed")
        raise
    except BaseException:  # interrupted while waiting for the change to take effect
        undo(marker.id, "interrupted")
        raise
    if marker.expires_at is not None:
        reaper.ensure_running(home)
    until = (f"until {_utc(marker.expires_at)} ({marker.expires_at - time.time():.0f} s)"
             if marker.expires_at is not None else "until rolled back")
    lifecycle.info("chaosext fault %s active on %s, %s: %s", marker.id, marker.target, until, marker.description)
    return {**marker.to_json(), "changed": changed}


def undo(fault_id: str, reason: str = "rolled back") -> dict[str, Any] | None:
    """Undo one fault (idempotent). ``reason`` says how it ends (rolled back, expired, cleanup,
    apply failed): logged and returned as ``ended``. Returns its marker, or None if it was
    already gone."""
    with _locked(fault_id):
        marker = markers.load(fault_id)
        if marker is None:
            return None
        with _environment(marker.env), _shielded():
            undoers.resolve(marker.undo, str(markers.path_of(fault_id)))(**marker.undo_args)
        markers.delete(fault_id)
    removed = time.time()
    lifecycle.info("chaosext fault %s ended (%s) at %s after %.1f s: %s", marker.id, reason, _utc(removed),
                   removed - marker.started_at, marker.description)
    return {**marker.to_json(), "removed_at": removed, "ended": reason}


def record(marker: FaultMarker, **undo_args: Any) -> None:
    """Inside a fault's ``apply``: add to the marker what ``apply`` learnt that undo needs (the
    replica count before scaling, a started process's pid), saved at once so the reaper or
    ``chaosext cleanup`` sees it even if the experiment dies right after."""
    marker.undo_args.update(undo_args)
    markers.save(marker)


def undo_matching(
    family: str | None = None,
    kind: str | None = None,
    where: Callable[[FaultMarker], bool] | None = None,
    scope: Scope | None = None,
) -> list[dict[str, Any]]:
    """Undo every active fault of a family (and kind, and whose ``scope`` has the given values
    (None: any), and for which ``where`` holds): what every rollback calls."""
    done: list[dict[str, Any]] = []
    for marker in markers.list_markers(family=family, kind=kind, scope=scope):
        if where is not None and not where(marker):
            continue
        result = undo(marker.id)
        if result is not None:
            done.append(result)
    return done


_mend_chaoslib_sigterm()  # activity modules are imported inside chaoslib's run, after its handler is set
