"""The ``chaosext`` command line: install, local stack, Kubernetes test control plane, cleanup."""

from __future__ import annotations

import importlib
import sys
from typing import Annotated

import typer
from rich.console import Console

from chaosext.errors import ChaosextError

__all__ = ["app", "main"]

app = typer.Typer(
    help="chaosext: backend chaos engineering on Chaos Toolkit (local stack, faults, SLO gate).",
    no_args_is_help=True,
    add_completion=False,
)
err = Console(stderr=True)


def _progress(message: str) -> None:
    err.print(f"[bold cyan]==>[/] {message}")


@app.command()
def install(
    kube: Annotated[
        bool, typer.Option("--kube", help="Build the Kubernetes test control plane instead of the stack.")
    ] = False,
) -> None:
    """Fetch and cache every component (idempotent: a second run downloads nothing)."""
    if kube:
        from chaosext.localkube.build import build

        build(_progress)
    else:
        from chaosext.stack.install import install as install_stack

        install_stack(_progress)


def _mount(module: str, name: str, help_text: str) -> None:
    """Mount a sub-command group; a group whose module is absent is left out, not fatal."""
    try:
        sub = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("chaosext"):
            return
        raise
    app.add_typer(sub.app, name=name, help=help_text)


def _evidence_commands() -> None:
    from chaosext.evidence.cli import archive, compare, gate, report

    for command in (gate, report, compare, archive):
        app.command()(command)


_evidence_commands()
_mount("chaosext.stack.cli", "stack", "The local sample checkout stack: up, status, down.")
_mount("chaosext.localkube.cli", "kube", "The Kubernetes control plane used by tests: up, down, status.")


@app.command()
def cleanup(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List leftovers, remove nothing.")] = False,
) -> None:
    """Remove every fault an interrupted experiment left behind (after SIGKILL, for example)."""
    from chaosext.faults.cleanup import cleanup_all

    report = cleanup_all(dry_run=dry_run)
    for row in report:
        err.print(f"{'would remove' if dry_run else 'removed'}: {row['family']} {row['description']}")
    err.print(f"{len(report)} leftover fault(s) {'found' if dry_run else 'removed'}")


def main() -> None:
    try:
        app()
    except ChaosextError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        sys.exit(exc.exit_code)
