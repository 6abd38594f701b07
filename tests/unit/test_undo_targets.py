"""The undo contract: every undo key chaosext writes into a marker is registered by its family and
resolves, the way the engine, the reaper and ``chaosext cleanup`` resolve it (also in a fresh
process that imported nothing yet); every registered key resolves; and an unknown key or an old
"module:function" reference that names no registered undo fails loudly, naming the marker."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import chaosext
from chaosext.discovery import family_packages
from chaosext.faults import undoers

PACKAGE = Path(chaosext.__file__).resolve().parent


@dataclass(frozen=True)
class UndoUse:
    key: str | None  # None: not a literal string
    where: str
    literal_args: tuple[str, ...] | None  # keys of an ``undo_args={...}`` literal next to it


def _undo_uses() -> list[UndoUse]:
    """Every ``undo="<key>"`` keyword in chaosext's source, with its literal undo_args keys."""
    uses: list[UndoUse] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            keywords = {kw.arg: kw.value for kw in node.keywords if kw.arg}
            target = keywords.get("undo")
            if target is None:
                continue
            where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
            literal = target.value if isinstance(target, ast.Constant) and isinstance(target.value, str) else None
            args = keywords.get("undo_args")
            keys = None
            if isinstance(args, ast.Dict) and all(isinstance(k, ast.Constant) for k in args.keys):
                keys = tuple(str(k.value) for k in args.keys if isinstance(k, ast.Constant))
            uses.append(UndoUse(literal, where, keys))
    return uses


UNDO_USES = _undo_uses()
LITERAL_USES = [use for use in UNDO_USES if use.key]


def _import_every_driver() -> dict[str, undoers.UndoFunction]:
    for family in family_packages():
        for leaf in undoers.DRIVER_MODULES:
            name = f"chaosext.{family}.{leaf}"
            if importlib.util.find_spec(name) is not None:
                importlib.import_module(name)
    return {k: f for k, f in undoers.registered().items() if f.__module__.startswith("chaosext.")}


def test_the_scan_finds_the_undo_keys() -> None:
    families = {use.key.split(".")[0] for use in LITERAL_USES if use.key}
    assert len(UNDO_USES) >= 19 and {"dependency", "dns", "instance", "kafka", "stress", "traffic"} <= families


def test_every_undo_key_is_a_literal_string() -> None:
    """A key computed at run time could not be checked here before a marker with it is written."""
    assert [use.where for use in UNDO_USES if use.key is None] == []


@pytest.mark.parametrize("use", LITERAL_USES, ids=[f"{u.where.split(':')[0]}={u.key}" for u in LITERAL_USES])
def test_a_marker_undo_key_is_registered_by_its_family_and_takes_its_args(use: UndoUse) -> None:
    assert use.key is not None
    assert undoers.KEY_SHAPE.match(use.key), f"{use.where}: {use.key!r} is not '<family>.<name>'"
    family = use.key.split(".")[0]
    assert use.where.startswith(f"chaosext/{family}/"), f"{use.where}: key {use.key!r} of another family"
    function = undoers.resolve(use.key, use.where)
    if use.literal_args is None:
        return
    parameters = inspect.signature(function).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    unknown = [key for key in use.literal_args if key not in parameters and not takes_any]
    assert unknown == [], f"{use.where}: undo_args {unknown} are not parameters of {use.key}"


def test_every_marker_key_resolves_in_a_fresh_process() -> None:
    """The reaper and ``chaosext cleanup`` start with nothing imported: the key alone must lead to
    the module that registers it."""
    keys = sorted({use.key for use in LITERAL_USES if use.key})
    script = ("import json, sys\nfrom chaosext.faults import undoers\n"
              "print(json.dumps({k: undoers.resolve(k).__module__ for k in json.loads(sys.argv[1])}))")
    proc = subprocess.run([sys.executable, "-c", script, json.dumps(keys)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    modules = json.loads(proc.stdout)
    assert sorted(modules) == keys
    assert all(module.split(".")[1] == key.split(".")[0] for key, module in modules.items())


def test_every_registered_key_resolves_and_lives_in_its_family_driver() -> None:
    registered = _import_every_driver()
    assert len(registered) >= 19
    used = {use.key for use in LITERAL_USES}
    for key, function in registered.items():
        assert undoers.resolve(key) is function
        _, family, leaf = function.__module__.split(".")
        assert key.split(".")[0] == family and leaf in undoers.DRIVER_MODULES, f"{key} in {function.__module__}"
        assert undoers.key_of(function) == key
    assert sorted(set(registered) - used) == [], "registered undo keys no marker uses"


def test_an_old_module_function_reference_still_resolves_when_registered() -> None:
    _import_every_driver()
    assert undoers.resolve("chaosext.dependency.actions:_undo") is undoers.resolve("dependency.toxic")
    assert undoers.resolve("chaosext.instance.kubernetes:scale") is undoers.resolve("instance.scale")


@pytest.mark.parametrize(("ref", "key"), sorted(undoers.LEGACY_REFS.items()))
def test_every_reference_older_markers_hold_still_resolves(ref: str, key: str) -> None:
    """Markers already on disk name these (the rollout template undo has moved since)."""
    assert undoers.resolve(ref) is undoers.resolve(key)


@pytest.mark.parametrize("ref", [
    "dependency.no_such_undo",  # a family that registers other keys
    "nofamily.undo",  # no such family
    "chaosext.faults.engine:no_such_undo",  # old format, no such function
    "chaosext.no_such_module:undo",  # old format, no such module
    "chaosext.faults.engine:activate",  # old format, a function that is not a registered undo
])
def test_an_unknown_undo_fails_naming_the_key_and_the_marker(ref: str) -> None:
    with pytest.raises(undoers.UnknownUndo) as raised:
        undoers.resolve(ref, "/state/faults/x-1.json")
    assert repr(ref) in str(raised.value) and "/state/faults/x-1.json" in str(raised.value)


def test_a_malformed_or_twice_registered_key_fails_at_import() -> None:
    with pytest.raises(ValueError, match="must be"):
        undoers.undoer("Dependency:toxic")
    with pytest.raises(ValueError, match="registered twice"):
        undoers.undoer("dependency.toxic")(lambda: None)
