"""Benchmark the local stack: `chaosext stack up` from installed-but-down to ready, and its memory.

Runs `chaosext stack down` (untimed), then times `chaosext stack up` until every component is
healthy, ``--runs`` times (default 3); then measures the resident memory (RSS, with children) of
every stack process by component and prints both tables. The target: ready in under 60 s on a
2-core machine. ``--fresh`` wipes the stack's state dir before each run (first-start cost: TLS,
Kafka storage format); ``--keep`` leaves the stack up at the end.

Usage: .venv/bin/python bench/stack_up.py [--runs 3] [--fresh] [--keep]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil
from rich.console import Console
from rich.table import Table

from chaosext.stack import lifecycle, procs
from chaosext.stack.config import StackConfig, load_config

CHAOSEXT = str(Path(sys.executable).parent / "chaosext")
TARGET_S = 60.0
console = Console()


def progress(message: str) -> None:
    console.print(f"[bold cyan]bench[/] {time.strftime('%H:%M:%S')} {message}", highlight=False)


def run_cli(*args: str, timeout: float) -> None:
    proc = subprocess.run([CHAOSEXT, "stack", *args], capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        console.print(proc.stdout + proc.stderr)
        raise SystemExit(f"`chaosext stack {' '.join(args)}` failed with exit code {proc.returncode}")


def time_up(config: StackConfig, run: int, fresh: bool) -> float:
    progress(f"run {run}: stack down (untimed)")
    run_cli("down", timeout=300)
    if fresh and config.state.exists():
        shutil.rmtree(config.state)
        progress(f"run {run}: wiped {config.state}")
    progress(f"run {run}: stack up ...")
    start = time.monotonic()
    run_cli("up", timeout=600)
    elapsed = time.monotonic() - start
    progress(f"run {run}: ready in {elapsed:.1f}s")
    return elapsed


def memory_by_component(config: StackConfig) -> dict[str, int]:
    report = lifecycle.status(config)
    usage: dict[str, int] = {}
    for component in report["components"]:
        pid = component["pid"]
        if not pid:
            continue
        try:
            usage[component["name"]] = procs.rss_bytes(psutil.Process(pid))
        except psutil.NoSuchProcess:
            continue
    sup_pid = report["supervisor"]["pid"]
    if sup_pid:
        with contextlib.suppress(psutil.NoSuchProcess):
            usage["supervisord"] = psutil.Process(sup_pid).memory_info().rss
    return usage


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="how many timed `stack up` runs (default 3)")
    parser.add_argument("--fresh", action="store_true", help="wipe the stack's state dir before each run")
    parser.add_argument("--keep", action="store_true", help="leave the stack up at the end")
    args = parser.parse_args(argv)
    if not 1 <= args.runs <= 20:
        parser.error(f"--runs must be between 1 and 20, got {args.runs}")
    config = load_config()
    times = [time_up(config, run, args.fresh) for run in range(1, args.runs + 1)]

    memory = memory_by_component(config)
    groups: dict[str, int] = {}
    for name, rss in memory.items():
        group = name.rstrip("0123456789").rstrip("-") or name
        groups[group] = groups.get(group, 0) + rss

    console.print(f"stack up: installed-but-down to ready ({'fresh' if args.fresh else 'warm'} state)")
    timing = Table()
    timing.add_column("run")
    timing.add_column("seconds", justify="right")
    for i, seconds in enumerate(times, start=1):
        timing.add_row(str(i), f"{seconds:.1f}")
    timing.add_row("median", f"{statistics.median(times):.1f}")
    timing.add_row("max", f"{max(times):.1f}")
    console.print(timing)

    console.print("resident memory (RSS, children included) by component")
    mem = Table()
    mem.add_column("component")
    mem.add_column("processes", justify="right")
    mem.add_column("MiB", justify="right")
    for group, rss in sorted(groups.items(), key=lambda item: -item[1]):
        count = sum(1 for name in memory if (name.rstrip("0123456789").rstrip("-") or name) == group)
        mem.add_row(group, str(count), f"{rss / 2**20:.0f}")
    mem.add_row("total", str(len(memory)), f"{sum(memory.values()) / 2**20:.0f}")
    console.print(mem)

    verdict = max(times) < TARGET_S
    console.print(
        f"target: ready in under {TARGET_S:.0f}s -> "
        + ("[green]met[/]" if verdict else "[red]missed[/]")
        + f" (max {max(times):.1f}s)"
    )
    if not args.keep:
        progress("stack down")
        run_cli("down", timeout=300)
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
