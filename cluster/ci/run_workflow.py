"""Run a reusable workflow's job here, step by step, as GitHub's runner would.

    python cluster/ci/run_workflow.py [--workflow .github/workflows/chaos.yml] [--job chaos]
        --input KEY=VALUE ... [--inputs-from-env NAMES] [--workspace DIR] [--evidence DIR]
        [--checkout worktree|head|link | --use-working-tree] [--plan]

Everything comes from the YAML when it runs: the workflow's ``on.workflow_call.inputs`` (types,
defaults, required), the job's ``env``, ``steps``, ``outputs`` and ``timeout-minutes``, and each
local composite action's ``action.yml`` (inputs, outputs, steps, nested ``uses:``), so this cannot
drift from what GitHub runs. Expressions are evaluated by gha_expr.py, written here because PyPI
has no maintained evaluator of the language: only tree-sitter grammars (parsers, no evaluation)
and wrappers around nektos/act (Go, Docker); the language is small enough for one module.

What the runner does, and so does this:

* ``run:`` steps through the step's shell (``shell: bash`` = ``bash --noprofile --norc -eo
  pipefail {0}``; no shell in a workflow step = ``bash -e {0}``; ``sh``, ``python`` and custom
  ``cmd {0}`` too), with ``env`` (workflow < job < GITHUB_ENV < the composite's ``uses`` step <
  step), ``working-directory`` and ``defaults.run``; ``if:`` with the implicit ``success() &&``;
  ``continue-on-error``; ``timeout-minutes`` of a step (SIGINT to its process group, SIGTERM 7.5 s
  later, SIGKILL 2.5 s after that) and of the job (then the job is cancelled: only steps whose
  condition calls always() or cancelled() still run, within 5 minutes). Ctrl-C cancels the same
  way; a second Ctrl-C stops at once.
* GITHUB_OUTPUT, GITHUB_ENV (``name=value`` and ``name<<DELIMITER``), GITHUB_PATH (prepended for
  later steps, the latest first) and GITHUB_STEP_SUMMARY: fresh files per step, read after it;
  GITHUB_ACTION_PATH inside composite actions; GITHUB_WORKSPACE, RUNNER_TEMP, CI=true,
  GITHUB_ACTIONS=true and the other GITHUB_*/RUNNER_* variables; ``::error::``, ``::warning::``,
  ``::notice::``, ``::group::``, ``::add-mask::`` in step output. Composite actions: inputs with
  defaults, their own ``steps`` context, success()/failure() about the action's own steps (the
  runner's action_status), outputs from their ``value:`` expressions.
* At the end, processes that a step left running (found by RUNNER_TRACKING_ID, as the runner
  finds them) are stopped, unless --keep-orphans.

Folders and environment: GITHUB_WORKSPACE is --workspace (new or empty; default a fresh folder in
TMPDIR), RUNNER_TEMP a fresh folder removed at the end (unless --keep-temp), artifacts go to
--evidence (new or empty; default beside the workspace). The steps get this process's
environment without GITHUB_*, RUNNER_*, INPUT_*, make's variables, VIRTUAL_ENV, CHAOSEXT_VENV and
the repository's own .venv on PATH: a runner has none of them, and they would hide a missing
install step.

Contexts: github (workspace, repository, sha = HEAD, run_id, run_attempt 1, job, action_path,
...), env, inputs, steps, runner (os Linux, temp), job (status, workflow_repository,
workflow_sha, ...), strategy (job-index 0 of 1), matrix (empty), secrets and vars (empty), needs.

Third-party actions, done locally:

* ``actions/checkout``: only this repository (``--repo``, named ``--repository``), which is what a
  local run is for: the caller's checkout and chaos.yml's ``.chaosext`` checkout both materialise
  it. ``--checkout worktree`` (the default) fetches HEAD with depth 1 into a fresh git repository
  (so ``git rev-parse HEAD`` works there, as after actions/checkout), then lays the working
  tree's uncommitted changes over it (changed and untracked files copied, deleted ones removed):
  a local run tests what you are about to commit, and the run's writes (the run folder, caches)
  stay out of the repository. ``--checkout head`` is exactly HEAD, what GitHub checks out at that
  commit. ``--checkout link`` (``--use-working-tree``) makes a checkout with a ``path:`` a symlink
  to the repository: edits made during the run are seen, but the steps then write into the
  repository and see its own ``.venv`` (a runner never has one), so it is not the default; the
  checkout into the workspace itself is a worktree copy in that mode (the workspace cannot be a
  link). A ``ref`` other than HEAD is fetched as it is, without local changes. The workflow file
  and the actions are read from the same place as the checkout's content (HEAD with --checkout
  head, the working tree otherwise), so a step never calls a script its checkout lacks.
* ``actions/setup-python``: the requested version's interpreter must be on PATH (python3.11 for
  "3.11"); a ``python``/``python3`` symlink to it goes first on PATH for the later steps.
* ``actions/upload-artifact``: ``path`` (lines, globs, ``!`` exclusions; one folder = its
  contents; hidden files left out unless include-hidden-files) copied into
  ``<evidence>/<name>/``; if-no-files-found warn/error/ignore; a name already uploaded fails
  unless overwrite.
* any other ``uses:`` (and a local action that is not composite) is an error naming it, found
  before anything runs.

Before running, the whole job is walked as --plan does (every step, also those whose condition
will be false, and every action they use): an unknown or missing input, an unsupported
``uses:``, a bad expression or a missing action is an error (exit 2) with nothing run.

Ends with the job outputs (``verdict=...``), ``evidence=<folder>`` (what upload-artifact got, one
folder per artifact) and exits 0 when the job succeeded, 1 when it failed or was cancelled, 2 on
bad arguments. ``--inputs-from-env NAMES`` reads inputs from environment variables (the input
``var-file`` from VAR_FILE), for make: ``make kind-ci EXPERIMENTS="a.json b.json"``.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import glob
import hashlib
import os
import posixpath
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

import gha_expr as gx
import yaml

SCRIPT_REPO = Path(__file__).resolve().parents[2]
DEFAULT_WORKFLOW = ".github/workflows/chaos.yml"
CONTEXTS = ("github", "env", "inputs", "steps", "runner", "job", "strategy", "matrix", "secrets", "vars", "needs")
# runner's cancellation of a step: SIGINT, SIGTERM 7.5 s later, SIGKILL 2.5 s after that
SIGINT_GRACE_S = 7.5
SIGTERM_GRACE_S = 2.5
# time the steps that run after a cancellation get, in all (GitHub's cancel-timeout-minutes)
CANCEL_BUDGET_S = 300.0
# how long to keep reading a step's output once its process has exited (background children)
DRAIN_S = 5.0
NAME_FORBIDDEN = re.compile(r'[":<>|*?\\/\r\n]')

USES_KINDS = {
    "checkout": re.compile(r"^actions/checkout@[\w.-]+$", re.IGNORECASE),
    "setup-python": re.compile(r"^actions/setup-python@[\w.-]+$", re.IGNORECASE),
    "upload-artifact": re.compile(r"^actions/upload-artifact@[\w.-]+$", re.IGNORECASE),
}


def classify_uses(uses: str) -> str | None:
    """What a ``uses:`` is to this runner: checkout, setup-python, upload-artifact, local, or
    None (not supported)."""
    text = uses.strip()
    if text.startswith("./"):
        return "local"
    for kind, pattern in USES_KINDS.items():
        if pattern.match(text):
            return kind
    return None


class UsageError(Exception):
    """Bad arguments or a workflow this runner cannot run: exit 2, nothing run."""


class StepFailed(Exception):
    """A step's own failure, with the message the runner would log."""


# --- YAML and inputs ---------------------------------------------------------------------------


def load_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
    return parse_yaml(text, str(path))


def parse_yaml(text: str, where: str) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"{where} is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise UsageError(f"{where} is not a YAML mapping")
    return doc


def committed_text(repo: Path, path: Path) -> str | None:
    """A file of ``repo`` as committed at HEAD (None when HEAD has no such file)."""
    try:
        rel = Path(os.path.realpath(path)).relative_to(Path(os.path.realpath(repo)))
    except ValueError:
        return None
    proc = subprocess.run(["git", "-C", str(repo), "show", f"HEAD:{rel.as_posix()}"], capture_output=True)
    return proc.stdout.decode("utf-8") if proc.returncode == 0 else None


def workflow_on(doc: Mapping[Any, Any]) -> Any:
    # YAML 1.1 reads the key `on` as True
    return doc.get("on", doc.get(True))


def env_name(input_name: str) -> str:
    """The environment variable --inputs-from-env reads an input from: var-file -> VAR_FILE."""
    return re.sub(r"[^A-Za-z0-9]", "_", input_name).upper()


