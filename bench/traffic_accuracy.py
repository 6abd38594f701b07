"""How accurate and how fast the load generator (Vegeta) is, on the local stack.

Run (the stack must be up; it uses CHAOSEXT_PORT_OFFSET / CHAOSEXT_STATE_DIR like everything else):

    .venv/bin/python bench/traffic_accuracy.py [--json out.json] [--seconds 20]

Measures, and prints as a table:
1. offered-rate accuracy at 200 req/s while a 3 s latency toxic is on, (a) on a Toxiproxy path in
   front of the checkout frontend (every answer takes 3 s: ~600 requests in flight; the open model
   must not slow down) and (b) on the payment dependency (POST /api/checkout); target within 2 %;
2. measured-latency error against the injected latency (client p50 with the toxic minus the p50
   without it, against 3000 ms and 200 ms injected); target within 5 %;
3. the highest sustainable rate on this machine (constant rate held within 2 %, >= 99.9 % success,
   p99 < 1 s) and Vegeta's closed-loop maximum, against wrk (Debian) on the same endpoint
   (GET /api/catalog through HAProxy), as ratios.
Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from chaosext.dependency import actions as dependency
from chaosext.stack.config import load_config
from chaosext.traffic import stats, vegeta
from chaosext.traffic.install import install_traffic_tools
from chaosext.traffic.targets import write_targets

TMP = Path(tempfile.mkdtemp(prefix="chaosext-traffic-bench-"))
WRK_THREADS = 2
WRK_CONNECTIONS = 64


def _progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def attack(
    name: str,
    base_url: str,
    scenario: str,
    rate: float,
    seconds: float,
    max_workers: int = 10_000,
    timeout_s: float = 30,
) -> dict[str, Any]:
    """One foreground Vegeta attack; its client-side summary."""
    targets, results = TMP / f"{name}.targets", TMP / f"{name}.bin"
    write_targets(targets, scenario, base_url, f"bench-{name}-{int(time.time())}", int(rate * seconds) + 1)
    cmd = vegeta.attack_command(targets, results, rate, seconds, timeout_s, max_workers)
    subprocess.run(cmd, check=True, timeout=seconds + timeout_s + 60, stdout=subprocess.DEVNULL)
    summary = stats.summarize(vegeta.read_results(results))
    results.unlink(missing_ok=True)
    _progress(
        f"{name}: {rate:g}/s for {seconds:g}s -> {summary['requests']} requests, "
        f"offered {summary['offered_rate']}/s, outcomes {summary['outcomes']}, "
        f"latency {summary['latency_ms']}"
    )
    return summary


def max_attack(base_url: str, seconds: float, workers: int) -> float:
    """Vegeta's closed-loop maximum: rate 0 (as fast as possible) with ``workers`` workers."""
    targets, results = TMP / "max.targets", TMP / "max.bin"
    write_targets(targets, "catalog", base_url, "max", 1)
    cmd = [
        vegeta.binary(),
        "attack",
        "-format=json",
        f"-targets={targets}",
        f"-output={results}",
        "-rate=0",
        f"-duration={seconds:g}s",
        f"-workers={workers}",
        f"-max-workers={workers}",
        "-max-body=0",
        "-http2=false",
    ]
    subprocess.run(cmd, check=True, timeout=seconds + 60, stdout=subprocess.DEVNULL)
    report = subprocess.run(
        [vegeta.binary(), "report", "-type=json", str(results)], check=True, capture_output=True, text=True
    ).stdout
    results.unlink(missing_ok=True)
    doc = json.loads(report)
    return float(doc["throughput"])


