"""`chaosext kind up|down`: the same scripts as `make kind-up` / `make kind-down`.

The kind path is a set of repository scripts (scripts/kind-*.sh calling the scripts/ci-*.sh that
the GitHub composite actions call), so that the workflow and this machine run the same steps.
These commands run them from the chaosext checkout they belong to; they need that checkout.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from chaosext.errors import ChaosextError

__all__ = ["app", "repository_script"]

app = typer.Typer(help="The sample stack on a kind cluster on this machine.", no_args_is_help=True,
                  add_completion=False)


def repository_script(name: str) -> Path:
    """scripts/<name> of the checkout chaosext is installed from (an editable install)."""
    root = Path(__file__).resolve().parents[2]
    script = root / "scripts" / name
    if not script.is_file():
        raise ChaosextError(
            f"{script} not found: `chaosext kind` runs the chaosext repository's scripts, so it needs "
            "chaosext installed from a checkout (pip install -e .); clone the repository and run "
            "`make kind-up` there"
        )
    return script


def _run(script: str, *args: str) -> None:
    code = subprocess.call(["bash", str(repository_script(script)), *args], env=dict(os.environ))
    if code:
        sys.exit(code)


@app.command()
def up(
    offline: Annotated[bool, typer.Option("--offline", help="Build the node image here even where "
                                          "kind's default image could be pulled.")] = False,
    timeout: Annotated[int, typer.Option("--timeout", min=1, help="Seconds to wait for the stack.")] = 900,
) -> None:
    """Docker engine, node image, kind cluster, the stack built, loaded, deployed and checked."""
    _run("kind-up.sh", *(["--offline"] if offline else []), "--timeout", str(timeout))


@app.command()
def down(
    keep_engine: Annotated[bool, typer.Option("--keep-engine", help="Leave dockerd running even "
                                              "if kind up started it.")] = False,
) -> None:
    """Delete the cluster; no container of it is left; the Docker engine is left as it was found."""
    _run("kind-down.sh", *(["--keep-engine"] if keep_engine else []))
