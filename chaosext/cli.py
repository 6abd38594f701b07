"""The ``chaosext`` command line: install, local stack, Kubernetes test control plane, cleanup."""

from __future__ import annotations

import importlib
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

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
    traffic: Annotated[
        bool,
        typer.Option(
            "--traffic",
            help="Build only the load generator (Vegeta) the traffic actions run; prints its path.",
        ),
    ] = False,
) -> None:
    """Fetch and cache every component (idempotent: a second run downloads nothing)."""
    if kube:
        from chaosext.localkube.build import build

        build(_progress)
    elif traffic:
        from chaosext.traffic.install import install_traffic_tools

        typer.echo(str(install_traffic_tools(_progress)))  # stdout: just the path, for scripts
    else:
        from chaosext.extras import require
        from chaosext.stack.install import install as install_stack
        from chaosext.traffic.install import install_traffic_tools

        try:
            require("stack", "`chaosext install` (the local stack's components)")
        except ChaosextError as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}")
            raise typer.Exit(exc.exit_code) from None
        install_stack(_progress)
        install_traffic_tools(_progress)


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
_mount("chaosext.kind.cli", "kind", "The sample stack on a kind cluster on this machine: up, down.")
_mount("chaosext.experiments_cli", "experiments", "The guide's experiments: list, path, copy.")


@app.command()
def cleanup(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List leftovers, remove nothing.")] = False,
    kube: Annotated[
        bool | None,
        typer.Option("--kube/--no-kube", help="Also look in the cluster (default: when a kube config exists)."),
    ] = None,
    context: Annotated[str | None, typer.Option("--context", help="Kube context to clean (default: current).")] = None,
) -> None:
    """Remove every fault an interrupted experiment left behind (after SIGKILL, for example)."""
    from chaosext.faults.cleanup import cleanup_all

    report = cleanup_all(dry_run=dry_run, kube=kube, context=context)
    for row in report:
        err.print(f"{row['action']}: {row['family']} {row['description']}")
    removed = [r for r in report if r["action"] in ("removed", "would remove")]
    err.print(f"{len(removed)} leftover fault(s) {'found' if dry_run else 'removed'}")
    if any(r["action"] == "error" for r in report):
        raise typer.Exit(1)


def main() -> None:
    try:
        app()
    except ChaosextError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
