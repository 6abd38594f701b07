"""``chaosext stack up|status|down``: the local sample checkout stack from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from chaosext.errors import ChaosextError
from chaosext.extras import require
from chaosext.stack import lifecycle
from chaosext.stack.config import load_config

__all__ = ["app"]

app = typer.Typer(
    help="The local sample checkout stack (Kafka, Toxiproxy, HAProxy, Prometheus, DNS, Redis, services).",
    no_args_is_help=True,
    add_completion=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", help="YAML file overriding ports/paths (see docs/architecture.md).", dir_okay=False
    ),
]


def _progress(message: str) -> None:
    err.print(f"[bold cyan]==>[/] {message}", highlight=False)


def _fail(exc: ChaosextError) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
    return typer.Exit(exc.exit_code)


@app.command()
def up(
    config: ConfigOption = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=5, help="Seconds to wait for every component to be healthy.")
    ] = 180.0,
) -> None:
    """Start the stack (idempotent) and wait until every component is healthy."""
    try:
        require("stack", "`chaosext stack up`")
        lifecycle.up(load_config(config), progress=_progress, timeout=timeout)
    except ChaosextError as exc:
        raise _fail(exc) from None


def _table(report: dict[str, Any]) -> Table:
    table = Table(title="chaosext stack")
    for column in ("component", "healthy", "state", "pid", "uptime", "ports"):
        table.add_column(column, no_wrap=True)
    for c in report["components"]:
        table.add_row(
            c["name"],
            "[green]yes[/]" if c["healthy"] else "[red]no[/]",
            c["state"],
            str(c["pid"] or "-"),
            f"{c['uptime_s']}s",
            ",".join(str(p) for p in c["ports"]),
        )
    return table


@app.command()
def status(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show every component's state, pid and health, and the endpoints; exit 1 if anything is unhealthy."""
    try:
        require("stack", "`chaosext stack status`")
        report = lifecycle.status(load_config(config))
    except ChaosextError as exc:
        raise _fail(exc) from None
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        if report["supervisor"]["pid"] is None:
            out.print(
                "[red]the stack is down[/] (supervisord is not running); start it with `chaosext stack up`"
            )
        else:
            out.print(_table(report))
        for c in report["components"] if report["supervisor"]["pid"] else []:
            if not c["healthy"]:
                out.print(f"[red]{c['name']}[/]: {c['detail']} (log: {c['log']})", highlight=False)
        for name, value in report["endpoints"].items():
            out.print(f"  {name:24} {value}", highlight=False)
    if not report["healthy"]:
        raise typer.Exit(1)


@app.command()
def down(config: ConfigOption = None) -> None:
    """Stop everything; leaves no process and no listening port behind."""
    try:
        require("stack", "`chaosext stack down`")
        lifecycle.down(load_config(config), progress=_progress)
    except ChaosextError as exc:
        raise _fail(exc) from None
