"""The report reads the journals real runs recorded (journals/), not only the shapes the evidence
tests write: the abort control records ``slo.<phase>.client.latency_ms.p99`` and the summary's
"worst p99 / worst 5xx" columns once showed n/a for every real run because of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chaosext.evidence.figures import phase_figures
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
    assert "n/a" not in row and f"{during['latency_ms']['p99']:.1f} ms" in row
