"""The report reads the journals real runs recorded (journals/), not only the shapes the evidence
tests write: the abort control records ``slo.<phase>.client.latency_ms.p99`` and the summary's
"worst p99 / worst 5xx" columns once showed n/a for every real run because of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chaosext.evidence.figures import fmt_ms, phase_figures
from chaosext.evidence.redact import Redactor
from chaosext.evidence.report import load_runs, render_markdown

JOURNALS = Path(__file__).resolve().parents[2] / "journals"
RECORDED = sorted(p for p in JOURNALS.glob("*.json")
                  if isinstance(json.loads(p.read_text()).get("chaosext", {}).get("slo"), dict))


def test_there_are_recorded_runs_with_slo_figures() -> None:
    assert len(RECORDED) >= 5


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.stem[11:60])
def test_every_recorded_phase_yields_p99_and_error_rate(path: Path) -> None:
    journal = json.loads(path.read_text())
    for phase in ("before", "during", "after"):
        block = journal["chaosext"]["slo"].get(phase) or {}
        if not (block.get("client") or {}).get("requests"):
            continue  # no load in that phase
        figures = phase_figures(journal, phase)
        assert figures["client_p99_ms"] == block["client"]["latency_ms"]["p99"]
        assert figures["error_rate"] == block["client"]["error_ratio"]


def test_summary_shows_the_cpu_stress_runs_figures() -> None:
    (path,) = [p for p in RECORDED if "saturating-the-cpu" in p.name][-1:]
    during = json.loads(path.read_text())["chaosext"]["slo"]["during"]["client"]
    markdown = render_markdown(load_runs([path]), Redactor())
    row = next(line for line in markdown.splitlines() if line.startswith("| [Saturating the CPU"))
    assert "n/a" not in row
    assert f"| {fmt_ms(during['latency_ms']['p99'])} |" in row


def test_summary_shows_what_the_abort_control_recorded_when_the_fault_window_has_no_figures(
    tmp_path: Path,
) -> None:
    """A run the abort control halts right after the fault starts has a fault window too short for
    phase figures (build_slo records an empty client and server block under 2 s); the worst p99 and
    5xx columns then show what the control measured when it fired, not n/a."""
    (path,) = [p for p in RECORDED if "trips-the-abort-criteria" in p.name]
    journal = json.loads(path.read_text())
    criteria = journal["chaosext"]["abort"]["figures"]["criteria"]
    start = journal["chaosext"]["slo"]["during"]["window"][0]
    journal["chaosext"]["slo"]["during"] = {"window": [start, start + 1.5], "client": {}, "server": {}}
    short = tmp_path / path.name
    short.write_text(json.dumps(journal))
    markdown = render_markdown(load_runs([short]), Redactor())
    row = next(line for line in markdown.splitlines() if line.startswith("| [A 3 s payment latency"))
    cells = [c.strip() for c in row.split(" | ")]
    assert cells[-2:] == [f"{criteria['checkout-p99']['value']:.0f} ms", "100% |"], row
    assert "the abort control measured (server side): p99 957 ms, 5xx 100%" in markdown