def typed_input(name: str, spec: Mapping[str, Any], raw: Any) -> Any:
    kind = str(spec.get("type", "string"))
    if kind == "boolean":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "false"):
            return text == "true"
        raise UsageError(f"input {name} is a boolean: give true or false, not {raw!r}")
    if kind == "number":
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return raw
        number = gx.to_number(str(raw)) if str(raw).strip() else float("nan")
        if number != number:  # NaN
            raise UsageError(f"input {name} is a number, not {raw!r}")
        return int(number) if number.is_integer() else number
    if kind == "string":
        return "" if raw is None else gx.to_string(raw) if not isinstance(raw, str) else raw
    raise UsageError(f"input {name} has type {kind!r}, which workflow_call does not know (boolean, number, string)")


def resolve_inputs(declared: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, Any]:
    """The ``inputs`` context: every declared input, typed, defaults applied, in declared order."""
    by_fold = {name.casefold(): name for name in declared}
    unknown = [key for key in given if key.casefold() not in by_fold]
    if unknown:
        raise UsageError(
            f"unknown input(s): {', '.join(sorted(unknown))}; the workflow's inputs are: {', '.join(declared)}"
        )
    provided = {by_fold[key.casefold()]: value for key, value in given.items()}
    values: dict[str, Any] = {}
    missing: list[str] = []
    for name, spec in declared.items():
        spec = spec or {}
        if name in provided:
            values[name] = typed_input(name, spec, provided[name])
        elif spec.get("required"):
            missing.append(name)
        elif "default" in spec:
            values[name] = typed_input(name, spec, spec["default"])
        else:
            values[name] = {"boolean": False, "number": 0}.get(str(spec.get("type", "string")), "")
    if missing:
        how = ", ".join(f"--input {name}=VALUE or {env_name(name)}=VALUE for make" for name in missing)
        raise UsageError(f"missing required input(s): {', '.join(missing)} (give {how})")
    return values


# --- file commands -----------------------------------------------------------------------------


def parse_file_command(text: str, what: str) -> list[tuple[str, str]]:
    """``name=value`` and ``name<<DELIMITER`` ... ``DELIMITER`` lines, as the runner reads
    GITHUB_OUTPUT and GITHUB_ENV."""
    pairs: list[tuple[str, str]] = []
    lines = text.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if line == "":
            continue
        equals = line.find("=")
        heredoc = line.find("<<")
        if equals >= 0 and (heredoc < 0 or equals < heredoc):
            name, value = line[:equals], line[equals + 1 :]
        elif heredoc >= 0:
            name, delimiter = line[:heredoc], line[heredoc + 2 :]
            if not delimiter:
                raise StepFailed(f"{what}: empty delimiter in line {line!r}")
            body: list[str] = []
            while i < len(lines) and lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                raise StepFailed(f"{what}: matching delimiter not found: {delimiter!r}")
            i += 1
            value = "\n".join(body)
        else:
            raise StepFailed(f"{what}: invalid format {line!r}")
        if not name:
            raise StepFailed(f"{what}: a line without a name: {line!r}")
        pairs.append((name, value))
    return pairs


# --- git ---------------------------------------------------------------------------------------


def git(repo: Path, *args: str, check: bool = True) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["GIT_TERMINAL_PROMPT"] = "0"
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env)
    if check and proc.returncode != 0:
        raise StepFailed(f"git {' '.join(args)} failed in {repo}: {proc.stderr.strip()}")
    return proc.stdout


