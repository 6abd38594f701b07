"""The GitHub job summary of a chaos run: verdict, gate table, then the experiment log.

Reads ``<run-dir>/gate.md`` (``chaosext gate --markdown``: a native Markdown table; the text output
``gate.txt`` when there is no Markdown, e.g. the gate never ran) and
``<run-dir>/report/experiment-log.md`` (``chaosext report``) and prints Markdown. The job summary
cannot show files of the run, so each timeline image becomes a note naming the PNG in the
artifact. Kept under GitHub's 1 MiB limit.

Usage: python cluster/ci/summary.py --run-dir DIR --verdict pass|fail|error [--artifact NAME]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

VERDICTS = {
    "pass": "PASS: every experiment held its steady state",
    "fail": "FAIL: at least one experiment breached its steady state or SLO",
    "error": (
        "ERROR: the experiments could not be judged (a tool missing or a control endpoint unreachable,"
        " an experiment timed out or wrote no journal, or a set-up step failed)"
    ),
}
MAX_BYTES = 900 * 1024
_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")


def summary(run_dir: Path, verdict: str, artifact: str | None) -> str:
    parts = [f"## chaosext: {VERDICTS[verdict]}", ""]
    if artifact:
        parts += [
            f"Journals, experiment log, timelines, JUnit XML and cluster logs: artifact `{artifact}`.",
            "",
        ]
    gate_md, gate_txt = run_dir / "gate.md", run_dir / "gate.txt"
    if gate_md.is_file() and gate_md.read_text(encoding="utf-8", errors="replace").strip():
        parts += ["### SLO gate", "", gate_md.read_text(encoding="utf-8", errors="replace").strip(), ""]
    elif gate_txt.is_file():
        lines = gate_txt.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        parts += ["### SLO gate", "", *(f"> {line}" for line in lines), ""]
    log = run_dir / "report" / "experiment-log.md"
    if log.is_file():
        text = log.read_text(encoding="utf-8", errors="replace")
        where = f" in the artifact `{artifact}`" if artifact else ""
        text = _IMAGE.sub(lambda m: f"_(timeline `report/{m.group(2)}`{where})_", text)
        parts += [text.rstrip(), ""]
    else:
        parts += ["_No experiment log: no journal was written._", ""]
    out = "\n".join(parts)
    if len(out.encode()) > MAX_BYTES:
        cut = out.encode()[:MAX_BYTES].decode(errors="ignore")
        out = cut + "\n\n_(truncated: the full log is in the artifact)_\n"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Markdown job summary of a chaos run.")
    parser.add_argument(
        "--run-dir", type=Path, required=True, help="the run's folder (journals, gate.txt, report/)"
    )
    parser.add_argument("--verdict", required=True, help="pass, fail or error")
    parser.add_argument("--artifact", default=None, help="name of the uploaded artifact")
    args = parser.parse_args(argv)
    if args.verdict not in VERDICTS:
        parser.error(f"--verdict must be one of {', '.join(VERDICTS)}, got {args.verdict!r}")
    if not args.run_dir.is_dir():
        parser.error(f"--run-dir: {args.run_dir} is not a folder")
    sys.stdout.write(summary(args.run_dir, args.verdict, args.artifact))
    return 0


if __name__ == "__main__":
    sys.exit(main())
