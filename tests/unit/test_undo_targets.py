"""Every undo target chaosext writes into a marker resolves to a callable, the way the engine, the
reaper and ``chaosext cleanup`` resolve it: a renamed or moved undo function would otherwise leave
markers (some already on disk) that nothing can undo."""

from __future__ import annotations

import ast
import inspect
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import chaosext
from chaosext.faults import engine

PACKAGE = Path(chaosext.__file__).resolve().parent
TARGET_SHAPE = r"^chaosext(\.\w+)+:\w+$"


@dataclass(frozen=True)
class UndoUse:
    target: str | None  # None: not a literal string
    where: str
    literal_args: tuple[str, ...] | None  # keys of an ``undo_args={...}`` literal next to it


def _undo_uses() -> list[UndoUse]:
    """Every ``undo="module:function"`` keyword in chaosext's source, with its literal undo_args keys."""
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


def test_the_scan_finds_the_undo_targets() -> None:
    families = {use.target.split(".")[1] for use in UNDO_USES if use.target}
    assert len(UNDO_USES) >= 19 and {"dependency", "dns", "instance", "kafka", "stress", "traffic"} <= families


def test_every_undo_target_is_a_literal_string() -> None:
    """A target computed at run time could not be checked here before a marker with it is written."""
    assert [use.where for use in UNDO_USES if use.target is None] == []


LITERAL_USES = [use for use in UNDO_USES if use.target]


@pytest.mark.parametrize("use", LITERAL_USES, ids=[f"{u.where.split(':')[0]}={u.target}" for u in LITERAL_USES])
def test_an_undo_target_imports_and_is_callable(use: UndoUse) -> None:
    assert use.target is not None
    assert re.match(TARGET_SHAPE, use.target), f"{use.where}: {use.target!r} is not 'module:function'"
    function = engine._resolve(use.target)
    assert callable(function), f"{use.where}: {use.target} is not callable"
    if use.literal_args is None:
        return
    parameters = inspect.signature(function).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    unknown = [key for key in use.literal_args if key not in parameters and not takes_any]
    assert unknown == [], f"{use.where}: undo_args {unknown} are not parameters of {use.target}"


def test_an_unknown_undo_target_fails_loudly() -> None:
    with pytest.raises(AttributeError):
        engine._resolve("chaosext.faults.engine:no_such_undo")
    with pytest.raises(ModuleNotFoundError):
        engine._resolve("chaosext.no_such_module:undo")
