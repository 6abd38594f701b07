"""Undo functions under stable keys: what a fault marker names so that any process (the
experiment, the reaper, ``chaosext cleanup``) can undo the fault later.

A family registers each undo function with ``@undoer("<family>.<name>")`` in its ``actions``,
``local`` or ``kubernetes`` module. A marker stores the key, never a Python path, so a function
can be renamed or moved inside its family without breaking markers already on disk. Keys are
checked when the module is imported: a malformed or twice-registered key fails that import.

Markers written before keys existed hold ``"module:function"``; such a reference resolves
through ``LEGACY_REFS`` (every reference chaosext used to write) or when it names a registered
undo function, and otherwise fails with the same clear error as an unknown key.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any, TypeVar

from chaosext.errors import ChaosextError

__all__ = ["DRIVER_MODULES", "LEGACY_REFS", "UnknownUndo", "key_of", "registered", "resolve", "undoer"]

UndoFunction = Callable[..., Any]
F = TypeVar("F", bound=UndoFunction)

KEY_SHAPE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
"""``<family>.<name>``: the family is the first part, so a key says which package holds it."""

DRIVER_MODULES = ("actions", "local", "kubernetes")
"""The modules of a family that may register undo functions, imported to find a key."""

_registry: dict[str, UndoFunction] = {}

LEGACY_REFS: dict[str, str] = {
    "chaosext.certificate.kubernetes:undo": "certificate.secret",
    "chaosext.certificate.local:undo": "certificate.local_files",
    "chaosext.config.kubernetes:restore": "config.configmap",
    "chaosext.config.local:write": "config.local_file",
    "chaosext.dependency.actions:_undo": "dependency.toxic",
    "chaosext.dns.kubernetes:undo": "dns.configmap",
    "chaosext.dns.local:undo": "dns.local_server",
    "chaosext.instance.kubernetes:scale": "instance.scale",
    "chaosext.instance.local:start": "instance.start",
    "chaosext.kafka.kubernetes:release": "kafka.release_brokers",
    "chaosext.kafka.kubernetes:restore_consumer": "kafka.restore_consumer",
    "chaosext.kafka.local:resume_consumer": "kafka.resume_consumer",
    "chaosext.kafka.local:start_brokers": "kafka.start_brokers",
    "chaosext.kafka.local:stop_throttle": "kafka.stop_throttle",
    "chaosext.rollout.actions:_restore_template": "rollout.template",
    "chaosext.rollout.local:restore_release": "rollout.local_release",
    "chaosext.stress.kubernetes:undo": "stress.pods",
    "chaosext.stress.local:undo": "stress.local",
    "chaosext.traffic.actions:_undo": "traffic.stop_load",
}
"""The ``"module:function"`` references markers held before undo keys existed, and their keys:
such a marker, left on disk by an older chaosext, still resolves after the function moved."""


class UnknownUndo(ChaosextError):
    """A marker names an undo function that is not registered: the fault cannot be undone by
    chaosext and must be restored by hand (the marker's description says what it changed)."""


def undoer(key: str) -> Callable[[F], F]:
    """Register the decorated function as the undo function ``key``. It is called with the
    marker's ``undo_args`` as keyword arguments and must be idempotent."""
    if not KEY_SHAPE.match(key):
        raise ValueError(f"undo key {key!r} must be '<family>.<name>' (lower case, dots between parts)")

    def register(function: F) -> F:
        known = _registry.get(key)
        if known is not None and known is not function:
            raise ValueError(f"undo key {key!r} is registered twice: {_where(known)} and {_where(function)}")
        _registry[key] = function
        function.__chaosext_undo_key__ = key  # type: ignore[attr-defined]
        return function

    return register


def _where(function: UndoFunction) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def key_of(function: UndoFunction) -> str | None:
    """The key ``function`` is registered under, or None."""
    key = getattr(function, "__chaosext_undo_key__", None)
    return key if isinstance(key, str) and _registry.get(key) is function else None


def registered() -> dict[str, UndoFunction]:
    """Every undo function registered so far (by the modules imported so far), by key."""
    return dict(_registry)


def _load_family(family: str) -> None:
    for leaf in DRIVER_MODULES:
        name = f"chaosext.{family}.{leaf}"
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise  # the module exists but one of its own imports is missing: say so


def _legacy(ref: str, where: str) -> UndoFunction:
    if ref in LEGACY_REFS:
        return resolve(LEGACY_REFS[ref], where)
    module_name, _, func_name = ref.partition(":")
    try:
        function = getattr(importlib.import_module(module_name), func_name)
    except (ImportError, AttributeError):
        function = None
    if not callable(function) or key_of(function) is None:
        raise UnknownUndo(f"{where}: its undo {ref!r} names no registered undo function; "
                          "undo the fault by hand (see its description), then delete the marker")
    return function


def resolve(key: str, where: str = "marker") -> UndoFunction:
    """The undo function registered as ``key`` (importing its family's modules if needed), or
    ``UnknownUndo`` naming the key and ``where`` (the marker file)."""
    if ":" in key:
        return _legacy(key, where)
    if key not in _registry and KEY_SHAPE.match(key):
        _load_family(key.split(".", 1)[0])
    function = _registry.get(key)
    if function is None:
        raise UnknownUndo(f"{where}: its undo key {key!r} is not registered by any chaosext family; "
                          "undo the fault by hand (see its description), then delete the marker")
    return function