def wrk_rate(url: str, seconds: float) -> float:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    out = subprocess.run(
        [wrk, f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{int(seconds)}s", url],
        check=True,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if match is None:
        raise SystemExit(f"cannot read wrk's output:\n{out}")
    _progress(
        f"wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS}: {match.group(1)} req/s"
        + (f", {errors.group(1)} non-2xx" if errors else "")
    )
    return float(match.group(1))


@contextmanager
def toxic_path(toxiproxy: str, upstream: str, latency_ms: int) -> Iterator[str]:
    """A temporary Toxiproxy proxy in front of ``upstream`` with a latency toxic; yields its URL."""
    name, port = f"bench-{int(time.time())}", _free_port()
    requests.post(
        f"{toxiproxy}/proxies",
        json={"name": name, "listen": f"127.0.0.1:{port}", "upstream": upstream, "enabled": True},
        timeout=5,
    ).raise_for_status()
    try:
        if latency_ms:
            requests.post(
                f"{toxiproxy}/proxies/{name}/toxics",
                timeout=5,
                json={
                    "name": "latency",
                    "type": "latency",
                    "stream": "downstream",
                    "toxicity": 1.0,
                    "attributes": {"latency": latency_ms, "jitter": 0},
                },
            ).raise_for_status()
        yield f"http://127.0.0.1:{port}"
    finally:
        requests.delete(f"{toxiproxy}/proxies/{name}", timeout=5)


def sustainable_rate(base_url: str, seconds: float, start: float) -> tuple[float, list[dict[str, Any]]]:
    """Raise the constant rate by 25 % until it is no longer held, then bisect twice."""
    trials: list[dict[str, Any]] = []

    def held(rate: float) -> bool:
        s = attack(f"sustain-{int(rate)}", base_url, "catalog", rate, seconds, timeout_s=5)
        ok = s["outcomes"].get("ok", 0) / max(1, s["requests"])
        good = (
            s["offered_rate"] is not None
            and abs(s["offered_rate"] - rate) / rate <= 0.02
            and ok >= 0.999
            and (s["latency_ms"]["p99"] or 1e9) < 1000
        )
        trials.append(
            {
                "rate": rate,
                "held": good,
                "offered": s["offered_rate"],
                "ok_ratio": round(ok, 5),
                "p99_ms": s["latency_ms"]["p99"],
            }
        )
        return good

    if held(start):
        low, high = float(start), float(round(start * 1.25))
        while high <= 20_000 and held(high):
            low, high = high, float(round(high * 1.25))
    else:
        low, high = float(round(start / 2)), float(start)
        while low >= 25 and not held(low):
            low, high = float(round(low / 2)), low
        if low < 25:
            return 0.0, trials
    for _ in range(2):
        mid = float(round((low + high) / 2))
        if held(mid):
            low = mid
        else:
            high = mid
    return low, trials


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--seconds", type=float, default=20, help="length of each accuracy attack (default 20)"
    )
    parser.add_argument(
        "--max-seconds", type=float, default=8, help="length of each max-rate trial (default 8)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="wrk / vegeta max-rate rounds, median kept")
    args = parser.parse_args()
    if args.seconds < 5 or args.max_seconds < 3 or args.rounds < 1:
        parser.error("--seconds must be at least 5, --max-seconds at least 3 and --rounds at least 1")
    install_traffic_tools(_progress)
    cfg = load_config()
    ep = cfg.endpoints()
    checkout, toxiproxy = ep["checkout"], ep["toxiproxy"]
    try:
        requests.get(f"{checkout}/api/catalog", timeout=5).raise_for_status()
    except requests.RequestException as exc:
        raise SystemExit(
            f"the stack's checkout frontend {checkout} does not answer ({exc}); run `chaosext stack up` first"
        ) from None
    upstream = f"{cfg.host}:{cfg.ports.checkout}"
    rows: list[tuple[str, str, str, str]] = []
    figures: dict[str, Any] = {}

    _progress("1a. 200/s GET /api/catalog through a path with a 3000 ms latency toxic")
    with toxic_path(toxiproxy, upstream, 0) as url:
        base = attack("baseline-200", url, "catalog", 200, args.seconds)
    with toxic_path(toxiproxy, upstream, 3000) as url:
        slow = attack("toxic-3000", url, "catalog", 200, args.seconds)
    err = abs(slow["offered_rate"] - 200) / 200
    figures["rate_3s_toxic_frontend"] = {
        "target": 200,
        "offered": slow["offered_rate"],
        "error": err,
        "run": slow,
    }
    rows.append(
        (
            "offered rate, 3 s toxic in front of checkout",
            "200/s",
            f"{slow['offered_rate']:.2f}/s",
            f"{err:.3%} (target <= 2%)",
        )
    )

    _progress("1b. 200/s POST /api/checkout with a 3000 ms latency toxic on the payment dependency")
    fault = dependency.add_latency("payment", latency_ms=3000, duration=args.seconds + 60)
    try:
        dep = attack("payment-toxic-3000", checkout, "checkout", 200, args.seconds)
    finally:
        dependency.remove_dependency_faults("payment")
    err_dep = abs(dep["offered_rate"] - 200) / 200
    figures["rate_3s_toxic_payment"] = {
        "target": 200,
        "offered": dep["offered_rate"],
        "error": err_dep,
        "run": dep,
        "fault": fault["id"],
    }
    rows.append(
        (
            "offered rate, 3 s toxic on payment (checkout)",
            "200/s",
            f"{dep['offered_rate']:.2f}/s",
            f"{err_dep:.3%} (target <= 2%)",
        )
    )

    _progress("2. measured latency against injected latency")
    for injected, run, baseline in ((3000, slow, base), (200, None, None)):
        if run is None or baseline is None:
            with toxic_path(toxiproxy, upstream, 0) as url:
                baseline = attack("baseline-50", url, "catalog", 50, args.seconds)
            with toxic_path(toxiproxy, upstream, injected) as url:
                run = attack(f"toxic-{injected}", url, "catalog", 50, args.seconds)
        measured = run["latency_ms"]["p50"] - baseline["latency_ms"]["p50"]
        lat_err = abs(measured - injected) / injected
        figures[f"latency_{injected}ms"] = {
            "injected_ms": injected,
            "measured_ms": round(measured, 2),
            "error": lat_err,
            "baseline_p50_ms": baseline["latency_ms"]["p50"],
        }
        rows.append(
            (
                f"latency added by a {injected} ms toxic (p50 - baseline p50)",
                f"{injected} ms",
                f"{measured:.1f} ms",
                f"{lat_err:.3%} (target <= 5%)",
            )
        )

    _progress("3. highest sustainable rate, GET /api/catalog through HAProxy: vegeta vs wrk")
    # alternate the two tools a few times: other work on this 2-core machine moves the figures a lot
    wrk_runs, closed_runs = [], []
    for _ in range(args.rounds):
        wrk_runs.append(wrk_rate(f"{checkout}/api/catalog", args.max_seconds))
        closed_runs.append(max_attack(checkout, args.max_seconds, WRK_CONNECTIONS))
        _progress(f"vegeta -rate=0 -max-workers={WRK_CONNECTIONS}: {closed_runs[-1]:.1f} req/s")
    wrk, closed = statistics.median(wrk_runs), statistics.median(closed_runs)
    sustained, trials = sustainable_rate(checkout, args.max_seconds, start=max(100.0, round(wrk * 0.4, -1)))
    figures["max_rate"] = {
        "wrk": wrk,
        "wrk_runs": wrk_runs,
        "vegeta_closed_loop_runs": closed_runs,
        "vegeta_closed_loop": closed,
        "vegeta_sustained": sustained,
        "trials": trials,
        "wrk_connections": WRK_CONNECTIONS,
    }
    rows.append(
        (
            f"wrk max throughput (-c{WRK_CONNECTIONS}, median of {args.rounds})",
            "-",
            f"{wrk:.0f}/s",
            "1.00 (reference)",
        )
    )
    rows.append(
        (
            f"vegeta max throughput (-rate=0, {WRK_CONNECTIONS} workers, median)",
            "-",
            f"{closed:.0f}/s",
            f"{closed / wrk:.2f} x wrk",
        )
    )
    rows.append(
        ("vegeta highest sustained constant rate", "-", f"{sustained:.0f}/s", f"{sustained / wrk:.2f} x wrk")
    )

    width = [
        max(len(r[i]) for r in rows + [("measure", "target", "measured", "error / ratio")]) for i in range(4)
    ]
    header = ("measure", "target", "measured", "error / ratio")
    print(" | ".join(h.ljust(w) for h, w in zip(header, width, strict=True)))
    print("-+-".join("-" * w for w in width))
    for row in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(row, width, strict=True)))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
