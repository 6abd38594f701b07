"""`chaosext kube up|down|status|build` (also `python -m chaosext.localkube ...`, used by the Makefile)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from chaosext.errors import ChaosextError

__all__ = ["app", "main"]

app = typer.Typer(
    help="A real Kubernetes control plane on 127.0.0.1 for tests (pods are simulated by KWOK: "
    "no container runs).",
    no_args_is_help=True,
    add_completion=False,
)

StateDir = Annotated[
    Path | None,
    typer.Option("--state-dir", help="Runtime state (pki, logs, pid files, etcd data). "
                 "Default: $CHAOSEXT_STATE_DIR/kube (~/.local/state/chaosext/kube)."),
]


def _progress(message: str) -> None:
    print(f"==> [kube {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@app.command()
def build(
    node: Annotated[bool, typer.Option("--node", help="Also build what a kind node image holds (kubelet, "
                                       "kubeadm, kubectl, kube-proxy, coredns, crictl, pause).")] = False,
) -> None:
    """Build the binaries into the cache ($CHAOSEXT_CACHE_DIR/kube/<version>); a no-op when built."""
    from chaosext.localkube.build import build as build_binaries

    build_binaries(_progress)
    if node:
        from chaosext.localkube.nodebuild import build_node

        print(f"NODE_BIN_DIR={build_node(_progress)}", flush=True)


@app.command()
def up(state_dir: StateDir = None) -> None:
    """Build if needed, start the control plane, print `KUBECONFIG=<path>` on its own line."""
    from chaosext.localkube.build import build as build_binaries
    from chaosext.localkube.controlplane import start

    build_binaries(_progress)
    kubeconfig = start(state_dir, _progress)
    print(f"KUBECONFIG={kubeconfig}", flush=True)


@app.command()
def down(state_dir: StateDir = None) -> None:
    """Stop every process of the control plane (verified: none is left)."""
    from chaosext.localkube.controlplane import stop

    stop(state_dir, _progress)


@app.command()
def status(
    state_dir: StateDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """Show which processes run and whether the API server is ready; exit 1 when not ready."""
    from chaosext.localkube.controlplane import status as get_status

    info = get_status(state_dir)
    if as_json:
        print(json.dumps(info, indent=2))
    else:
        for name, pid in info["components"].items():
            print(f"{name:<24} {'running pid ' + str(pid) if pid else 'stopped'}")
        print(f"api server {info['server']}: {'ready' if info['ready'] else 'not ready'}")
        if info["ready"]:
            print(f"KUBECONFIG={info['kubeconfig']}")
    if not info["ready"]:
        raise typer.Exit(1)


def main() -> None:
    try:
        app()
    except ChaosextError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