def git_bytes(repo: Path, *args: str) -> bytes:
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True)
    if proc.returncode != 0:
        raise StepFailed(f"git {' '.join(args)} failed in {repo}: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


def repository_name(repo: Path) -> str:
    """owner/name from the origin remote, else local/<folder name>."""
    url = git(repo, "remote", "get-url", "origin", check=False).strip()
    match = re.search(r"[:/]([^/:]+/[^/]+?)(?:\.git)?/?$", url)
    return match.group(1) if match else f"local/{repo.name}"


# --- step results and scopes -------------------------------------------------------------------


@dataclass
class StepResult:
    outcome: str  # success, failure, cancelled, skipped
    conclusion: str
    outputs: Any = field(default_factory=dict)  # dict[str, str], or gx.Unknown in a plan

    def context(self) -> dict[str, Any]:
        return {"outputs": self.outputs, "outcome": self.outcome, "conclusion": self.conclusion}


@dataclass
class Scope:
    """The job's steps, or one composite action's: its steps context, inputs and status."""

    label: str  # "" for the job; "5" for the action used by job step 5; "5.2" nested
    depth: int
    inputs: Any
    action_path: Path | None = None  # the action's folder (GITHUB_ACTION_PATH)
    action_rel: str = ""  # the same, relative to the workspace (for display)
    env: dict[str, str] = field(default_factory=dict)  # from the `uses` step's env
    steps: dict[str, StepResult] = field(default_factory=dict)
    failed: bool = False
    cancelled: bool = False


@dataclass
class Options:
    workflow: Path
    job: str | None
    inputs: dict[str, str]
    env_names: list[str]
    workspace: Path | None
    evidence: Path | None
    plan: bool
    checkout: str
    repo: Path
    repository: str | None
    keep_temp: bool
    keep_orphans: bool


# --- the runner --------------------------------------------------------------------------------


class Runner:
    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.plan_mode = False
        self.quiet = False
        self.lock = threading.RLock()
        self.masks: list[str] = []
        self.repo = opts.repo
        self.workflow_path = opts.workflow
        self.doc = self.read_yaml(opts.workflow, required=True) or {}
        on = workflow_on(self.doc)
        call = on.get("workflow_call") if isinstance(on, dict) else None
        if not isinstance(call, dict):
            call = {}
        self.declared: dict[str, Any] = dict(call.get("inputs") or {})
        given = dict(opts.inputs)
        for name in opts.env_names:
            matches = [i for i in self.declared if env_name(i) == name]
            if not matches:
                self.note(f"note: {name} is not an input of {opts.workflow.name} (ignored)")
                continue
            if matches[0] not in given and name in os.environ:
                given[matches[0]] = os.environ[name]
        self.inputs = resolve_inputs(self.declared, given)
        jobs = self.doc.get("jobs") or {}
        if not isinstance(jobs, dict) or not jobs:
            raise UsageError(f"{opts.workflow} has no jobs")
        if opts.job is None:
            if len(jobs) != 1:
                raise UsageError(f"{opts.workflow} has several jobs ({', '.join(jobs)}): choose one with --job")
            self.job_id = next(iter(jobs))
        elif opts.job in jobs:
            self.job_id = opts.job
        else:
            raise UsageError(f"no job {opts.job!r} in {opts.workflow} (jobs: {', '.join(jobs)})")
        self.job: dict[str, Any] = jobs[self.job_id] or {}
        for key in ("uses", "container", "services"):
            if key in self.job:
                raise UsageError(f"job {self.job_id}: `{key}:` is not supported by this runner")
        strategy = self.job.get("strategy") or {}
        if isinstance(strategy, dict) and strategy.get("matrix"):
            raise UsageError(f"job {self.job_id}: matrix jobs are not supported by this runner")
        if not isinstance(self.job.get("steps"), list) or not self.job["steps"]:
            raise UsageError(f"job {self.job_id} has no steps")
        self.is_git = git(self.repo, "rev-parse", "--is-inside-work-tree", check=False).strip() == "true"
        self.head = git(self.repo, "rev-parse", "HEAD").strip() if self.is_git else "0" * 40
        self.branch = git(self.repo, "rev-parse", "--abbrev-ref", "HEAD", check=False).strip() if self.is_git else ""
        self.repository = opts.repository or repository_name(self.repo)
        self.run_id = str(int(time.time()))
        self.tracking_id = f"github_{uuid.uuid4()}"
        # run state
        self.root: Path | None = None
        self.workspace = opts.workspace or Path("<workspace>")
        self.temp = Path("<runner-temp>")
        self.evidence = opts.evidence or Path("<evidence>")
        self.global_env: dict[str, str] = {}
        self.prepend_path: list[str] = []
        self.job_env: dict[str, str] = {}
        self.job_failed = False
        self.cancelled = False
        self.timed_out = False
        self.aborted = False
        self.interrupts = 0
        self.deadline: float | None = None
        self.started = time.monotonic()
        self.annotations: list[tuple[str, str, str]] = []
        self.uploaded: dict[str, Path] = {}
        self.summary_parts: list[str] = []
        self.step_counter = 0
        self.plan_checkouts: dict[str, Path] = {}
        self.workflow_env: dict[str, str] = {}
        self.job_outputs: dict[str, str] = {}
        self.step_deadlines: list[float] = []
        self.summary_file = Path("<job-summary>")
        self.event_file = Path("<event>")
        self.current: subprocess.Popen[bytes] | None = None
        self.base_env: dict[str, str] = {}

    def read_yaml(self, path: Path, required: bool = False) -> dict[str, Any] | None:
        """A YAML file of the repository as the run sees it: with --checkout head, as committed at
        HEAD (so the steps and the scripts they call come from the same commit), else as it is
        on disk (the working tree, which the other checkout modes lay down)."""
        if self.opts.checkout == "head":
            text = committed_text(self.repo, path)
            if text is not None:
                return parse_yaml(text, f"{path} (at HEAD)")
            if required and Path(os.path.realpath(path)).is_relative_to(Path(os.path.realpath(self.repo))):
                raise UsageError(f"{path} is not committed at HEAD (--checkout head runs what HEAD holds)")
        if path.is_file():
            return load_yaml(path)
        if required:
            raise UsageError(f"{path} is not a file")
        return None

    def source_label(self) -> str:
        return "HEAD (--checkout head)" if self.opts.checkout == "head" else "the working tree"

    # --- output ---

    def note(self, text: str, depth: int = 0) -> None:
        if self.quiet:
            return
        for line in text.splitlines() or [""]:
            with self.lock:
                print("  " * depth + self.masked(line), flush=True)

    def masked(self, text: str) -> str:
        for secret in self.masks:
            if secret:
                text = text.replace(secret, "***")
        return text

    def shown(self, value: Any) -> str:
        """A with:/env: value for the log: unknown values as written, '' for empty, continuation
        lines indented under the first."""
        text = f"${{{{ {value.text} }}}}" if isinstance(value, gx.Unknown) else str(value)
        if text == "":
            return "''"
        return text.replace("\n", "\n        ")

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    # --- contexts ---

    def github_context(self, scope: Scope) -> dict[str, Any]:
        owner = self.repository.split("/")[0]
        ref = f"refs/heads/{self.branch}" if self.branch and self.branch != "HEAD" else ""
        context: dict[str, Any] = {
            "workspace": str(self.workspace),
            "repository": self.repository,
            "repository_owner": owner,
            "sha": self.head,
            "ref": ref,
            "ref_name": self.branch if ref else "",
            "ref_type": "branch" if ref else "",
            "head_ref": "",
            "base_ref": "",
            "run_id": self.run_id,
            "run_number": "1",
            "run_attempt": "1",
            "job": self.job_id,
            "workflow": str(self.doc.get("name") or self.workflow_path.name),
            "workflow_ref": f"{self.repository}/{self.rel_workflow()}@{ref or self.head}",
            "workflow_sha": self.head,
            "event_name": "workflow_dispatch",
            "event": {},
            "actor": os.environ.get("USER", "local"),
            "triggering_actor": os.environ.get("USER", "local"),
            "server_url": "https://github.com",
            "api_url": "https://api.github.com",
            "graphql_url": "https://api.github.com/graphql",
            "token": "",
            "retention_days": "90",
            "action": "",
            "action_path": str(scope.action_path) if scope.action_path else "",
            "action_status": ("failure" if scope.failed else "success") if scope.action_path else "",
        }
        return context

    def rel_workflow(self) -> str:
        try:
            return str(self.workflow_path.resolve().relative_to(self.repo.resolve()))
        except ValueError:
            return self.workflow_path.name

    def job_context(self) -> dict[str, Any]:
        status = "cancelled" if self.cancelled else "failure" if self.job_failed else "success"
        return {
            "status": status,
            "container": {},
            "services": {},
            "workflow_repository": self.repository,
            "workflow_sha": self.head,
            "workflow_ref": f"{self.repository}/{self.rel_workflow()}@{self.head}",
            "workflow_file_path": self.rel_workflow(),
        }

    def env_context(self, scope: Scope, step_env: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {**self.workflow_env, **self.job_env, **self.global_env, **scope.env}
        if step_env:
            env.update(step_env)
        return env

    def expr_env(self, scope: Scope, step_env: Mapping[str, str] | None = None) -> gx.Env:
        contexts: dict[str, Any] = {
            "github": self.github_context(scope),
            "env": self.env_context(scope, step_env),
            "inputs": scope.inputs,
            "steps": {sid: result.context() for sid, result in scope.steps.items()},
            "runner": {
                "os": "Linux",
                "arch": "X64",
                "name": "local",
                "environment": "self-hosted",
                "temp": str(self.temp),
                "tool_cache": str(self.temp / "toolcache"),
                "debug": "",
            },
            "job": self.job_context(),
            "strategy": {"fail-fast": True, "job-index": 0, "job-total": 1, "max-parallel": 1},
            "matrix": {},
            "secrets": {},
            "vars": {},
            "needs": {},
        }
        return gx.Env(contexts=contexts, status=lambda name: self.status(name, scope), hash_files=self.hash_files)

    def status(self, name: str, scope: Scope) -> bool:
        if name == "always":
            return True
        if name == "cancelled":
            return self.cancelled
        failed = scope.failed if scope.action_path is not None else self.job_failed
        if name == "failure":
            return failed
        return not failed and not self.cancelled

    def hash_files(self, patterns: list[str]) -> str:
        include = [p for p in patterns if not p.startswith("!")]
        exclude = [p[1:] for p in patterns if p.startswith("!")]
        files: set[str] = set()
        for pattern in include:
            for match in glob.glob(str(self.workspace / pattern), recursive=True):
                if os.path.isfile(match):
                    files.add(os.path.abspath(match))
        kept = sorted(f for f in files if not any(fnmatch.fnmatch(f, str(self.workspace / e)) for e in exclude))
        if not kept:
            return ""
        total = hashlib.sha256()
        for path in kept:
            total.update(hashlib.sha256(Path(path).read_bytes()).digest())
        return total.hexdigest()

    # --- evaluation helpers ---

    def check_expressions(self, template: Any, where: str) -> None:
        """Syntax, functions and context names of every ${{ }} in a value (before anything runs)."""
        if isinstance(template, dict):
            for key, value in template.items():
                self.check_expressions(value, f"{where}.{key}")
            return
        if isinstance(template, list):
            for value in template:
                self.check_expressions(value, where)
            return
        if not isinstance(template, str):
            return
        try:
            for text in gx.expressions_in(template):
                node = gx.parse(text)
                unknown = gx.names_used(node) - set(CONTEXTS)
                if unknown:
                    raise gx.ExpressionError(f"unrecognized named-value: {', '.join(sorted(unknown))} in: {text}")
        except gx.ExpressionError as exc:
            raise UsageError(f"{where}: {exc}") from exc

    def value(self, template: Any, env: gx.Env) -> Any:
        """A YAML value with its ${{ }} evaluated; in a plan, unknown values stay as written."""
        try:
            return gx.evaluate_template(template, env)
        except gx.UnknownValue:
            if not self.plan_mode or not isinstance(template, str):
                raise
            return gx.interpolate(template, env, keep_unknown=True)

    def text(self, template: Any, env: gx.Env) -> str:
        if template is None:
            return ""
        if isinstance(template, str):
            return gx.interpolate(template, env, keep_unknown=self.plan_mode)
        return gx.to_string(template)

    def string_value(self, template: Any, env: gx.Env) -> Any:
        """A value as a string (with: and env: entries); in a plan an Unknown may come back."""
        result = self.value(template, env)
        if isinstance(result, gx.Unknown):
            return result
        return gx.to_string(result)

    # --- running ---

    def plan(self) -> int:
        self.plan_mode = True
        self.note(f"plan of {self.rel_workflow()} job {self.job_id} ({self.job.get('name') or self.job_id})")
        self.note(f"repository {self.repository} at {self.head} ({self.repo}), checkout mode {self.opts.checkout}")
        self.note(f"workflow and actions read from {self.source_label()}")
        self.note("steps whose outputs are known only once they run are shown as ${{ ... }}")
        self.note("inputs:")
        for name, value in self.inputs.items():
            self.note(f"  {name}={gx.to_string(value)}")
        self.prepare_env()
        code = self.walk()
        return code

    def prepare_env(self) -> None:
        scope = Scope(label="", depth=0, inputs=self.inputs)
        self.workflow_env = {}
        for key in ("env", "defaults"):
            self.check_expressions(self.doc.get(key), f"workflow {key}")
        for key in ("env", "outputs", "timeout-minutes", "if", "defaults"):
            self.check_expressions(self.job.get(key), f"job {self.job_id} {key}")
        env = self.expr_env(scope)
        for name, template in (self.doc.get("env") or {}).items():
            self.workflow_env[str(name)] = gx.to_string(self.value(template, env))
        for name, template in (self.job.get("env") or {}).items():
            self.job_env[str(name)] = gx.to_string(self.value(template, self.expr_env(scope)))
        if self.job_env and self.plan_mode:
            self.note("job env:")
            for name, value in self.job_env.items():
                self.note(f"  {name}={value}")

    def walk(self) -> int:
        scope = Scope(label="", depth=0, inputs=self.inputs)
        steps = self.job["steps"]
        timeout = self.job.get("timeout-minutes")
        if timeout is not None:
            minutes = gx.to_number(self.value(timeout, self.expr_env(scope)))
            if minutes != minutes or minutes <= 0:
                raise UsageError(f"job {self.job_id}: timeout-minutes is not a positive number: {timeout!r}")
            if self.plan_mode:
                self.note(f"job timeout: {gx.format_number(minutes)} minutes")
            else:
                self.deadline = time.monotonic() + minutes * 60
        if "if" in self.job and not gx.evaluate_condition(self.job["if"], self.expr_env(scope)):
            self.note(f"job {self.job_id} skipped: if: {self.job['if']}")
            return 0
        self.run_steps(steps, scope, self.job_defaults())
        outputs: dict[str, str] = {}
        for name, template in (self.job.get("outputs") or {}).items():
            try:
                outputs[str(name)] = self.text(template, self.expr_env(scope))
            except gx.ExpressionError as exc:
                self.annotate("warning", f"job output {name}", str(exc))
                outputs[str(name)] = ""
        self.job_outputs = outputs
        if self.plan_mode:
            self.note("job outputs:")
            for name, value in outputs.items():
                self.note(f"  {name}={self.shown(value) if value else ''}")
            return 0
        return 1 if (self.job_failed or self.cancelled) else 0

    def job_defaults(self) -> dict[str, Any]:
        defaults: dict[str, Any] = {}
        for source in (self.doc.get("defaults"), self.job.get("defaults")):
            run = (source or {}).get("run") if isinstance(source, dict) else None
            if isinstance(run, dict):
                defaults.update(run)
        return defaults

    def run_steps(self, steps: list[Any], scope: Scope, defaults: Mapping[str, Any]) -> None:
        total = len(steps)
        for index, step in enumerate(steps, start=1):
            if not isinstance(step, dict):
                raise UsageError(f"step {index} of {scope.action_rel or 'job ' + self.job_id} is not a mapping")
            label = f"{scope.label}.{index}" if scope.label else str(index)
            if not self.plan_mode:
                self.handle_interrupts()
            result = self.run_step(step, label, total, scope, defaults)
            step_id = step.get("id")
            if step_id:
                scope.steps[str(step_id)] = result
            if result.conclusion == "failure":
                if scope.action_path is not None:
                    scope.failed = True
                else:
                    self.job_failed = True
            elif result.conclusion == "cancelled":
                scope.cancelled = True

    def step_header(self, label: str, total: int, name: str, depth: int, suffix: str = "") -> None:
        self.note(f"==> [step {label}/{total}] {name}{suffix}", depth)

    def default_name(self, step: Mapping[str, Any]) -> str:
        if "uses" in step:
            return f"Run {step['uses']}"
        first = next((line for line in str(step.get("run", "")).splitlines() if line.strip()), "")
        return f"Run {first.strip()}"

    def run_step(self, step: dict[str, Any], label: str, total: int, scope: Scope, defaults: Mapping[str, Any]) -> StepResult:
        where = f"step {label} ({step.get('name') or step.get('id') or step.get('uses') or 'run'})"
        for key in ("name", "if", "env", "with", "run", "continue-on-error", "timeout-minutes", "working-directory"):
            if key in step:
                self.check_expressions(step[key], f"{where} {key}")
        if ("run" in step) == ("uses" in step):
            raise UsageError(f"{where}: a step has either run: or uses:")
        uses = str(step["uses"]) if "uses" in step else ""
        kind = classify_uses(uses) if uses else "run"
        if kind is None:
            raise UsageError(
                f"{where}: `uses: {uses}` is not supported here (supported: actions/checkout, actions/setup-python, "
                "actions/upload-artifact, local composite actions ./path)"
            )
        if kind == "run" and scope.action_path is not None and not step.get("shell"):
            raise UsageError(f"{where} in {scope.action_rel}: a composite action's run step needs shell:")
        env = self.expr_env(scope)
        try:
            name = self.text(step["name"], env) if "name" in step else self.default_name(step)
        except gx.ExpressionError as exc:
            name = str(step.get("name"))
            self.annotate("error", name, f"name: {exc}")
        depth = scope.depth
        if self.plan_mode:
            return self.plan_step(step, label, total, scope, defaults, name, kind)
        if self.aborted:
            self.step_header(label, total, name, depth, ": not run (stopped)")
            return StepResult("cancelled", "cancelled", {})
        try:
            run_it = gx.evaluate_condition(step.get("if"), env)
        except gx.ExpressionError as exc:
            self.step_header(label, total, name, depth)
            self.annotate("error", name, f"if: {exc}")
            self.note(f"Error: if: {exc}", depth)
            return StepResult("failure", "failure", {})
        if not run_it:
            condition = gx.condition_source(step.get("if"))
            self.step_header(label, total, name, depth, f": skipped (if: {condition})")
            return StepResult("skipped", "skipped", {})
        self.step_counter += 1
        self.step_header(label, total, name, depth, f"  (+{self.elapsed():.0f} s)")
        began = time.monotonic()
        outputs: dict[str, str] = {}
        outcome = "success"
        coe = False
        pushed = False
        try:
            step_env = {str(k): gx.to_string(self.value(v, env)) for k, v in (step.get("env") or {}).items()}
            env_with_step = self.expr_env(scope, step_env)
            coe = gx.truthy(self.value(step.get("continue-on-error", False), env_with_step))
            timeout = step.get("timeout-minutes")
            if timeout is not None:
                minutes = gx.to_number(self.value(timeout, env_with_step))
                if minutes != minutes or minutes <= 0:
                    raise StepFailed(f"timeout-minutes is not a positive number: {timeout!r}")
                self.step_deadlines.append(time.monotonic() + minutes * 60)
                pushed = True
            if kind == "run":
                outputs, outcome = self.run_shell(step, scope, step_env, env_with_step, defaults, name)
            elif kind == "local":
                outputs, outcome = self.run_local(step, label, scope, step_env, env_with_step)
            else:
                with_values = {str(k): gx.to_string(self.value(v, env_with_step)) for k, v in (step.get("with") or {}).items()}
                for key, value in with_values.items():
                    self.note(f"  with {key}: {self.shown(value)}", depth)
                handler: Callable[[dict[str, str], Scope, dict[str, str]], dict[str, str]] = {
                    "checkout": self.do_checkout,
                    "setup-python": self.do_setup_python,
                    "upload-artifact": self.do_upload,
                }[kind]
                outputs = handler(with_values, scope, step_env)
        except (StepFailed, gx.ExpressionError, OSError) as exc:
            self.annotate("error", name, str(exc))
            self.note(f"Error: {exc}", depth)
            outcome = "failure"
        finally:
            if pushed:
                self.step_deadlines.pop()
        conclusion = "success" if outcome == "failure" and coe else outcome
        took = time.monotonic() - began
        extra = " (continue-on-error)" if conclusion != outcome else ""
        self.note(f"<== [step {label}/{total}] {outcome}{extra} in {took:.1f} s", depth)
        return StepResult(outcome, conclusion, outputs)

    # --- plan ---

    def plan_condition(self, step: Mapping[str, Any], env: gx.Env) -> bool | None:
        try:
            return gx.evaluate_condition(step.get("if"), env)
        except gx.UnknownValue:
            return None

    def plan_step(
        self, step: dict[str, Any], label: str, total: int, scope: Scope, defaults: Mapping[str, Any], name: str, kind: str
    ) -> StepResult:
        depth = scope.depth
        env = self.expr_env(scope)
        will_run = self.plan_condition(step, env)
        self.step_header(label, total, name, depth)
        pad = "    "
        if step.get("id"):
            self.note(f"{pad}id: {step['id']}", depth)
        if "if" in step:
            shown = {True: "true", False: "false: skipped", None: "known only when it runs"}[will_run]
            self.note(f"{pad}if: {gx.condition_source(step['if'])}  -> {shown} (when every step before succeeds)", depth)
        step_env = {str(k): self.string_value(v, env) for k, v in (step.get("env") or {}).items()}
        shown_env = {k: self.shown(v) for k, v in step_env.items()}
        env2 = self.expr_env(scope, {k: v for k, v in step_env.items() if isinstance(v, str)})
        for key in ("continue-on-error", "timeout-minutes", "working-directory"):
            if key in step:
                self.note(f"{pad}{key}: {self.text(step[key], env2)}", depth)
        if kind == "run":
            for key, value in shown_env.items():
                self.note(f"{pad}env {key}={value}", depth)
            shell = step.get("shell") or defaults.get("shell")
            self.note(f"{pad}shell: {shell_command(shell and str(shell), step_in_action=scope.action_path is not None)}", depth)
            script_text = self.text(step["run"], env2)
            wd = self.text(step.get("working-directory") or defaults.get("working-directory") or "", env2)
            scripts = scripts_in(script_text, scope.action_rel, wd)
            for script in scripts:
                self.note(f"{pad}script: {script}", depth)
            if not scripts:
                first = next((line.strip() for line in script_text.splitlines() if line.strip()), "")
                self.note(f"{pad}run: {first}{' ...' if len(script_text.strip().splitlines()) > 1 else ''}", depth)
            planned = "success" if will_run is not False else "skipped"
            return StepResult(planned, planned, gx.Unknown(f"steps.{step.get('id', '?')}.outputs"))
        uses = str(step["uses"])
        with_values = {str(k): self.string_value(v, env2) for k, v in (step.get("with") or {}).items()}
        shown_with = {k: self.shown(v) for k, v in with_values.items()}
        if kind == "local":
            folder, rel = self.plan_local_path(uses)
            self.note(f"{pad}uses: {uses} (composite action: {folder / 'action.yml'})", depth)
        else:
            self.note(f"{pad}uses: {uses} ({kind}: {self.plan_uses_summary(kind, shown_with)})", depth)
        for key, value in shown_with.items():
            self.note(f"{pad}with {key}: {value}", depth)
        for key, value in shown_env.items():
            self.note(f"{pad}env {key}={value}", depth)
        if kind == "checkout":
            path = with_values.get("path", "")
            if isinstance(path, str) and "${{" not in path:
                self.plan_checkouts[posixpath.normpath(path) if path else "."] = self.repo
        if kind == "local":
            action = self.load_action(folder, uses)
            inputs = self.action_inputs(action, with_values, scope, name)
            sub = Scope(label=label, depth=depth + 1, inputs=inputs, action_path=folder, action_rel=rel)
            sub.env = {**scope.env, **{k: v for k, v in step_env.items() if isinstance(v, str)}}
            sub_steps = action["runs"].get("steps") or []
            self.run_steps(sub_steps, sub, {})
            for out_name, spec in (action.get("outputs") or {}).items():
                self.check_expressions((spec or {}).get("value"), f"{rel}/action.yml outputs.{out_name}")
        outcome = "success" if will_run is not False else "skipped"
        return StepResult(outcome, outcome, gx.Unknown(f"steps.{step.get('id', '?')}.outputs"))

    def plan_uses_summary(self, kind: str, shown_with: Mapping[str, str]) -> str:
        def given(key: str) -> str:
            value = shown_with.get(key, "")
            return "" if value == "''" else value

        if kind == "checkout":
            mode = self.opts.checkout
            if not given("path") and mode == "link":
                mode = "worktree"
            repository = given("repository") or self.repository
            into = given("path") or "the workspace"
            return f"{repository} at {given('ref') or 'HEAD'} into {into}, as this repository ({mode})"
        if kind == "setup-python":
            version = given("python-version") or "3"
            found = find_python(version, self.search_path())
            return f"python {version} = {found[0] if found else 'NOT FOUND on PATH'}"
        name = given("name") or "artifact"
        return f"copies {given('path')!r} into <evidence>/{name}/"

    def plan_local_path(self, uses: str) -> tuple[Path, str]:
        rel = posixpath.normpath(uses.strip()[2:])
        best = None
        for prefix in self.plan_checkouts:
            covers = prefix == "." or rel == prefix or rel.startswith(prefix + "/")
            if covers and (best is None or len(prefix) > len(best)):
                best = prefix
        if best is None:
            raise UsageError(f"`uses: {uses}`: no checkout step before it puts anything at {rel}")
        rest = rel if best == "." else rel[len(best) :].lstrip("/")
        return self.plan_checkouts[best] / rest, rel

    # --- actions ---

    def load_action(self, folder: Path, uses: str) -> dict[str, Any]:
        for name in ("action.yml", "action.yaml"):
            # the plan reads the repository; a run reads what the checkout put in the workspace
            if self.plan_mode:
                found = self.read_yaml(folder / name)
            else:
                found = load_yaml(folder / name) if (folder / name).is_file() else None
            if found is not None:
                action = found
                break
        else:
            message = f"`uses: {uses}`: no action.yml or action.yaml in {folder}"
            raise UsageError(message) if self.plan_mode else StepFailed(message)
        runs = action.get("runs") or {}
        if not isinstance(runs, dict) or runs.get("using") != "composite":
            message = f"`uses: {uses}`: only composite actions are supported (runs.using is {runs.get('using')!r})"
            raise UsageError(message) if self.plan_mode else StepFailed(message)
        return action

    def action_inputs(self, action: Mapping[str, Any], given: Mapping[str, Any], scope: Scope, name: str) -> dict[str, Any]:
        declared = action.get("inputs") or {}
        inputs: dict[str, Any] = {}
        unexpected = [k for k in given if k not in declared]
        if unexpected:
            self.annotate("warning", name, f"Unexpected input(s) '{', '.join(unexpected)}', valid inputs are {list(declared)}")
        env = self.expr_env(scope)
        for key, spec in declared.items():
            spec = spec or {}
            if key in given:
                inputs[key] = given[key]
            elif "default" in spec:
                self.check_expressions(spec["default"], f"input {key} default")
                inputs[key] = self.string_value(spec["default"], env)
            else:
                inputs[key] = ""
        return inputs

    def run_local(
        self, step: dict[str, Any], label: str, scope: Scope, step_env: dict[str, str], env: gx.Env
    ) -> tuple[dict[str, str], str]:
        uses = str(step["uses"]).strip()
        rel = posixpath.normpath(uses[2:])
        folder = self.workspace / rel
        action = self.load_action(folder, uses)
        with_values = {str(k): gx.to_string(self.value(v, env)) for k, v in (step.get("with") or {}).items()}
        for key, value in with_values.items():
            self.note(f"  with {key}: {self.shown(value)}", scope.depth)
        inputs = self.action_inputs(action, with_values, scope, str(step.get("name") or uses))
        sub = Scope(label=label, depth=scope.depth + 1, inputs=inputs, action_path=folder, action_rel=rel)
        sub.env = {**scope.env, **step_env}
        self.run_steps(action["runs"].get("steps") or [], sub, {})
        outputs: dict[str, str] = {}
        for out_name, spec in (action.get("outputs") or {}).items():
            template = (spec or {}).get("value", "")
            outputs[str(out_name)] = self.text(template, self.expr_env(sub))
        if sub.failed:
            return outputs, "failure"
        return outputs, "cancelled" if sub.cancelled else "success"

    # --- run: steps ---

    def base_path(self) -> str:
        path = self.base_env.get("PATH") if self.base_env else None
        if path is None:
            path = clean_path(os.environ.get("PATH", ""), self.repo)
        return path

    def search_path(self) -> str:
        """PATH as the next step gets it: GITHUB_PATH entries (the latest first), then the base."""
        return os.pathsep.join([*reversed(self.prepend_path), self.base_path()])

    def step_process_env(self, scope: Scope, step_env: Mapping[str, str], files: Mapping[str, Path]) -> dict[str, str]:
        env = dict(self.base_env)
        env.update(self.workflow_env)
        env.update(self.job_env)
        env.update(self.global_env)
        env.update(scope.env)
        env.update(step_env)
        base = env.get("PATH", "")
        if self.prepend_path:
            env["PATH"] = os.pathsep.join([*reversed(self.prepend_path), base])
        env.update({key: str(path) for key, path in files.items()})
        env["GITHUB_ACTION_PATH"] = str(scope.action_path) if scope.action_path else ""
        env["GITHUB_ACTION"] = f"__run_{self.step_counter}"
        return env

    def new_files(self) -> dict[str, Path]:
        folder = self.temp / "_runner_file_commands"
        folder.mkdir(parents=True, exist_ok=True)
        files: dict[str, Path] = {}
        for var, stem in (
            ("GITHUB_OUTPUT", "set_output"),
            ("GITHUB_ENV", "set_env"),
            ("GITHUB_PATH", "add_path"),
            ("GITHUB_STEP_SUMMARY", "step_summary"),
            ("GITHUB_STATE", "save_state"),
        ):
            path = folder / f"{stem}_{uuid.uuid4()}"
            path.write_text("")
            files[var] = path
        return files

    def read_files(self, files: Mapping[str, Path]) -> dict[str, str]:
        outputs = dict(parse_file_command(files["GITHUB_OUTPUT"].read_text(errors="replace"), "GITHUB_OUTPUT"))
        for name, value in parse_file_command(files["GITHUB_ENV"].read_text(errors="replace"), "GITHUB_ENV"):
            self.global_env[name] = value
        for line in files["GITHUB_PATH"].read_text(errors="replace").splitlines():
            entry = line.strip()
            if entry:
                if entry in self.prepend_path:
                    self.prepend_path.remove(entry)
                self.prepend_path.append(entry)
        summary = files["GITHUB_STEP_SUMMARY"].read_text(errors="replace")
        if summary.strip():
            self.summary_parts.append(summary)
        return outputs

    def run_shell(
        self,
        step: dict[str, Any],
        scope: Scope,
        step_env: dict[str, str],
        env: gx.Env,
        defaults: Mapping[str, Any],
        name: str,
    ) -> tuple[dict[str, str], str]:
        shell = step.get("shell") or defaults.get("shell")
        template = shell_command(str(shell) if shell else None, step_in_action=scope.action_path is not None)
        script = self.text(step["run"], env)
        suffix = ".py" if template.split()[0] == "python" else ".sh"
        script_file = self.temp / f"{uuid.uuid4()}{suffix}"
        script_file.write_text(script if script.endswith("\n") else script + "\n")
        command = [part.replace("{0}", str(script_file)) for part in shlex.split(template)]
        wd_text = self.text(step.get("working-directory") or defaults.get("working-directory") or "", env)
        cwd = self.workspace / wd_text if wd_text else self.workspace
        if not cwd.is_dir():
            raise StepFailed(f"working-directory {cwd} does not exist")
        files = self.new_files()
        process_env = self.step_process_env(scope, step_env, files)
        outcome = self.execute(command, cwd, process_env, scope.depth, name)
        try:
            outputs = self.read_files(files)
        except StepFailed as exc:
            self.annotate("error", name, str(exc))
            self.note(f"Error: {exc}", scope.depth)
            return {}, "failure"
        return outputs, outcome

    def execute(self, command: list[str], cwd: Path, env: dict[str, str], depth: int, name: str) -> str:
        """Run one step's process, streaming its output; success, failure or cancelled."""
        try:
            proc = subprocess.Popen(
                command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise StepFailed(f"cannot start {command[0]}: {exc.strerror}") from exc
        self.current = proc
        assert proc.stdout is not None
        reader = threading.Thread(target=self.stream, args=(proc.stdout, depth, name), daemon=True)
        reader.start()
        reason = ""
        handled_interrupts = self.interrupts
        while True:
            try:
                code = proc.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            step_deadline = min(self.step_deadlines) if self.step_deadlines else None
            if self.interrupts > handled_interrupts:
                handled_interrupts = self.interrupts
                if self.interrupts >= 2:
                    self.aborted = True
                    reason = "stopped (second interrupt)"
                    self.kill_group(proc, immediately=True)
                elif not reason:
                    reason = "cancelled (interrupt)"
                    self.cancel_job("the run was interrupted")
                    threading.Thread(target=self.kill_group, args=(proc,), daemon=True).start()
            elif step_deadline is not None and now >= step_deadline and not reason:
                reason = "timed out"
                self.note("Error: the step has timed out (timeout-minutes): cancelling it", depth)
                threading.Thread(target=self.kill_group, args=(proc,), daemon=True).start()
            elif self.deadline is not None and now >= self.deadline and not reason:
                reason = "cancelled (job timeout)"
                self.timed_out = True
                self.cancel_job("the job has exceeded its timeout-minutes")
                threading.Thread(target=self.kill_group, args=(proc,), daemon=True).start()
        reader.join(DRAIN_S)
        self.current = None
        if reason == "timed out":
            self.annotate("error", name, "The action has timed out.")
            return "failure"
        if reason:
            return "cancelled"
        if code != 0:
            self.annotate("error", name, f"Process completed with exit code {code}.")
            self.note(f"Error: Process completed with exit code {code}.", depth)
            return "failure"
        return "success"

    def cancel_job(self, why: str) -> None:
        if self.cancelled:
            return
        self.cancelled = True
        self.annotate("error", "job", f"{why}: cancelled; steps with always() or cancelled() still run")
        self.note(f"==> {why}: the job is cancelled (steps whose if: calls always() or cancelled() still run, "
                  f"{CANCEL_BUDGET_S:.0f} s in all)")
        self.deadline = time.monotonic() + CANCEL_BUDGET_S

    def kill_group(self, proc: subprocess.Popen[bytes], immediately: bool = False) -> None:
        """The runner's cancellation of a step's process tree: SIGINT, SIGTERM, SIGKILL."""
        sequence = [(signal.SIGKILL, 0.0)] if immediately else [
            (signal.SIGINT, SIGINT_GRACE_S),
            (signal.SIGTERM, SIGTERM_GRACE_S),
            (signal.SIGKILL, 0.0),
        ]
        for sig, grace in sequence:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.wait(timeout=grace if grace else None)
                return
            except subprocess.TimeoutExpired:
                continue

    def stream(self, pipe: IO[bytes], depth: int, name: str) -> None:
        for raw in iter(pipe.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\n").rstrip("\r")
            shown = self.command(line, name)
            if shown is not None:
                self.note(shown, depth)
        pipe.close()

    def command(self, line: str, name: str) -> str | None:
        """A workflow command in step output (::error:: ...) as the runner's log shows it."""
        match = re.match(r"^\s*::([A-Za-z-]+)(?: ([^:]*))?::(.*)$", line)
        if not match:
            return line
        word, message = match.group(1).lower(), match.group(3)
        if word == "add-mask":
            if message.strip():
                self.masks.append(message.strip())
            return None
        if word in ("error", "warning", "notice"):
            self.annotate(word, name, message)
            return f"{word.capitalize()}: {message}"
        if word == "group":
            return f"> {message}"
        if word in ("endgroup", "debug"):
            return None
        return line

    def annotate(self, level: str, where: str, message: str) -> None:
        self.annotations.append((level, where, self.masked(message)))

    # --- run: third-party actions ---

    def do_checkout(self, with_values: dict[str, str], scope: Scope, step_env: dict[str, str]) -> dict[str, str]:
        repository = with_values.get("repository") or self.repository
        if repository.casefold() != self.repository.casefold():
            raise StepFailed(
                f"actions/checkout: repository {repository!r} cannot be checked out here: this runner has only this "
                f"repository, {self.repository} ({self.repo}); give --repository to name it otherwise"
            )
        if not self.is_git:
            raise StepFailed(f"actions/checkout: {self.repo} is not a git repository")
        ref = with_values.get("ref") or ""
        commit = self.head if not ref else git(self.repo, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}", check=False).strip()
        if not commit:
            raise StepFailed(f"actions/checkout: ref {ref!r} is not a commit of {self.repo}")
        path = with_values.get("path") or ""
        target = Path(os.path.normpath(self.workspace / path))
        workspace = Path(os.path.normpath(self.workspace))
        if target != workspace and workspace not in target.parents:
            raise StepFailed(f"actions/checkout: path {path!r} is not under the workspace {workspace}")
        # a path through a linked checkout would clear files of the repository itself
        real_workspace = Path(os.path.realpath(workspace))
        real_parent = Path(os.path.realpath(target.parent)) if target != workspace else real_workspace
        if real_parent != real_workspace and real_workspace not in real_parent.parents:
            raise StepFailed(f"actions/checkout: path {path!r} leads out of the workspace through a link ({real_parent})")
        mode = self.opts.checkout
        if target == workspace and mode == "link":
            mode = "worktree"
            self.note("  the workspace itself cannot be a link: a worktree copy instead", scope.depth)
        if commit != self.head and mode != "head":
            self.note(f"  ref {ref} is not HEAD: checked out as committed, without local changes", scope.depth)
            mode = "head"
        clear_folder(target, workspace)
        if mode == "link":
            target.rmdir()
            os.symlink(self.repo, target)
            self.note(f"  {target} -> {self.repo} (the working tree itself)", scope.depth)
        else:
            git(target, "init", "-q")
            git(target, "fetch", "-q", "--no-tags", "--depth=1", f"file://{self.repo}", commit)
            git(target, "-c", "advice.detachedHead=false", "checkout", "-q", "--detach", "FETCH_HEAD")
            git(target, "remote", "add", "origin", f"file://{self.repo}")
            how = f"{repository} at {commit[:12]}"
            if mode == "worktree":
                changed, removed = overlay_working_tree(self.repo, target)
                how += f" with the working tree's changes ({changed} file(s) changed or untracked, {removed} deleted)"
            self.note(f"  {how} -> {target}", scope.depth)
        return {"ref": ref or self.branch, "commit": commit}

    def do_setup_python(self, with_values: dict[str, str], scope: Scope, step_env: dict[str, str]) -> dict[str, str]:
        version = with_values.get("python-version", "").strip()
        version_file = with_values.get("python-version-file", "").strip()
        if not version and version_file:
            version = (self.workspace / version_file).read_text().split()[0]
        found = find_python(version or "3", self.search_path())
        if found is None:
            raise StepFailed(
                f"actions/setup-python: no Python {version} on PATH (looked for python{version}, python3, python): "
                "install it (on GitHub the action downloads it)"
            )
        executable, full_version, prefix = found
        bin_dir = self.temp / "setup-python" / full_version / "bin"
        bin_dir.mkdir(parents=True, exist_ok=True)
        major_minor = ".".join(full_version.split(".")[:2])
        for link in ("python", "python3", f"python{major_minor}"):
            target = bin_dir / link
            if target.is_symlink() or target.exists():
                target.unlink()
            target.symlink_to(executable)
        self.prepend_path.append(str(bin_dir))
        for key in ("pythonLocation", "Python_ROOT_DIR", "Python3_ROOT_DIR"):
            self.global_env[key] = prefix
        self.note(f"  python {full_version}: {bin_dir / 'python'} -> {executable}", scope.depth)
        return {"python-version": full_version, "python-path": str(bin_dir / "python"), "cache-hit": "false"}

    def do_upload(self, with_values: dict[str, str], scope: Scope, step_env: dict[str, str]) -> dict[str, str]:
        name = with_values.get("name") or "artifact"
        if NAME_FORBIDDEN.search(name):
            raise StepFailed(f'actions/upload-artifact: the name {name!r} contains a character it refuses (" : < > | * ? \\ /)')
        patterns = [line.strip() for line in with_values.get("path", "").splitlines() if line.strip()]
        if not patterns:
            raise StepFailed("actions/upload-artifact: input required and not supplied: path")
        retention = with_values.get("retention-days", "").strip()
        if retention:
            days = gx.to_number(retention)
            if days != days:
                raise StepFailed(f"actions/upload-artifact: invalid retention-days {retention!r}")
            if days > 90 or days < 1:
                self.annotate("warning", name, f"retention-days {retention} is out of 1..90: the repository's limit applies")
        policy = (with_values.get("if-no-files-found") or "warn").strip().lower()
        if policy not in ("warn", "error", "ignore"):
            raise StepFailed(f"actions/upload-artifact: if-no-files-found must be warn, error or ignore, not {policy!r}")
        hidden = with_values.get("include-hidden-files", "false").strip().lower() == "true"
        overwrite = with_values.get("overwrite", "false").strip().lower() == "true"
        root, files = artifact_files(self.workspace, patterns, hidden)
        if not files:
            message = f"No files were found with the provided path: {' '.join(patterns)}. No artifacts will be uploaded."
            if policy == "error":
                raise StepFailed(message)
            if policy == "warn":
                self.annotate("warning", name, message)
                self.note(f"Warning: {message}", scope.depth)
            else:
                self.note(message, scope.depth)
            return {}
        destination = self.evidence / name
        if name in self.uploaded or destination.exists():
            if not overwrite:
                raise StepFailed(f"actions/upload-artifact: an artifact named {name!r} was already uploaded (409 Conflict)")
            shutil.rmtree(destination, ignore_errors=True)
        for source in files:
            relative = source.relative_to(root)
            (destination / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / relative)
        self.uploaded[name] = destination
        size = sum(f.stat().st_size for f in files)
        self.note(f"  artifact {name}: {len(files)} file(s), {size} bytes from {root} -> {destination}", scope.depth)
        return {"artifact-id": str(len(self.uploaded)), "artifact-url": destination.as_uri(), "artifact-digest": ""}

    # --- run: the whole job ---

    def run(self) -> int:
        # the whole job walked first, quietly: bad inputs, uses or expressions stop here
        self.plan_mode, self.quiet = True, True
        saved_counter = self.step_counter
        self.prepare_env()
        self.walk()
        self.plan_mode, self.quiet = False, False
        self.step_counter = saved_counter
        self.job_env, self.global_env, self.prepend_path = {}, {}, []
        self.plan_checkouts, self.annotations, self.job_outputs = {}, [], {}
        self.job_failed = False
        self.setup_folders()
        self.base_env = self.make_base_env()
        previous = {sig: signal.signal(sig, self.on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.note(f"==> {self.rel_workflow()} job {self.job_id} ({self.job.get('name') or self.job_id})")
            self.note(f"    repository {self.repository} at {self.head[:12]} ({self.repo}), checkout mode {self.opts.checkout}")
            self.note(f"    workflow read from {self.source_label()}")
            self.note(f"    workspace {self.workspace}")
            self.note(f"    runner temp {self.temp}")
            for name, value in self.inputs.items():
                self.note(f"    input {name}={gx.to_string(value)}")
            self.started = time.monotonic()
            self.prepare_env()
            code = self.walk()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.stop_orphans()
        self.finish(code)
        if not self.opts.keep_temp:
            shutil.rmtree(self.temp, ignore_errors=True)
        if self.root is not None and not any(self.root.iterdir()):
            self.root.rmdir()
        return code

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        # only recorded here (no output, no locks): the step loop and execute() act on it
        self.interrupts += 1

    def handle_interrupts(self) -> None:
        """Between steps: a first interrupt cancels the job, a second stops it."""
        if self.interrupts >= 2:
            self.aborted = True
        if self.interrupts >= 1:
            self.cancel_job("the run was interrupted")

    def setup_folders(self) -> None:
        root = Path(tempfile.mkdtemp(prefix="chaosext-ci-"))
        self.root = root
        for given, what in ((self.opts.workspace, "--workspace"), (self.opts.evidence, "--evidence")):
            if given is not None and given.exists() and (not given.is_dir() or any(given.iterdir())):
                shutil.rmtree(root, ignore_errors=True)
                raise UsageError(f"{what} {given} is not an empty folder (a run starts from nothing, as on a runner)")
        self.workspace = (self.opts.workspace or root / "workspace").absolute()
        self.evidence = (self.opts.evidence or root / "evidence").absolute()
        self.temp = root / "temp"
        for folder in (self.workspace, self.evidence, self.temp):
            folder.mkdir(parents=True, exist_ok=True)
        self.summary_file = root / "job-summary.md"
        self.event_file = self.temp / "event.json"
        self.event_file.write_text("{}\n")

    def make_base_env(self) -> dict[str, str]:
        dropped = set(self.opts.env_names) | {"VIRTUAL_ENV", "CHAOSEXT_VENV", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"}
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in dropped and not k.startswith(("GITHUB_", "RUNNER_", "ACTIONS_", "INPUT_"))
        }
        env["PATH"] = clean_path(os.environ.get("PATH", ""), self.repo)
        context = self.github_context(Scope(label="", depth=0, inputs={}))
        env.update(
            {
                "CI": "true",
                "GITHUB_ACTIONS": "true",
                "GITHUB_WORKSPACE": str(self.workspace),
                "GITHUB_REPOSITORY": self.repository,
                "GITHUB_REPOSITORY_OWNER": context["repository_owner"],
                "GITHUB_SHA": self.head,
                "GITHUB_REF": context["ref"],
                "GITHUB_REF_NAME": context["ref_name"],
                "GITHUB_RUN_ID": self.run_id,
                "GITHUB_RUN_NUMBER": "1",
                "GITHUB_RUN_ATTEMPT": "1",
                "GITHUB_JOB": self.job_id,
                "GITHUB_WORKFLOW": context["workflow"],
                "GITHUB_WORKFLOW_REF": context["workflow_ref"],
                "GITHUB_WORKFLOW_SHA": self.head,
                "GITHUB_EVENT_NAME": "workflow_dispatch",
                "GITHUB_EVENT_PATH": str(self.event_file),
                "GITHUB_ACTOR": context["actor"],
                "GITHUB_SERVER_URL": context["server_url"],
                "GITHUB_API_URL": context["api_url"],
                "GITHUB_GRAPHQL_URL": context["graphql_url"],
                "RUNNER_OS": "Linux",
                "RUNNER_ARCH": "X64",
                "RUNNER_NAME": "local",
                "RUNNER_ENVIRONMENT": "self-hosted",
                "RUNNER_TEMP": str(self.temp),
                "RUNNER_TOOL_CACHE": str(self.temp / "toolcache"),
                "RUNNER_TRACKING_ID": self.tracking_id,
            }
        )
        return env

    def stop_orphans(self) -> None:
        """Processes a step left running, found as the runner finds them (RUNNER_TRACKING_ID)."""
        marker = f"RUNNER_TRACKING_ID={self.tracking_id}".encode()
        orphans = list(processes_with(marker))
        if not orphans:
            return
        if self.opts.keep_orphans:
            self.note("==> processes the steps left running (kept: --keep-orphans):")
            for pid, cmd in orphans:
                self.note(f"    {pid} {cmd}")
            return
        self.note("==> cleaning up orphan processes")
        for pid, cmd in orphans:
            self.note(f"    terminate {pid} {cmd}")
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid, _ in orphans):
            time.sleep(0.1)
        for pid, _ in orphans:
            if Path(f"/proc/{pid}").exists():
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)

    def finish(self, code: int) -> None:
        status = "cancelled" if self.cancelled else "failure" if self.job_failed else "success"
        if self.timed_out:
            status += " (job timeout)"
        if self.summary_parts:
            self.summary_file.write_text("".join(self.summary_parts))
        self.note(f"==> job {self.job_id}: {status} in {self.elapsed():.0f} s")
        if self.annotations:
            self.note("annotations:")
            for level, where, message in self.annotations:
                self.note(f"  {level} [{where}] {message}")
        if self.summary_parts:
            self.note(f"job summary: {self.summary_file}")
        for name, path in self.uploaded.items():
            self.note(f"artifact {name}: {path}")
        self.note(f"workspace={self.workspace}")
        for name, value in self.job_outputs.items():
            self.note(f"{name}={self.shown(value) if value else ''}")
        self.note(f"evidence={self.evidence}")


# --- helpers -----------------------------------------------------------------------------------


def shell_command(shell: str | None, step_in_action: bool = False) -> str:
    """The command line the runner uses for a run step's shell ({0} = the script file)."""
    if shell is None:
        return "bash -e {0}"
    known = {
        "bash": "bash --noprofile --norc -eo pipefail {0}",
        "sh": "sh -e {0}",
        "python": "python {0}",
    }
    if shell in known:
        return known[shell]
    if "{0}" in shell:
        return shell
    raise UsageError(f"shell {shell!r} is not supported here (bash, sh, python, or a command with {{0}})")


def clean_path(path: str, repo: Path) -> str:
    """PATH without the repository's own venv: a runner has none, and its tools must not stand in
    for the ones the steps install."""
    venv = str((repo / ".venv").resolve())
    kept = [p for p in path.split(os.pathsep) if p and not os.path.abspath(p).startswith(venv + os.sep)]
    return os.pathsep.join(kept)


def find_python(version: str, path: str) -> tuple[str, str, str] | None:
    """(executable, full version, prefix) of a Python matching ``version`` (3.11, 3.11.x, 3.11.7,
    3.x, 3) on ``path``."""
    wanted = [part for part in version.strip().lower().split(".") if part not in ("", "x", "*")]
    if not wanted or not all(part.isdigit() for part in wanted):
        return None
    names = [f"python{wanted[0]}.{wanted[1]}"] if len(wanted) >= 2 else []
    names += ["python3", "python"]
    for name in names:
        found = shutil.which(name, path=path)
        if not found:
            continue
        proc = subprocess.run(
            [found, "-c", "import sys; print(sys.executable); print('%d.%d.%d' % sys.version_info[:3]); print(sys.base_prefix)"],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            continue
        lines = proc.stdout.split("\n")
        executable, full, prefix = lines[0], lines[1], lines[2]
        if full.split(".")[: len(wanted)] == wanted[:3]:
            return os.path.realpath(executable), full, prefix
    return None


def clear_folder(target: Path, workspace: Path) -> None:
    """Empty ``target`` (a folder under the workspace, or the workspace itself) for a checkout."""
    if target != workspace and workspace not in target.parents:
        raise StepFailed(f"refusing to clear {target}: not under the workspace {workspace}")
    if target.is_symlink() or target.is_file():
        target.unlink()
    if target.is_dir():
        for child in target.iterdir():
            if child.is_symlink() or not child.is_dir():
                child.unlink()
            else:
                shutil.rmtree(child)
    target.mkdir(parents=True, exist_ok=True)


def overlay_working_tree(repo: Path, target: Path) -> tuple[int, int]:
    """Lay the working tree's differences from HEAD (changed, untracked, deleted files) over a
    checkout of HEAD; (files copied, files removed)."""
    changed = git_bytes(repo, "diff", "--no-renames", "--name-only", "-z", "HEAD").split(b"\0")
    untracked = git_bytes(repo, "ls-files", "-z", "--others", "--exclude-standard").split(b"\0")
    copied = removed = 0
    for raw in sorted(set(changed + untracked)):
        if not raw:
            continue
        rel = os.fsdecode(raw)
        source, destination = repo / rel, target / rel
        if source.is_symlink() or source.is_file():
            destination.parent.mkdir(parents=True, exist_ok=True)
            if destination.is_symlink() or destination.exists():
                destination.unlink()
            if source.is_symlink():
                os.symlink(os.readlink(source), destination)
            else:
                shutil.copy2(source, destination)
            copied += 1
        elif not source.exists() and (destination.is_symlink() or destination.is_file()):
            destination.unlink()
            removed += 1
    return copied, removed


GLOB_CHARS = re.compile(r"[*?\[]")


def _search_root(pattern: str) -> str:
    parts = pattern.split(os.sep)
    kept: list[str] = []
    for part in parts:
        if GLOB_CHARS.search(part):
            break
        kept.append(part)
    return os.sep.join(kept) or os.sep


def artifact_files(workspace: Path, patterns: list[str], include_hidden: bool) -> tuple[Path, list[Path]]:
    """The files upload-artifact would upload and the folder their names are relative to."""
    includes = [os.path.normpath(os.path.join(workspace, p)) for p in patterns if not p.startswith("!")]
    excludes = [os.path.normpath(os.path.join(workspace, p[1:])) for p in patterns if p.startswith("!")]
    found: dict[str, Path] = {}
    roots: list[str] = []
    for pattern in includes:
        root = _search_root(pattern)
        roots.append(root)
        if GLOB_CHARS.search(pattern):
            matches = glob.glob(pattern, recursive=True)
        else:
            matches = [pattern] if os.path.exists(pattern) else []
        for match in matches:
            for path in _walk(Path(match), Path(root), include_hidden):
                found[str(path)] = path

    def excluded(key: str) -> bool:
        return any(fnmatch.fnmatch(key, e) or key.startswith(e + os.sep) for e in excludes)

    kept = [p for key, p in sorted(found.items()) if not excluded(key)]
    if not roots:
        return workspace, []
    if len(roots) == 1:
        root_path = Path(roots[0])
        common = root_path if root_path.is_dir() else root_path.parent
    else:
        common = Path(os.path.commonpath(roots))
        if common.is_file():
            common = common.parent
    return common, kept


def _walk(path: Path, root: Path, include_hidden: bool) -> Iterator[Path]:
    def hidden(p: Path) -> bool:
        try:
            parts = p.relative_to(root).parts
        except ValueError:
            parts = (p.name,)
        return any(part.startswith(".") for part in parts)

    if path.is_file():
        if include_hidden or not hidden(path):
            yield path
        return
    if not path.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(path, followlinks=True):
        base = Path(dirpath)
        if not include_hidden:
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for filename in sorted(filenames):
            candidate = base / filename
            if (include_hidden or not hidden(candidate)) and candidate.is_file():
                yield candidate


def scripts_in(script: str, action_rel: str, working_directory: str) -> list[str]:
    """The script files a run: text calls, relative to the workspace, in order
    ($GITHUB_ACTION_PATH and simple NAME="..." assignments resolved)."""
    known = {"GITHUB_ACTION_PATH": action_rel or "$GITHUB_ACTION_PATH", "GITHUB_WORKSPACE": "."}

    def substitute(text: str) -> str:
        return re.sub(r"\$\{?([A-Za-z_]\w*)\}?", lambda m: known.get(m.group(1), m.group(0)), text)

    found: list[str] = []
    for line in script.splitlines():
        assignment = re.match(r'^\s*(?:local\s+|export\s+)?([A-Za-z_]\w*)="([^"$]*(?:\$\{?\w+\}?[^"$]*)*)"\s*$', line)
        if assignment:
            known[assignment.group(1)] = substitute(assignment.group(2))
        for token in re.findall(r"[\w.$/{}-]*[\w-]+\.(?:sh|py)\b", line):
            path = substitute(token)
            if working_directory and not path.startswith("/") and not path.startswith("$"):
                path = posixpath.join(working_directory, path)
            found.append(posixpath.normpath(path))
    return found


def processes_with(marker: bytes) -> Iterator[tuple[int, str]]:
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            environ = (entry / "environ").read_bytes()
            if marker not in environ.split(b"\0"):
                continue
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        yield int(entry.name), cmd[:200]


# --- command line ------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="run_workflow.py",
        description="Run a reusable workflow's job here, step by step, as GitHub's runner would (see the module docstring).",
    )
    parser.add_argument("--workflow", default=None, help=f"workflow file (default {DEFAULT_WORKFLOW} of this repository)")
    parser.add_argument("--job", default=None, help="job id (default: the workflow's only job)")
    parser.add_argument("--input", action="append", default=[], metavar="KEY=VALUE", help="a workflow_call input (repeatable)")
    parser.add_argument(
        "--inputs-from-env", default="", metavar="NAMES",
        help="environment variables to read inputs from (var-file from VAR_FILE), space or comma separated",
    )
    parser.add_argument("--workspace", default=None, help="GITHUB_WORKSPACE: a new or empty folder (default: fresh, in TMPDIR)")
    parser.add_argument("--evidence", default=None, help="where upload-artifact copies artifacts: a new or empty folder")
    parser.add_argument("--plan", action="store_true", help="print the resolved steps; run nothing")
    parser.add_argument(
        "--checkout", choices=("worktree", "head", "link"), default="worktree", help="what actions/checkout puts down"
    )
    parser.add_argument("--use-working-tree", action="store_true", help="same as --checkout link")
    parser.add_argument("--repo", default=None, help="the repository checkouts materialise (default: the workflow's)")
    parser.add_argument("--repository", default=None, help="owner/name of that repository (default: origin's or local/<folder>)")
    parser.add_argument("--keep-temp", action="store_true", help="keep RUNNER_TEMP (the chaosext venv, scripts) afterwards")
    parser.add_argument("--keep-orphans", action="store_true", help="leave processes that steps left running")
    args = parser.parse_args(argv)
    inputs: dict[str, str] = {}
    for item in args.input:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--input {item!r}: expected KEY=VALUE")
        inputs[key.strip()] = value
    workflow = Path(args.workflow) if args.workflow else SCRIPT_REPO / DEFAULT_WORKFLOW
    if not workflow.is_file():
        raise UsageError(f"--workflow: {workflow} is not a file")
    workflow = workflow.absolute()
    if args.repo:
        repo = Path(args.repo).absolute()
    else:
        top = git(workflow.parent, "rev-parse", "--show-toplevel", check=False).strip()
        repo = Path(top) if top else workflow.parent.parent.parent
    return Options(
        workflow=workflow,
        job=args.job,
        inputs=inputs,
        env_names=[n for n in re.split(r"[\s,]+", args.inputs_from_env) if n],
        workspace=Path(args.workspace).absolute() if args.workspace else None,
        evidence=Path(args.evidence).absolute() if args.evidence else None,
        plan=args.plan,
        checkout="link" if args.use_working_tree else args.checkout,
        repo=repo.resolve(),
        repository=args.repository,
        keep_temp=args.keep_temp,
        keep_orphans=args.keep_orphans,
    )


def main(argv: list[str] | None = None) -> int:
    try:
        opts = parse_args(sys.argv[1:] if argv is None else argv)
        runner = Runner(opts)
        if opts.plan:
            return runner.plan()
        return runner.run()
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    except gx.ExpressionError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
