"""Benchmark the fault families on the real local stack (issue 4).

For each family: activation latency (the action is called -> a client observes the fault),
recovery latency (the rollback is called -> the client-side steady state is back), and the wall
time of the chaosext activity against the same fault done by bare Chaos Toolkit providers
(chaostoolkit-toxiproxy, chaoslib ``process`` / ``http`` providers) in the same run; every activity
of both sides goes through chaoslib's ``run_activity``, so both pay the same chaoslib cost, and the
ratio is what chaosext adds (validation, guardrails, marker file, starting the state directory's
reaper when none runs). A family's deliberate waits for its effect (``engine.deliberate_wait``: a
certificate served everywhere, a rollout seen stalled) are reported in their own column and left
out of the ratio. Clients poll every 15 ms (a new check is sent every
interval even while earlier ones are still waiting, so a delayed answer never hides the change);
a latency is measured to the send time of the first check that saw the new state.

Run (the stack must be up; CHAOSEXT_PORT_OFFSET / CHAOSEXT_STATE_DIR pick which one):

    .venv/bin/python bench/faults.py [--runs 5] [--families dependency,dns,...] [--markdown] [--json FILE]

Progress goes to stderr; the table to stdout (Markdown with --markdown). At the end every fault
chaosext or the bench made is removed (``chaosext cleanup --no-kube`` and the bare sides' restore).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import logzero
from chaoslib.activity import run_activity
from faults_cases import Activity, Case, Side, build_cases
from faults_observe import first_true
from rich.console import Console
from rich.table import Table

from chaosext.faults import engine
from chaosext.stack import lifecycle
from chaosext.stack.config import StackConfig, load_config

FAMILIES = ("dependency", "dns", "certificate", "kafka", "instance", "config", "rollout", "stress")
CHAOSEXT = str(Path(sys.executable).parent / "chaosext")
err = Console(stderr=True, width=200)


def progress(message: str) -> None:
    err.print(f"[bold cyan]bench[/] {time.strftime('%H:%M:%S')} {message}", highlight=False)


class Failed(Exception):
    pass


def timed_activity(activity: Activity, configuration: dict[str, Any]) -> float:
    """Wall time (ms) of one activity run through chaoslib's runner; raises when it fails."""
    start = time.perf_counter()
    run_activity(activity, configuration, {})
    return (time.perf_counter() - start) * 1000


def observe_while(check_timeout: float, check: Any, activity: Activity,
                  configuration: dict[str, Any]) -> tuple[float, float]:
    """Run ``activity`` while a client watches for ``check``: (activity ms, ms from the call until
    the client saw it)."""
    seen: dict[str, float | None] = {}
    failed = threading.Event()  # the activity failed: stop watching
    watcher = threading.Thread(
        target=lambda: seen.update(at=first_true(check, timeout=check_timeout, stop=failed)))
    t0 = time.perf_counter()
    watcher.start()
    try:
        took = timed_activity(activity, configuration)
    except BaseException:
        failed.set()
        raise
    finally:
        watcher.join()
    if seen.get("at") is None:
        raise Failed(f"not observed by the client within {check_timeout:g}s after {activity['name']}")
    return took, ((seen["at"] or t0) - t0) * 1000


def wait_steady(case: Case, timeout: float) -> None:
    # drained: a precondition check still running would load what the timed activity then talks
    # to (the instance cases' check lists supervisord's programs while the chaosext side asks it)
    if first_true(case.before or case.steady, timeout=timeout, drain=True) is None:
        raise Failed(f"{case.name}: the steady state was not there within {timeout:g}s")


def cycle(case: Case, side: Side, configuration: dict[str, Any]) -> dict[str, float]:
    wait_steady(case, case.timeout)
    action, rollback = side.make()
    waited_before = engine.waited_s()
    took, activation = observe_while(case.timeout, case.faulty, action, configuration)
    waits_ms = (engine.waited_s() - waited_before) * 1000  # chaosext's deliberate waits (0 on the bare side)
    rollback_ms, recovery = observe_while(case.timeout, case.steady, rollback, configuration)
    return {"activity_ms": took, "waits_ms": waits_ms, "activation_ms": activation, "rollback_ms": rollback_ms,
            "recovery_ms": recovery}


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.9 * len(ordered) + 0.5) - 1))]


def summarise(case: Case, runs: list[dict[str, dict[str, float]]]) -> dict[str, Any]:
    def col(side: str, key: str) -> list[float]:
        return [r[side][key] for r in runs]

    cx = statistics.median(col("chaosext", "activity_ms"))
    waits = statistics.median(col("chaosext", "waits_ms"))
    own = statistics.median([a - w for a, w in zip(col("chaosext", "activity_ms"), col("chaosext", "waits_ms"),
                                                   strict=True)])
    bare = statistics.median(col("bare", "activity_ms"))
    return {
        "family": case.name,
        "runs": len(runs),
        "activation_median_ms": statistics.median(col("chaosext", "activation_ms")),
        "activation_p90_ms": p90(col("chaosext", "activation_ms")),
        "recovery_median_ms": statistics.median(col("chaosext", "recovery_ms")),
        "recovery_p90_ms": p90(col("chaosext", "recovery_ms")),
        "chaosext_ms": cx,
        "waits_ms": waits,
        "chaosext_own_ms": own,
        "bare_ms": bare,
        "ratio": own / bare if bare > 0 else float("nan"),
        "bare_activation_median_ms": statistics.median(col("bare", "activation_ms")),
        "bare_recovery_median_ms": statistics.median(col("bare", "recovery_ms")),
        "bare": case.bare_what,
        "note": case.note,
        "samples": runs,
    }


