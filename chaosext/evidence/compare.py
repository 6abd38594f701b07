"""A run and its re-run side by side: verdict, steady state, key SLO figures, first reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table

from chaosext.evidence.figures import fmt_ms, fmt_rate, phase_figures
from chaosext.evidence.gate import evaluate
from chaosext.evidence.journal import Journal, evidence, experiment_title, load_journal, started_at
from chaosext.evidence.redact import Redactor

__all__ = ["Comparison", "compare_journals"]

Row = tuple[str, str, str]


def _state(journal: Journal, phase: str) -> str:
    state = journal["steady_states"].get(phase)
    if not isinstance(state, dict):
        return "not checked"
    return "met" if state.get("steady_state_met") is True else "NOT met"


def _during(journal: Journal) -> str:
    checks = [s for s in journal["steady_states"].get("during") or [] if isinstance(s, dict)]
    if not checks:
        return "none"
    misses = sum(1 for s in checks if s.get("steady_state_met") is False)
    return f"{misses} missed of {len(checks)}"


def _figure(journal: Journal, phase: str, key: str) -> str:
    figures = phase_figures(journal, phase)
    if key == "p99":
        return fmt_ms(figures.get("client_p99_ms", figures.get("p99_ms")))
    return fmt_rate(figures.get(key))


def _column(path: Path, journal: Journal) -> list[str]:
    reasons = evaluate(journal)
    block: dict[str, Any] = evidence(journal)
    commit = block.get("experiment_commit") or block.get("commit")
    return [
        path.name,
        str(journal.get("start") or "?")[:19].replace("T", " "),
        "FAIL" if reasons else "PASS",
        str(journal.get("status")),
        _state(journal, "before"),
        _during(journal),
        _state(journal, "after"),
        *(
            _figure(journal, phase, key)
            for key in ("p99", "error_rate")
            for phase in ("before", "during", "after")
        ),
        str(commit)[:12] if commit else "n/a",
        reasons[0] if reasons else "—",
    ]


_LABELS = [
    "journal",
    "started (UTC)",
    "verdict",
    "status",
    "steady state before",
    "during-method checks",
    "steady state after",
    "p99 before",
    "p99 during (worst)",
    "p99 after",
    "5xx before",
    "5xx during (worst)",
    "5xx after",
    "experiment commit",
    "first reason",
]


class Comparison:
    """Two journals' key facts, row by row."""

    def __init__(self, old_path: Path, new_path: Path) -> None:
        old, new = load_journal(old_path), load_journal(new_path)
        redactor = Redactor.for_journal(old)
        redactor.add_known(Redactor.for_journal(new).known)
        old_start, new_start = started_at(old), started_at(new)
        self.warning = (
            f"note: OLD ({old_path.name}) started after NEW ({new_path.name}); swap them to compare a run "
            "with its re-run"
            if old_start and new_start and old_start > new_start
            else None
        )
        self.titles = (redactor.text(experiment_title(old)), redactor.text(experiment_title(new)))
        self.rows: list[Row] = [
            (label, redactor.text(a), redactor.text(b))
            for label, a, b in zip(_LABELS, _column(old_path, old), _column(new_path, new), strict=True)
        ]

    @property
    def heading(self) -> str:
        old, new = self.titles
        return old if old == new else f"{old} → {new}"

    def table(self) -> Table:
        table = Table(title=self.heading, show_lines=False)
        table.add_column("", style="bold")
        table.add_column("OLD", overflow="fold")
        table.add_column("NEW", overflow="fold")
        for label, old, new in self.rows:
            style = {"PASS": "green", "FAIL": "red"}
            table.add_row(
                label,
                f"[{style[old]}]{old}[/]" if old in style else old,
                f"[{style[new]}]{new}[/]" if new in style else new,
            )
        return table

    def markdown(self) -> str:
        def cell(text: str) -> str:
            return " ".join(text.split()).replace("|", "\\|")

        lines = [f"## {cell(self.heading)}: run and re-run", "", "| | OLD | NEW |", "| --- | --- | --- |"]
        for label, old, new in self.rows:
            mark = {"PASS": "✅ PASS", "FAIL": "❌ FAIL"}
            lines.append(f"| **{label}** | {mark.get(old, cell(old))} | {mark.get(new, cell(new))} |")
        if self.warning:
            lines += ["", f"> {self.warning}"]
        return "\n".join(lines) + "\n"


def compare_journals(old: Path, new: Path) -> Comparison:
    return Comparison(old, new)
