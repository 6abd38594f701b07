"""Typer-ready commands: ``gate``, ``report``, ``compare``, ``archive`` (mounted by ``chaosext.cli``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from chaosext.errors import ChaosextError

__all__ = ["archive", "compare", "gate", "report"]

out = Console()
err = Console(stderr=True)


def _fail(exc: ChaosextError) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True, highlight=False)
    return typer.Exit(exc.exit_code)


def gate(
    journals: Annotated[
        list[Path], typer.Argument(help="Chaos Toolkit journal file(s) to judge.", show_default=False)
    ],
    junit: Annotated[
        Path | None, typer.Option("--junit", help="Also write the verdicts as JUnit XML to this file.")
    ] = None,
    markdown: Annotated[
        Path | None,
        typer.Option("--markdown", help="Also write the verdicts as a Markdown table to this file."),
    ] = None,
) -> None:
    """Exit 0 only if every run held its steady state with no failure; 1 on any breach; 2 when a run
    could not be judged (a bad journal, or a tool missing / a control endpoint unreachable).

    Method probes without a tolerance are listed as warnings: recorded, not judged.

    Run experiments with `chaos run --rollback-strategy always` so rollbacks are played even when
    the run fails or is interrupted (the gate flags declared rollbacks that were not played).
    """
    from chaosext.evidence.gate import exit_code, judge
    from chaosext.evidence.gate_markdown import write_markdown
    from chaosext.evidence.junit import write_junit

    verdicts = [judge(path) for path in journals]
    table = Table(title="chaosext SLO gate")
    table.add_column("journal", overflow="fold")
    table.add_column("experiment", overflow="fold")
    table.add_column("verdict")
    table.add_column("first reason", overflow="fold")
    colors = {"PASS": "bold green", "FAIL": "bold red", "ERROR": "bold yellow"}
    for v in verdicts:
        more = f" (+{len(v.reasons) - 1} more)" if len(v.reasons) > 1 else ""
        table.add_row(v.path.name, v.title, f"[{colors[v.label]}]{v.label}[/]", v.first_reason + more)
    out.print(table)
    for v in verdicts:
        if v.error is not None:
            err.print(f"[bold red]error:[/] {v.error}", soft_wrap=True, highlight=False)
        if v.reasons:
            heading = "also recorded" if v.error is not None else "breaches"
            out.print(f"[bold]{v.path.name}[/] {heading}:", highlight=False)
            for reason in v.reasons:
                out.print(f"  - {reason}", soft_wrap=True, highlight=False)
        for note in v.notes:
            out.print(f"[yellow]warning:[/] {v.path.name}: {note}", soft_wrap=True, highlight=False)
    for option, target, writer in (("--junit", junit, write_junit), ("--markdown", markdown, write_markdown)):
        if target is None:
            continue
        try:
            writer(verdicts, target)
        except OSError as exc:
            err.print(f"[bold red]error:[/] {option}: cannot write {target}: {exc}")
            raise typer.Exit(2) from None
        out.print(f"{'JUnit XML' if option == '--junit' else 'Markdown'} written to {target}")
    code = exit_code(verdicts)
    failed = sum(1 for v in verdicts if not v.passed)
    out.print(
        f"{len(verdicts) - failed} of {len(verdicts)} journal(s) pass"
        + ("" if code == 0 else f" (exit {code})")
    )
    raise typer.Exit(code)


def report(
    journals: Annotated[list[Path], typer.Argument(help="Journal file(s) to write up.", show_default=False)],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder for the Markdown and the PNGs.")
    ] = Path("chaos-report"),
) -> None:
    """Write the experiment log (Markdown, GitHub job summary friendly) and one PNG timeline per run."""
    from chaosext.extras import require

    try:
        require("report", "`chaosext report`")  # before the import: the timelines import matplotlib
    except ChaosextError as exc:
        raise _fail(exc) from None
    from chaosext.evidence.report import write_report

    try:
        path = write_report(journals, output, progress=lambda m: err.print(f"[bold cyan]==>[/] {m}"))
    except ChaosextError as exc:
        raise _fail(exc) from None
    out.print(f"experiment log written to {path} ({path.stat().st_size} bytes)")


def compare(
    old: Annotated[Path, typer.Argument(help="Journal of the first run.", show_default=False)],
    new: Annotated[Path, typer.Argument(help="Journal of the re-run.", show_default=False)],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Also write the comparison as Markdown to this file."),
    ] = None,
) -> None:
    """Show a run and its re-run side by side."""
    from chaosext.evidence.compare import compare_journals

    try:
        comparison = compare_journals(old, new)
    except ChaosextError as exc:
        raise _fail(exc) from None
    out.print(comparison.table())
    if comparison.warning:
        err.print(f"[yellow]{comparison.warning}[/]", highlight=False)
    if output is not None:
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(comparison.markdown(), encoding="utf-8")
        except OSError as exc:
            err.print(f"[bold red]error:[/] --output: cannot write {output}: {exc}")
            raise typer.Exit(2) from None
        out.print(f"comparison written to {output}")


def archive(
    journals: Annotated[
        list[Path], typer.Argument(help="Journal file(s) to keep as evidence.", show_default=False)
    ],
    dest: Annotated[Path, typer.Option("--dest", help="Folder of archived journals.")] = Path("journals"),
    experiment: Annotated[
        Path | None, typer.Option("--experiment", help="The experiment file (records its git commit).")
    ] = None,
    target: Annotated[str | None, typer.Option("--target", help="local or kubernetes.")] = None,
    log: Annotated[
        Path | None, typer.Option("--log", help="The run's chaostoolkit log, archived redacted.")
    ] = None,
) -> None:
    """Archive journals (redacted) as <dest>/<date>-<experiment>.json with commit, target and versions."""
    from chaosext.evidence.archive import archive as archive_one

    for journal in journals:
        try:
            path = archive_one(journal, dest, experiment_path=experiment, target=target, log_path=log)
        except ChaosextError as exc:
            raise _fail(exc) from None
        err.print(f"archived {journal} -> {path}")
        typer.echo(str(path))  # stdout: just the archived path, for scripts
