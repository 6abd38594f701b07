"""The experiment log: Markdown in the guide's template plus one PNG timeline per run.

Per experiment (runs grouped by title, oldest first) a section with the template's fields:
Experiment, Hypothesis, Scope, Steady state before, Observed (from the first run), Root cause,
Fix, Re-run result (from the latest run). A summary table sits at the top. The file is built for
GitHub's job summary: plain GitHub Markdown, images by relative path, kept well under 1 MiB.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from chaosext.errors import UsageError
from chaosext.evidence.figures import (
    abort_figures,
    fault_window,
    fmt_ms,
    fmt_offset,
    fmt_rate,
    phase_figures,
    series,
    summarize,
    thresholds,
    worst,
)
from chaosext.evidence.gate import evaluate, not_judgeable
from chaosext.evidence.journal import (
    Journal,
    activity_name,
    evidence,
    experiment_title,
    load_journal,
    slugify,
    started_at,
)
from chaosext.evidence.redact import Redactor, find_leaks
from chaosext.evidence.timeline import render_timeline

__all__ = ["MAX_BYTES", "Run", "load_runs", "render_markdown", "write_report"]

MAX_BYTES = 512 * 1024  # GitHub's job summary takes 1 MiB; stay at half of it
REPORT_NAME = "experiment-log.md"


@dataclass
class Run:
    path: Path
    journal: Journal
    reasons: list[str]
    png: str | None = None  # relative to the report
    errors: tuple[str, ...] = ()  # why the run could not be judged (the gate's ERROR)

    @property
    def title(self) -> str:
        return experiment_title(self.journal)

    @property
    def verdict(self) -> str:
        if self.errors:
            return "ERROR"
        return "FAIL" if self.reasons else "PASS"

    @property
    def headline(self) -> str | None:
        """What the verdict rests on: the first tooling error, else the first breach."""
        return self.errors[0] if self.errors else self.reasons[0] if self.reasons else None

    @property
    def when(self) -> str:
        start = started_at(self.journal)
        return start.strftime("%Y-%m-%d %H:%M:%S UTC") if start else "undated"

    @property
    def stem(self) -> str:
        start = started_at(self.journal)
        return f"{start.date().isoformat() if start else 'undated'}-{slugify(self.title)}"


def load_runs(paths: list[Path]) -> list[Run]:
    """Load and judge every journal (a bad file raises a UsageError naming it)."""
    return [
        Run(path=path, journal=(j := load_journal(path)), reasons=evaluate(j), errors=tuple(not_judgeable(j)))
        for path in paths
    ]


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _log_field(run: Run, key: str) -> str | None:
    log = evidence(run.journal).get("log")
    value = log.get(key) if isinstance(log, dict) else None
    return str(value) if value else None


def _hypothesis(run: Run) -> str:
    if text := _log_field(run, "hypothesis"):
        return text
    ssh = run.journal["experiment"].get("steady-state-hypothesis")
    title = ssh.get("title") if isinstance(ssh, dict) else None
    limits = thresholds(run.journal)
    bounds = []
    if "p99_ms" in limits:
        bounds.append(f"p99 ≤ {fmt_ms(limits['p99_ms'])}")
    if "error_rate" in limits:
        bounds.append(f"5xx ≤ {fmt_rate(limits['error_rate'])}")
    text = str(title) if title else "no steady-state hypothesis declared"
    return text + (f" ({', '.join(bounds)})" if bounds else "")


def _scope(run: Run) -> str:
    if text := _log_field(run, "scope"):
        return text
    parts = [str(evidence(run.journal).get("target") or "target not recorded")]
    actions = [
        activity_name(a)
        for a in run.journal["experiment"].get("method") or []
        if isinstance(a, dict) and a.get("type") == "action"
    ]
    if actions:
        parts.append(", ".join(actions[:4]) + (" …" if len(actions) > 4 else ""))
    window = fault_window(run.journal)
    if window:
        parts.append(f"{window[1] - window[0]:.0f} s fault window")
    return " / ".join(parts)


def _experiment_id(run: Run) -> str:
    block = evidence(run.journal)
    text = f"`{run.stem}`"
    file = block.get("experiment_file")
    commit = block.get("experiment_commit") or block.get("commit")
    if file:
        text += f" — `{file}`" + (f" @ `{str(commit)[:12]}`" if commit else "")
    return text


def _steady_before(run: Run) -> str:
    before = run.journal["steady_states"].get("before")
    met = isinstance(before, dict) and before.get("steady_state_met") is True
    figures = summarize(phase_figures(run.journal, "before"))
    state = "hypothesis met" if met else "hypothesis NOT met" if isinstance(before, dict) else "not checked"
    return f"{figures} ({state})" if figures else state


def _observed(run: Run) -> str:
    journal = run.journal
    limits = thresholds(journal)
    window = fault_window(journal)
    parts: list[str] = []
    client = series(journal, "client_p99_ms") or series(journal, "server_p99_ms")
    errors = series(journal, "error_rate")
    origin = window[0] if window else min((p[0] for p in client + errors), default=0.0)
    if (peak := worst(client, origin, limits.get("p99_ms"))) is not None:
        parts.append(f"p99 peaked at {fmt_ms(peak.value)} at {fmt_offset(peak.offset_s)}")
    if (peak := worst(errors, origin, limits.get("error_rate"))) is not None:
        if peak.seconds_over > 0:
            parts.append(f"5xx {fmt_rate(peak.value)} (over threshold for {peak.seconds_over:.0f} s)")
        else:
            parts.append(f"5xx peaked at {fmt_rate(peak.value)}")
    if not parts and (during := summarize(phase_figures(journal, "during"))):
        parts.append(f"worst during the fault: {during}")
    if at_abort := summarize(abort_figures(journal)):
        parts.append(f"the abort control measured (server side): {at_abort}")
    if not parts:
        parts.append("no timeline recorded")
    if after := summarize(phase_figures(journal, "after")):
        parts.append(f"after: {after}")
    parts.append(f"verdict {run.verdict}" + (f": {run.headline}" if run.headline else ""))
    return "; ".join(parts)


def _result(run: Run) -> str:
    figures = summarize(phase_figures(run.journal, "during"))
    detail = run.headline or (f"worst during the fault: {figures}" if figures else "all checks held")
    return f"**{run.verdict}** — {detail}"


def _section(runs: list[Run]) -> list[str]:
    first, last = runs[0], runs[-1]
    if len(runs) > 1:
        rerun = f"{_result(last)} (re-run of {last.when}; {len(runs)} runs)"
    else:
        rerun = f"not re-run yet; this run: {_result(first)}"
    rows = [
        ("Experiment", _experiment_id(first)),
        ("Hypothesis", _hypothesis(first)),
        ("Scope", _scope(first)),
        ("Steady state before", _steady_before(first)),
        ("Observed", _observed(first)),
        ("Root cause", _log_field(last, "root_cause") or _log_field(first, "root_cause") or "_not recorded_"),
        ("Fix", _log_field(last, "fix") or _log_field(first, "fix") or "_not recorded_"),
        ("Re-run result", rerun),
    ]
    lines = [f"## {_cell(first.title)}", "", "| Field | Value |", "| --- | --- |"]
    lines += [f"| **{name}** | {_cell(value) if name != 'Experiment' else value} |" for name, value in rows]
    lines.append("")
    for index, run in enumerate(runs):
        label = "First run" if index == 0 else "Re-run" if index == len(runs) - 1 else f"Run {index + 1}"
        caption = f"**{label}** — {run.when} — {run.verdict}"
        if run.png:
            lines += [caption, "", f"![Timeline of {_cell(run.title)}, {run.when}]({run.png})", ""]
        else:
            lines += [f"{caption} — _no timeline recorded._", ""]
    failing = [r for r in runs if len(r.reasons) + len(r.errors) > 1]
    for run in failing:
        findings = [*(f"not judged: {e}" for e in run.errors), *run.reasons]
        what = "findings" if run.errors else "breaches"
        lines += [f"<details><summary>All {len(findings)} {what} of the run of {run.when}</summary>", ""]
        lines += [f"- {_cell(finding)}" for finding in findings[:20]]
        lines += ["", "</details>", ""]
    return lines


def _anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    kept = "".join(ch for ch in heading.strip().lower() if ch.isalnum() or ch in " -_")
    return kept.replace(" ", "-")


def _group(runs: list[Run]) -> list[list[Run]]:
    groups: dict[str, list[Run]] = {}
    for run in runs:
        groups.setdefault(run.title, []).append(run)
    for members in groups.values():
        members.sort(key=lambda r: (started_at(r.journal) is None, started_at(r.journal) or 0))
    return list(groups.values())


def _summary(groups: list[list[Run]]) -> list[str]:
    lines = [
        "| Experiment | Runs | Result | First reason | worst p99 | worst 5xx |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for runs in groups:
        last = runs[-1]
        during = phase_figures(last.journal, "during")
        # an aborted run's fault window can be too short for phase figures; the abort control
        # recorded what it measured when it halted the run
        at_abort = abort_figures(last.journal)
        p99 = next(
            (during[k] for k in ("client_p99_ms", "p99_ms", "server_p99_ms") if k in during), at_abort.get("p99_ms")
        )
        rate = next((during[k] for k in ("error_rate", "server_error_rate") if k in during), at_abort.get("error_rate"))
        icon = {"PASS": "✅", "FAIL": "❌"}.get(last.verdict, "⚠️")
        anchor = _anchor(last.title)
        lines.append(
            f"| [{_cell(last.title)}](#{anchor}) | {len(runs)} | {icon} {last.verdict} | "
            f"{_cell(last.headline) if last.headline else '—'} | {fmt_ms(p99)} | {fmt_rate(rate)} |"
        )
    return lines


def render_markdown(runs: list[Run], redactor: Redactor) -> str:
    groups = _group(runs)
    passed = sum(1 for g in groups if g[-1].verdict == "PASS")
    lines = ["# Chaos experiment log", "", f"{passed} of {len(groups)} experiment(s) pass the SLO gate.", ""]
    lines += _summary(groups) + [""]
    for runs_of_one in groups:
        lines += _section(runs_of_one)
    text = redactor.text("\n".join(lines) + "\n")
    if len(text.encode()) > MAX_BYTES:
        cut = text.encode()[: MAX_BYTES - 200].decode(errors="ignore")
        text = cut[: cut.rfind("\n")] + "\n\n_…report truncated to stay under GitHub's job summary limit._\n"
    return text


def write_report(paths: list[Path], out_dir: Path, progress: Callable[[str], None] = lambda _m: None) -> Path:
    """Write ``<out_dir>/experiment-log.md`` and one ``<stem>.png`` per run; returns the Markdown path."""
    if not paths:
        raise UsageError("JOURNAL: give at least one journal")
    runs = load_runs(paths)
    redactor = Redactor()
    for run in runs:
        redactor.add_known(Redactor.for_journal(run.journal).known)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--output: cannot create {out_dir}: {exc}") from None
    used: set[str] = set()
    for run in runs:
        name, n = run.stem, 2
        while name in used:
            name, n = f"{run.stem}-{n}", n + 1
        used.add(name)
        progress(f"timeline for {run.path.name}")
        png = render_timeline(
            run.journal,
            out_dir / f"{name}.png",
            title=redactor.text(run.title),
            subtitle=f"{run.when} — {run.verdict}"
            + (f": {redactor.text(run.headline)}" if run.headline else ""),
        )
        run.png = png.name if png else None
    text = render_markdown(runs, redactor)
    leaks = find_leaks(text, redactor.known)
    if leaks:
        raise UsageError(f"report would leak {', '.join(leaks)}; not written")
    path = out_dir / REPORT_NAME
    path.write_text(text, encoding="utf-8")
    return path
