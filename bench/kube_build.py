"""Measure the local Kubernetes control plane: build time (cached or not), cold start, no-op `up`, stop.

Run: .venv/bin/python bench/kube_build.py [--state-dir DIR]
Prints progress on stderr and one JSON object on stdout. The first build's own wall time is read
from the cache's build-info.json (it is only measured when the build really happens).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from chaosext.localkube import controlplane
from chaosext.localkube.build import STAMP, build
from chaosext.localkube.paths import bin_dir


def _progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _timed(step: Callable[[], object]) -> float:
    started = time.monotonic()
    step()
    return round(time.monotonic() - started, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state-dir", type=Path, default=None,
                        help="state dir for the measured control plane (default: a temporary dir)")
    args = parser.parse_args()
    state_dir: Path = args.state_dir or Path(tempfile.mkdtemp(prefix="chaosext-kube-bench-"))
    if controlplane.status(state_dir)["running"]:
        parser.error(f"--state-dir {state_dir}: a control plane is already running there; stop it first")
    results: dict[str, object] = {"state_dir": str(state_dir)}
    results["build_call_s"] = _timed(lambda: build(_progress))
    info = json.loads((bin_dir() / STAMP).read_text())
    results["first_build_s"] = info["build_seconds"]
    results["versions"] = info["versions"]
    try:
        results["cold_start_s"] = _timed(lambda: controlplane.start(state_dir, _progress))
        results["second_up_s"] = _timed(lambda: controlplane.start(state_dir, _progress))
    finally:
        results["stop_s"] = _timed(lambda: controlplane.stop(state_dir, _progress))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
