"""Helpers for the CI-bundle tests: run the repository's scripts and tools as the workflow does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from chaosext.common.settings import cache_root

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
WORKFLOWS = REPO / ".github" / "workflows"
ACTIONS = REPO / ".github" / "actions"
VENV_BIN = Path(sys.executable).parent


def actionlint() -> str | None:
    built = cache_root() / "bin" / "actionlint"
    return str(built) if built.exists() else shutil.which("actionlint")


def run(
    args: list[str],
    env: dict[str, str] | None = None,
    cwd: Path = REPO,
    timeout: float = 600,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command with the venv first on PATH; output captured as text."""
    full_env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}", **(env or {})}
    for key in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_PATH"):
        if env is None or key not in env:
            full_env.pop(key, None)
    return subprocess.run(
        args, capture_output=True, text=True, env=full_env, cwd=cwd, timeout=timeout, input=stdin
    )


def script(
    name: str, *args: str, env: dict[str, str] | None = None, cwd: Path = REPO, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return run(["bash", str(SCRIPTS / name), *args], env=env, cwd=cwd, timeout=timeout)


def shown(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def workflow_on(doc: dict[Any, Any]) -> Any:
    """A workflow's ``on:`` block (YAML 1.1 reads the key ``on`` as True)."""
    return doc.get("on", doc.get(True))


def render(kustomization_dir: Path) -> list[dict[str, Any]]:
    proc = run(["kubectl", "kustomize", str(kustomization_dir)])
    assert proc.returncode == 0, shown(proc)
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml"))


def action_files() -> list[Path]:
    return sorted(ACTIONS.glob("*/action.yml"))
