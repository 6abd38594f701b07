"""Check the sample stack's steady state before any experiment runs (the workflow's gate-keeper step).

On the target named by the var file (``local``: the local stack's endpoints from its own
configuration; ``kubernetes``: the URLs in the var file), every check must pass before the deadline:

* checkout answers ``GET /readyz`` with 200;
* a checkout is paid end to end: ``POST /api/checkout`` answers 201 with status ``paid`` (checkout
  reached payment through Toxiproxy and published the order event), so a broken payment path
  fails here and not in the first experiment;
* Toxiproxy has the proxies ``payment`` and ``capture``, enabled and without toxics;
* Prometheus scrapes checkout-api, payment-service and order-consumer, and every target is up.

Exit 0 when all pass, 1 when a check still fails at the deadline (each failure named), 2 on bad
arguments. Prints one progress line per check and attempt.

Usage: python cluster/ci/steady_state.py --var-file FILE [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from varfile import VarFileError, load_configuration

JOBS = ("checkout-api", "payment-service", "order-consumer")
PROXIES = ("payment", "capture")
Check = Callable[[], str]  # returns a one-line success detail, raises CheckFailed


class CheckFailed(Exception):
    """A steady-state check that does not hold (yet)."""


@dataclass(frozen=True)
class Endpoints:
    checkout: str
    toxiproxy: str
    prometheus: str


def endpoints_for(config: dict[str, Any]) -> Endpoints:
    if config.get("target", "local") == "local":
        from chaosext.stack.config import load_config

        ep = load_config().endpoints()
        return Endpoints(ep["checkout"], ep["toxiproxy"], ep["prometheus"])
    missing = [k for k in ("checkout_url", "toxiproxy_url", "prometheus_url") if not config.get(k)]
    if missing:
        raise VarFileError(
            f"--var-file: the kubernetes target needs {', '.join(missing)} in its configuration"
        )
    return Endpoints(str(config["checkout_url"]), str(config["toxiproxy_url"]), str(config["prometheus_url"]))


def _get(url: str, timeout: float = 3.0) -> requests.Response:
    try:
        return requests.get(url, timeout=timeout)
    except requests.RequestException as exc:
        raise CheckFailed(f"GET {url}: {type(exc).__name__}") from None


def check_checkout(ep: Endpoints) -> str:
    url = ep.checkout.rstrip("/") + "/readyz"
    resp = _get(url)
    if resp.status_code != 200:
        raise CheckFailed(f"GET {url} answered {resp.status_code}, want 200")
    return f"GET {url} 200"


def check_charge(ep: Endpoints) -> str:
    url = ep.checkout.rstrip("/") + "/api/checkout"
    order_id = f"steady-state-{uuid.uuid4().hex[:12]}"  # a new order each attempt: never a replay
    order = {"order_id": order_id, "amount": 1.0, "currency": "EUR"}
    try:
        resp = requests.post(url, json=order, headers={"X-Correlation-ID": order_id}, timeout=10.0)
    except requests.RequestException as exc:
        raise CheckFailed(f"POST {url}: {type(exc).__name__}") from None
    try:
        body = resp.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    if resp.status_code != 201 or body.get("status") != "paid":
        reason = body.get("error") or body.get("status") or resp.text[:120]
        raise CheckFailed(f"POST {url} answered {resp.status_code} ({reason}), want 201 paid")
    return f"POST {url} 201 paid (order {order_id})"


def check_toxiproxy(ep: Endpoints) -> str:
    url = ep.toxiproxy.rstrip("/") + "/proxies"
    resp = _get(url)
    if resp.status_code != 200:
        raise CheckFailed(f"GET {url} answered {resp.status_code}")
    proxies = resp.json()
    problems = []
    for name in PROXIES:
        proxy = proxies.get(name)
        if proxy is None:
            problems.append(f"proxy {name!r} missing")
        elif not proxy.get("enabled", False):
            problems.append(f"proxy {name!r} disabled")
        elif proxy.get("toxics"):
            problems.append(f"proxy {name!r} has toxics {[t.get('name') for t in proxy['toxics']]}")
    if problems:
        raise CheckFailed("; ".join(problems))
    return f"proxies {', '.join(PROXIES)} enabled, no toxics"


def check_prometheus(ep: Endpoints) -> str:
    url = ep.prometheus.rstrip("/") + "/api/v1/query"
    try:
        resp = requests.get(url, params={"query": "up"}, timeout=3.0)
    except requests.RequestException as exc:
        raise CheckFailed(f"GET {url}: {type(exc).__name__}") from None
    if resp.status_code != 200:
        raise CheckFailed(f"GET {url} answered {resp.status_code}")
    series = resp.json().get("data", {}).get("result", [])
    problems, seen = [], []
    for job in JOBS:
        values = [float(s["value"][1]) for s in series if s.get("metric", {}).get("job") == job]
        if not values:
            problems.append(f"no {job} target")
        elif min(values) < 1:
            problems.append(f"{job}: {values.count(0.0)} of {len(values)} targets down")
        else:
            seen.append(f"{job} x{len(values)}")
    if problems:
        raise CheckFailed("; ".join(problems))
    return "up: " + ", ".join(seen)


def run(checks: dict[str, Check], timeout: float, interval: float = 2.0) -> dict[str, str | None]:
    """Poll every failing check until all pass or the deadline; returns name -> failure (None = ok)."""
    deadline = time.monotonic() + timeout
    failures: dict[str, str | None] = {name: "not checked" for name in checks}
    while True:
        for name, check in checks.items():
            if failures[name] is None:
                continue
            try:
                detail = check()
            except CheckFailed as exc:
                failures[name] = str(exc)
                print(f"  {name}: waiting: {exc}", flush=True)
            else:
                failures[name] = None
                print(f"  {name}: ok: {detail}", flush=True)
        if all(v is None for v in failures.values()) or time.monotonic() >= deadline:
            return failures
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check the sample stack's steady state.")
    parser.add_argument(
        "--var-file", type=Path, required=True, help="the target's var file (cluster/targets/*.yaml)"
    )
    parser.add_argument(
        "--timeout", type=float, default=180.0, help="seconds to wait for every check (default 180)"
    )
    args = parser.parse_args(argv)
    if not 0 < args.timeout <= 3600:
        parser.error(f"--timeout must be between 0 and 3600 seconds, got {args.timeout}")
    try:
        ep = endpoints_for(load_configuration(args.var_file))
    except VarFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"steady state: checkout {ep.checkout}, toxiproxy {ep.toxiproxy}, prometheus {ep.prometheus}",
        flush=True,
    )
    checks: dict[str, Check] = {
        "checkout": lambda: check_checkout(ep),
        "charge": lambda: check_charge(ep),
        "toxiproxy": lambda: check_toxiproxy(ep),
        "prometheus": lambda: check_prometheus(ep),
    }
    failures = run(checks, args.timeout)
    bad = {k: v for k, v in failures.items() if v is not None}
    if bad:
        for name, why in bad.items():
            print(f"steady state NOT met: {name}: {why}", file=sys.stderr)
        return 1
    print("steady state met: " + ", ".join(checks), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
