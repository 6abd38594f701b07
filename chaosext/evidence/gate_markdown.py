"""The gate's verdicts as Markdown (a native table, for GitHub's job summary): one row per journal,
then every breach, the runs that could not be judged and the method probes left unjudged."""

from __future__ import annotations

from pathlib import Path

from chaosext.evidence.gate import Verdict, exit_code

__all__ = ["render_markdown", "write_markdown"]

_ICONS = {"PASS": "✅ PASS", "FAIL": "❌ FAIL", "ERROR": "⚠️ ERROR"}


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_markdown(verdicts: list[Verdict]) -> str:
    passed = sum(1 for v in verdicts if v.passed)
    lines = [
        "| Journal | Experiment | Verdict | First reason |",
        "| --- | --- | --- | --- |",
    ]
    for v in verdicts:
        more = f" (+{len(v.reasons) - 1} more)" if v.error is None and len(v.reasons) > 1 else ""
        lines.append(
            f"| `{_cell(v.path.name)}` | {_cell(v.title)} | {_ICONS[v.label]} | {_cell(v.first_reason + more)} |"
        )
    lines += ["", f"{passed} of {len(verdicts)} journal(s) pass (gate exit {exit_code(verdicts)}).", ""]
    for v in verdicts:
        if v.error is not None:
            lines += [f"**`{_cell(v.path.name)}` could not be judged:** {_cell(v.error)}", ""]
        if v.reasons:
            heading = "also recorded" if v.error is not None else "breaches"
            lines += [f"**`{_cell(v.path.name)}` {heading}:**", ""]
            lines += [f"- {_cell(reason)}" for reason in v.reasons]
            lines.append("")
    notes = [(v, note) for v in verdicts for note in v.notes]
    if notes:
        lines += ["**Not judged** (recorded in the journal, no tolerance to check it against):", ""]
        lines += [f"- `{_cell(v.path.name)}`: {_cell(note)}" for v, note in notes]
        lines.append("")
    return "\n".join(lines)


def write_markdown(verdicts: list[Verdict], path: Path) -> Path:
    """Write the Markdown verdicts (parent folders are created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_markdown(verdicts), encoding="utf-8")
    return path
