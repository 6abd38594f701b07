"""``chaosext experiments list|path|copy``: the guide's experiments, for users of an installed package.

They are read from :func:`chaosext.bundle.experiments_dir`: the checkout's ``experiments/`` or the
copy the wheel ships, so ``copy`` gives a pip user the files the guide runs.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from chaosext.bundle import experiments_dir
from chaosext.errors import ChaosextError, UsageError

__all__ = ["app", "available", "copy_experiments"]

app = typer.Typer(
    help="The guide's experiments: list them, show where they are, copy them to a folder.",
    no_args_is_help=True,
    add_completion=False,
)
err = Console(stderr=True, soft_wrap=True, highlight=False)


def available(root: Path | None = None) -> dict[str, Path]:
    """Every experiment by its name: the path relative to the experiments folder (``demos/x.json``)."""
    base = root or experiments_dir()
    if not base.is_dir():
        raise UsageError(f"no experiments folder at {base}: reinstall chaosext-backend")
    return {path.relative_to(base).as_posix(): path for path in sorted(base.rglob("*.json"))}


def _title(path: Path) -> str:
    try:
        return str(json.loads(path.read_text(encoding="utf-8")).get("title", ""))
    except (OSError, ValueError):
        return ""


def copy_experiments(dest: Path, names: list[str], force: bool = False, root: Path | None = None) -> list[Path]:
    """Copy the named experiments (all when ``names`` is empty) into ``dest``, keeping sub-folders.

    Checks everything first: an unknown name, a ``dest`` that is a file or a file already there
    (without ``force``) raises :class:`UsageError` and copies nothing.
    """
    catalog = available(root)
    unknown = [name for name in names if name not in catalog]
    if unknown:
        raise UsageError(f"NAMES: unknown experiment(s) {', '.join(unknown)}; see `chaosext experiments list`")
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"DEST: {dest} exists and is not a folder")
    chosen = {name: catalog[name] for name in (names or list(catalog))}
    targets = {name: dest / name for name in chosen}
    present = [str(target) for target in targets.values() if target.exists()]
    if present and not force:
        raise UsageError(f"DEST: {', '.join(present)} already exist(s); pass --force to overwrite")
    copied = []
    for name, source in chosen.items():
        target = targets[name]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        copied.append(target)
    return copied


def _fail(exc: ChaosextError) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(str(exc))}")
    return typer.Exit(exc.exit_code)


@app.command("list")
def list_() -> None:
    """Name and title of every experiment (the name is what `copy` takes)."""
    try:
        catalog = available()
    except ChaosextError as exc:
        raise _fail(exc) from None
    for name, path in catalog.items():
        typer.echo(f"{name}\t{_title(path)}")  # plain tab-separated lines, for scripts


@app.command()
def path() -> None:
    """Print the folder the experiments are read from."""
    typer.echo(str(experiments_dir()))


@app.command()
def copy(
    dest: Annotated[Path, typer.Argument(help="Folder to copy into (created if missing).", show_default=False)],
    names: Annotated[list[str] | None, typer.Argument(help="Experiments to copy (default: all).", show_default=False)] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite files already in DEST.")] = False,
) -> None:
    """Copy the guide's experiments into DEST, ready for `chaos run`."""
    try:
        copied = copy_experiments(dest, names or [], force=force)
    except ChaosextError as exc:
        raise _fail(exc) from None
    for target in copied:
        typer.echo(str(target))  # stdout: just the copied paths, for scripts
    err.print(f"{len(copied)} experiment(s) copied to {dest}")