HEADERS = ["family", "activation median/p90 ms", "recovery median/p90 ms", "chaosext ms",
           "of which waits ms", "bare ms", "ratio"]


def row(s: dict[str, Any]) -> list[str]:
    return [s["family"], f"{s['activation_median_ms']:.0f} / {s['activation_p90_ms']:.0f}",
            f"{s['recovery_median_ms']:.0f} / {s['recovery_p90_ms']:.0f}", f"{s['chaosext_ms']:.1f}",
            f"{s['waits_ms']:.1f}", f"{s['bare_ms']:.1f}", f"{s['ratio']:.2f}"]


def markdown(summaries: list[dict[str, Any]], runs: int) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "|".join(["---"] + ["---:"] * (len(HEADERS) - 1)) + "|"]
    lines += ["| " + " | ".join(row(s)) + " |" for s in summaries]
    lines += ["", f"{runs} runs per family; median / p90. \"of which waits\": the chaosext activity's deliberate "
              "waits for its effect (engine.deliberate_wait: a certificate served everywhere, a rollout seen "
              "stalled...), which the bare side does not do; ratio = (chaosext - waits) / bare. Bare side and "
              "what each client checks:", ""]
    lines += [f"* **{s['family']}**: bare = {s['bare']}; {s['note']}" for s in summaries]
    return "\n".join(lines)


def print_table(summaries: list[dict[str, Any]], runs: int) -> None:
    table = Table(title=f"chaosext fault benchmark ({runs} runs, median / p90)")
    for i, h in enumerate(HEADERS):
        table.add_column(h, justify="left" if i == 0 else "right")
    for s in summaries:
        table.add_row(*row(s))
    Console(width=140).print(table)
    for s in summaries:
        print(f"  {s['family']}: bare = {s['bare']}; {s['note']}")


def cleanup(cases: list[Case]) -> None:
    for case in cases:
        try:
            case.restore()
        except Exception as exc:  # report and go on: the next restore may still be needed
            progress(f"restoring after {case.name} failed: {exc}")
    proc = subprocess.run([CHAOSEXT, "cleanup", "--no-kube"], capture_output=True, text=True, timeout=300)
    progress(f"chaosext cleanup --no-kube: exit {proc.returncode} {proc.stdout.strip()[-300:]}")


def select(names: str | None) -> set[str]:
    if not names:
        return set(FAMILIES)
    chosen = {n.strip() for n in names.split(",") if n.strip()}
    unknown = chosen - set(FAMILIES)
    if unknown:
        raise SystemExit(f"--families: unknown {', '.join(sorted(unknown))} (known: {', '.join(FAMILIES)})")
    return chosen


def run_case(case: Case, runs: int, configuration: dict[str, Any]) -> dict[str, Any]:
    samples: list[dict[str, dict[str, float]]] = []
    for i in range(1, runs + 1):
        sample: dict[str, dict[str, float]] = {}
        order = ("chaosext", "bare") if i % 2 else ("bare", "chaosext")  # neither side always goes first
        for side in order:
            sample[side] = cycle(case, getattr(case, side), configuration)
        samples.append(sample)
        cx, bare = sample["chaosext"], sample["bare"]
        progress(f"{case.name} run {i}/{runs}: activation {cx['activation_ms']:.0f} ms, recovery "
                 f"{cx['recovery_ms']:.0f} ms, activity chaosext {cx['activity_ms']:.1f} ms / bare "
                 f"{bare['activity_ms']:.1f} ms")
    return summarise(case, samples)


def check_stack(config: StackConfig) -> None:
    report = lifecycle.status(config)
    if not report.get("healthy"):
        bad = [c["name"] for c in report.get("components", []) if not c.get("healthy")]
        raise SystemExit(f"the local stack in {config.state} is not healthy ({', '.join(bad) or 'down'}); "
                         "run `chaosext stack up` first")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="repetitions per family and side (default 5)")
    parser.add_argument("--families", help=f"comma-separated subset of {','.join(FAMILIES)}")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--json", type=Path, help="also write every sample and summary to this file")
    args = parser.parse_args(argv)
    if args.runs < 1:
        raise SystemExit(f"--runs must be at least 1, got {args.runs}")
    wanted = select(args.families)
    logzero.loglevel(logging.WARNING)  # chaostoolkit-toxiproxy logs every call at DEBUG
    config = load_config()
    check_stack(config)
    configuration = {"toxiproxy_host": config.host, "toxiproxy_port": config.ports.toxiproxy_api}
    cases = [c for c in build_cases(config) if c.family in wanted]
    progress(f"{len(cases)} faults x {args.runs} runs x 2 sides on the stack in {config.state}")
    started = time.monotonic()
    summaries: list[dict[str, Any]] = []
    try:
        for case in cases:
            progress(f"{case.name}: starting")
            try:
                summaries.append(run_case(case, args.runs, configuration))
            except Exception as exc:  # one family failing must not stop the others
                progress(f"[red]{case.name} failed: {exc}[/]")
                engine.undo_matching(case.family)
                case.restore()
    finally:
        cleanup(cases)
    progress(f"done in {time.monotonic() - started:.0f}s")
    if args.json:
        args.json.write_text(json.dumps(summaries, indent=2))
    if args.markdown:
        print(markdown(summaries, args.runs))
    else:
        print_table(summaries, args.runs)
    return 0 if len(summaries) == len(cases) else 1


if __name__ == "__main__":
    sys.exit(main())
