"""Benchmark what `pip install chaosext-backend` costs a user, against chaostoolkit-kubernetes alone.

Builds the wheel from this checkout (``python -m build --wheel``, outside the checkout), then in
the same run installs into a fresh venv each: the chaosext core, chaosext with ``[report]``,
chaosext with ``[stack]``, and ``chaostoolkit-kubernetes`` alone (its version pinned by
constraints.txt, as chaosext's own dependencies are). For each: wall time of ``pip install``
(pip's download cache is used, as on a second install on a laptop or a CI runner with a cache),
the number of distributions installed, and the size on disk of site-packages. Also checks that
the core install holds no plotting library.

Usage: .venv/bin/python bench/install_size.py [--only core,kubernetes] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
CONSTRAINTS = REPO / "constraints.txt"
PLOTTING = ("matplotlib", "numpy", "pillow", "contourpy", "kiwisolver", "fonttools")
console = Console(width=120)


@dataclass(frozen=True)
class Result:
    name: str
    seconds: float
    distributions: list[str]
    size_bytes: int


def progress(message: str) -> None:
    console.print(f"[bold cyan]bench[/] {time.strftime('%H:%M:%S')} {message}", highlight=False)


def run(cmd: list[str], timeout: float = 900) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        console.print(proc.stdout + proc.stderr, markup=False)
        raise SystemExit(f"{' '.join(cmd[:3])} ... failed with exit code {proc.returncode}")
    return proc.stdout


def build_wheel(out: Path) -> Path:
    progress("building the wheel (python -m build --wheel)")
    run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(REPO)])
    wheels = sorted(out.glob("chaosext_backend-*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one wheel in {out}, found {[w.name for w in wheels]}")
    return wheels[0]


def tree_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def measure(name: str, requirement: str, base: Path) -> Result:
    venv = base / name
    run([sys.executable, "-m", "venv", str(venv)])
    pip = str(venv / "bin" / "pip")
    # the same pip for every case, so its own upgrade is not part of the timing
    run([pip, "install", "-q", "--upgrade", "pip"])
    site = next((venv / "lib").glob("python3.*/site-packages"))
    before = tree_size(site)
    progress(f"{name}: pip install {requirement}")
    start = time.monotonic()
    run([pip, "install", "-q", "-c", str(CONSTRAINTS), requirement])
    seconds = time.monotonic() - start
    listed = run([pip, "list", "--format=freeze", "--exclude", "pip"]).split()
    distributions = sorted(line.split("==")[0].lower() for line in listed)
    return Result(name, seconds, distributions, tree_size(site) - before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="comma-separated cases (core,report,stack,kubernetes); default all")
    parser.add_argument("--keep", type=Path, help="build the venvs in this folder and keep them")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="chaosext-install-size-"))
    base.mkdir(parents=True, exist_ok=True)
    try:
        wheel = build_wheel(base / "dist")
        kubernetes = next(
            line.strip() for line in CONSTRAINTS.read_text().splitlines() if line.startswith("chaostoolkit-kubernetes==")
        )
        cases = {
            "core": str(wheel),
            "report": f"{wheel}[report]",
            "stack": f"{wheel}[stack]",
            "kubernetes": kubernetes,
        }
        chosen = [c for c in args.only.split(",") if c] or list(cases)
        unknown = sorted(set(chosen) - set(cases))
        if unknown:
            raise SystemExit(f"--only: unknown case(s) {', '.join(unknown)}; known: {', '.join(cases)}")
        results = [measure(name, cases[name], base) for name in chosen]
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    reference = next((r for r in results if r.name == "kubernetes"), None)
    table = Table(title=f"pip install into a fresh venv (Python {sys.version.split()[0]}, pip cache warm)")
    for column in ("install", "packages", "size on disk", "time", "size / kubernetes"):
        table.add_column(column, justify="right" if column != "install" else "left", no_wrap=True)
    for r in results:
        ratio = f"{r.size_bytes / reference.size_bytes:.2f}" if reference else "-"
        labels = {"core": "chaosext-backend", "kubernetes": "chaostoolkit-kubernetes alone"}
        label = labels.get(r.name, f"chaosext-backend[{r.name}]")
        table.add_row(escape(label), str(len(r.distributions)), f"{r.size_bytes / 2**20:.1f} MiB", f"{r.seconds:.1f} s", ratio)
    console.print(table)
    core = next((r for r in results if r.name == "core"), None)
    if core is not None:
        plotting = sorted(set(core.distributions) & set(PLOTTING))
        if plotting:
            raise SystemExit(f"the core install holds plotting libraries: {', '.join(plotting)}")
        console.print("core install: no plotting library (" + ", ".join(PLOTTING) + ")")
        if reference:
            extra = sorted(set(core.distributions) - set(reference.distributions))
            console.print(f"the core adds to chaostoolkit-kubernetes: {', '.join(extra)}", highlight=False)


if __name__ == "__main__":
    main()
