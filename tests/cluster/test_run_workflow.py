"""cluster/ci/run_workflow.py: a reusable workflow's job run here as the runner would, checked on
small workflows and composite actions written for each test (real bash steps, real git checkouts),
plus a --plan of the real chaos.yml against the YAML itself."""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cluster.helpers import ACTIONS, REPO, WORKFLOWS, load_yaml

CI_DIR = REPO / "cluster" / "ci"
RUNNER = CI_DIR / "run_workflow.py"


def _module(name: str) -> ModuleType:
    if str(CI_DIR) not in sys.path:
        sys.path.insert(0, str(CI_DIR))
    spec = importlib.util.spec_from_file_location(name, CI_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


gx = _module("gha_expr")
rw = _module("run_workflow")


@pytest.fixture(autouse=True)
def _own_tmpdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner's temp folders (RUNNER_TEMP, default workspace) go under the test's tmp_path."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_"))}


def runner(*args: str, timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(RUNNER), *args], capture_output=True, text=True, timeout=timeout, env={**_env(), **(env or {})}
    )


def shown(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"


def make_repo(root: Path, files: dict[str, str]) -> Path:
    """A git repository with these files committed."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for command in (
        ["git", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "init"],
    ):
        subprocess.run(command, cwd=root, check=True, capture_output=True)
    return root


WORKFLOW = ".github/workflows/w.yml"

HEADER = """
on:
  workflow_call:
    inputs:
      who: {type: string, required: true}
      flag: {type: boolean, default: false}
      count: {type: number, default: 3}
"""


def workflow(tmp_path: Path, body: str, files: dict[str, str] | None = None, header: str = HEADER) -> Path:
    """A repository holding one workflow (HEADER + body) and any other files; its workflow path."""
    repo = make_repo(tmp_path / "repo", {WORKFLOW: header + body, **(files or {})})
    return repo / WORKFLOW


def run_it(wf: Path, tmp_path: Path, *args: str, timeout: float = 120, **kw: Any) -> subprocess.CompletedProcess[str]:
    return runner(
        "--workflow", str(wf), "--workspace", str(tmp_path / "ws"), "--evidence", str(tmp_path / "ev"),
        "--input", "who=world", *args, timeout=timeout, **kw,
    )


# --- the expression language -------------------------------------------------------------------


def _eval(expr: str, **contexts: Any) -> Any:
    return gx.evaluate(gx.parse(expr), gx.Env(contexts=contexts, status=lambda name: name != "failure"))


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("1 == '1'", True),
        ("'ABC' == 'abc'", True),
        ("null == 0", True),
        ("true == 1", True),
        ("'x' == 0", False),
        ("'' || 'fallback'", "fallback"),
        ("'value' || 'fallback'", "value"),
        ("0 && 'never'", 0),
        ("!(1 < 2) || 3 >= 3", True),
        ("contains('Hello world', 'WORLD')", True),
        ("contains(fromJSON('[\"a\",\"b\"]'), 'B')", True),
        ("startsWith('refs/heads/main', 'refs/heads/')", True),
        ("endsWith('file.JSON', '.json')", True),
        ("format('{0}-{1}-{{x}}', 'a', 2)", "a-2-{x}"),
        ("join(fromJSON('[1,2,3]'), '+')", "1+2+3"),
        ("fromJSON(toJSON(inputs)).n", 14),
        ("inputs['a-b']", "dash"),
        ("INPUTS.A-B", "dash"),
        ("inputs.missing.deeper", None),
        ("fromJSON('{\"a\":{\"x\":1},\"b\":{\"x\":2}}').*.x", [1, 2]),
        ("success() && !failure()", True),
        ("0x10 == 16 && -2 < 1.5e0", True),
    ],
)
def test_expressions_follow_githubs_rules(expr: str, expected: Any) -> None:
    assert _eval(expr, inputs={"n": 14, "a-b": "dash"}) == expected


def test_expression_errors_and_string_conversion() -> None:
    with pytest.raises(gx.ExpressionError, match="nosuch"):
        gx.parse("nosuch(1)")
    with pytest.raises(gx.ExpressionError, match="unrecognized named-value"):
        _eval("secretz.x")
    with pytest.raises(gx.ExpressionError):
        gx.parse("a ==")
    env = gx.Env(contexts={"inputs": {"n": 14, "b": True, "f": 1.5, "o": {}}})
    assert gx.interpolate("n=${{ inputs.n }} b=${{ inputs.b }} f=${{ inputs.f }} o=${{ inputs.o }} z=${{ inputs.z }}", env) == (
        "n=14 b=true f=1.5 o=Object z="
    )
    assert gx.interpolate("${{ '}}' }}", env) == "}}"
    assert gx.condition_source("inputs.x != ''") == "success() && (inputs.x != '')"
    assert gx.condition_source("${{ always() }}") == "always()"
    assert gx.to_json({"a": 1.0, "b": [True, None]}) == '{\n  "a": 1,\n  "b": [\n    true,\n    null\n  ]\n}'


def test_file_commands_are_read_as_the_runner_reads_them() -> None:
    text = "a=1\nb<<EOF\nline 1\nline=2\nEOF\n\nc=x<<y\n"
    assert rw.parse_file_command(text, "GITHUB_OUTPUT") == [("a", "1"), ("b", "line 1\nline=2"), ("c", "x<<y")]
    with pytest.raises(rw.StepFailed, match="delimiter"):
        rw.parse_file_command("b<<EOF\nno end\n", "GITHUB_OUTPUT")


# --- running steps -----------------------------------------------------------------------------


def test_outputs_env_path_and_inputs_flow_between_steps(tmp_path: Path) -> None:
    wf = workflow(
        tmp_path,
        """
jobs:
  main:
    runs-on: ubuntu-24.04
    outputs:
      greeting: ${{ steps.first.outputs.greeting }}
      fallback: ${{ steps.nothing.outputs.x || 'error' }}
    env:
      JOB_LEVEL: job
    steps:
      - id: first
        run: |
          mkdir -p sub "$RUNNER_TEMP/mybin"
          echo "greeting=hello ${{ inputs.who }}" >>"$GITHUB_OUTPUT"
          { echo "multi<<EOF"; echo "line one"; echo "line two"; echo "EOF"; } >>"$GITHUB_OUTPUT"
          echo "FROM_ENV_FILE=set-by-first" >>"$GITHUB_ENV"
          printf '#!/bin/sh\\necho tool-on-github-path\\n' >"$RUNNER_TEMP/mybin/mytool"
          chmod +x "$RUNNER_TEMP/mybin/mytool"
          echo "$RUNNER_TEMP/mybin" >>"$GITHUB_PATH"
          echo "## summary of first" >>"$GITHUB_STEP_SUMMARY"
      - name: Use ${{ steps.first.outputs.greeting }}
        working-directory: sub
        env:
          JOB_LEVEL: overridden
          STEP_LEVEL: step
        run: |
          echo "got=$FROM_ENV_FILE $(mytool) $JOB_LEVEL $STEP_LEVEL ${{ env.FROM_ENV_FILE }} CI=$CI GA=$GITHUB_ACTIONS"
          printf '%s' "${{ steps.first.outputs.multi }}" >"$GITHUB_WORKSPACE/multi.txt"
          echo "typed=${{ inputs.count }}/${{ inputs.flag }}/${{ toJSON(inputs.flag) }} pwd=$(basename "$PWD")"
          echo "make-var=${WHO:-unset}"
""",
    )
    proc = run_it(wf, tmp_path, "--inputs-from-env", "COUNT OTHER", env={"COUNT": "7", "WHO": "from-make"})
    assert proc.returncode == 0, shown(proc)
    out = proc.stdout
    assert "==> [step 2/2] Use hello world" in out
    assert "got=set-by-first tool-on-github-path overridden step set-by-first CI=true GA=true" in out
    assert "typed=7/false/false pwd=sub" in out
    # variables handed to --inputs-from-env are inputs, not part of the steps' environment
    assert "make-var=unset" not in out and "make-var=from-make" in out  # WHO was not named: kept
    assert "OTHER is not an input" in out
    assert (tmp_path / "ws" / "multi.txt").read_text() == "line one\nline two"
    lines = out.splitlines()
    assert "greeting=hello world" in lines and "fallback=error" in lines
    assert lines[-1] == f"evidence={tmp_path / 'ev'}"
    summary = re.search(r"job summary: (\S+)", out)
    assert summary and "## summary of first" in Path(summary.group(1)).read_text()


def test_inputs_from_env_never_reach_the_steps(tmp_path: Path) -> None:
    wf = workflow(tmp_path, """
jobs:
  main:
    runs-on: ubuntu-24.04
    steps:
      - run: echo "who-input=${{ inputs.who }} who-env=${WHO:-unset}"
""")
    proc = runner("--workflow", str(wf), "--inputs-from-env", "WHO", "--workspace", str(tmp_path / "ws"), env={"WHO": "envworld"})
    assert proc.returncode == 0, shown(proc)
    assert "who-input=envworld who-env=unset" in proc.stdout


def test_a_failed_step_skips_success_steps_runs_always_and_failure_and_exits_1(tmp_path: Path) -> None:
    wf = workflow(tmp_path, """
jobs:
  main:
    runs-on: ubuntu-24.04
    steps:
      - run: echo fine
      - id: boom
        run: |
          echo "partial=yes" >>"$GITHUB_OUTPUT"
          exit 3
      - run: touch "$GITHUB_WORKSPACE/should-not-run"
      - if: always()
        run: |
          echo "${{ steps.boom.outcome }}/${{ steps.boom.conclusion }}/${{ steps.boom.outputs.partial }}/${{ job.status }}" \
            >"$GITHUB_WORKSPACE/always"
      - if: failure()
        run: touch "$GITHUB_WORKSPACE/on-failure"
      - if: success()
        run: touch "$GITHUB_WORKSPACE/on-success"
""")
    proc = run_it(wf, tmp_path)
    assert proc.returncode == 1, shown(proc)
    ws = tmp_path / "ws"
    assert (ws / "always").read_text().strip() == "failure/failure/yes/failure"
    assert (ws / "on-failure").exists()
    assert not (ws / "should-not-run").exists() and not (ws / "on-success").exists()
    assert "Process completed with exit code 3" in proc.stdout
    assert "skipped (if: success())" in proc.stdout


def test_continue_on_error_keeps_the_job_green(tmp_path: Path) -> None:
    wf = workflow(tmp_path, """
jobs:
  main:
    runs-on: ubuntu-24.04
    steps:
      - id: soft
        continue-on-error: ${{ inputs.count > 1 }}
        run: exit 1
      - run: echo "${{ steps.soft.outcome }} ${{ steps.soft.conclusion }}" >"$GITHUB_WORKSPACE/soft"
""")
    proc = run_it(wf, tmp_path)
    assert proc.returncode == 0, shown(proc)
    assert (tmp_path / "ws" / "soft").read_text().strip() == "failure success"


def test_a_step_is_killed_at_its_timeout_and_always_steps_still_run(tmp_path: Path) -> None:
    wf = workflow(tmp_path, """
jobs:
  main:
    runs-on: ubuntu-24.04
    steps:
      - id: slow
        timeout-minutes: 0.03
        run: |
          touch "$GITHUB_WORKSPACE/started"
          sleep 60
          touch "$GITHUB_WORKSPACE/finished"
      - if: always()
        run: echo "${{ steps.slow.outcome }}" >"$GITHUB_WORKSPACE/after"
""")
    began = time.monotonic()
    proc = run_it(wf, tmp_path, timeout=60)
    took = time.monotonic() - began
    assert proc.returncode == 1, shown(proc)
    assert took < 30, f"the 1.8 s timeout took {took:.0f} s"
    ws = tmp_path / "ws"
    assert (ws / "started").exists() and not (ws / "finished").exists()
    assert (ws / "after").read_text().strip() == "failure"
    assert "timed out" in proc.stdout


def test_interrupt_cancels_the_job_and_runs_the_always_steps(tmp_path: Path) -> None:
    wf = workflow(tmp_path, """
jobs:
  main:
    runs-on: ubuntu-24.04
    steps:
      - run: |
          touch "$GITHUB_WORKSPACE/started"
          sleep 60
      - run: touch "$GITHUB_WORKSPACE/not-after-cancel"
      - if: always()
        run: echo "${{ job.status }} ${{ cancelled() }}" >"$GITHUB_WORKSPACE/cleanup"
""")
    ws = tmp_path / "ws"
    proc = subprocess.Popen(
        [sys.executable, str(RUNNER), "--workflow", str(wf), "--workspace", str(ws), "--input", "who=x"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(),
    )
    deadline = time.monotonic() + 120
    while not (ws / "started").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the first step never started:\n{proc.communicate()[0]}")
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1, out
    assert (ws / "cleanup").read_text().strip() == "cancelled true"
    assert not (ws / "not-after-cancel").exists()


def _running(stat: Path) -> bool:
    try:
        return stat.read_text().rsplit(")", 1)[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_processes_left_running_are_stopped_at_the_end(tmp_path: Path) -> None:
    wf = workflow(tmp_path, """
jobs:
  main:
    runs-on: ubuntu-24.04
    steps:
      - run: |
          sleep 300 >/dev/null 2>&1 &
          echo $! >"$GITHUB_WORKSPACE/pid"
""")
    proc = run_it(wf, tmp_path)
    assert proc.returncode == 0, shown(proc)
    pid = int((tmp_path / "ws" / "pid").read_text())
    stat = Path(f"/proc/{pid}/stat")
    deadline = time.monotonic() + 10
    while _running(stat):
        assert time.monotonic() < deadline, f"process {pid} left by the step still runs\n{shown(proc)}"
        time.sleep(0.05)
    assert "cleaning up orphan processes" in proc.stdout


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--input", "nope=1"], "nope"),
        (["--input", "flag=maybe"], "flag"),
        (["--input", "count=many"], "count"),
    ],
)
def test_bad_inputs_are_refused_before_anything_runs(tmp_path: Path, args: list[str], named: str) -> None:
    wf = workflow(tmp_path, """
jobs:
  main:
    runs-on: ubuntu-24.04
    steps:
      - run: touch "$GITHUB_WORKSPACE/ran"
""")
    proc = run_it(wf, tmp_path, *args)
    assert proc.returncode == 2, shown(proc)
    assert named in proc.stderr
    assert not (tmp_path / "ws").exists()


def test_a_missing_required_input_is_named(tmp_path: Path) -> None:
    wf = workflow(tmp_path, "jobs:\n  main:\n    runs-on: x\n    steps:\n      - run: touch \"$GITHUB_WORKSPACE/ran\"\n")
    proc = runner("--workflow", str(wf), "--workspace", str(tmp_path / "ws"))
    assert proc.returncode == 2, shown(proc)
    assert "missing required input(s): who" in proc.stderr
    assert not (tmp_path / "ws").exists()


def test_an_unsupported_uses_is_refused_before_anything_runs(tmp_path: Path) -> None:
    wf = workflow(
        tmp_path,
        """
jobs:
  main:
    runs-on: ubuntu-24.04
    steps:
      - run: touch "$GITHUB_WORKSPACE/ran"
      - uses: actions/checkout@v5
      - uses: ./.github/actions/outer
""",
        files={
            ".github/actions/outer/action.yml": "runs:\n  using: composite\n  steps:\n    - uses: someone/tool@v1\n",
        },
    )
    proc = run_it(wf, tmp_path)
    assert proc.returncode == 2, shown(proc)
    assert "someone/tool@v1" in proc.stderr
    assert not (tmp_path / "ws").exists()


def test_upload_artifact_copies_what_it_would_upload(tmp_path: Path) -> None:
    wf = workflow(tmp_path, """
jobs:
  main:
    runs-on: ubuntu-24.04
    env:
      OUT: ${{ github.workspace }}/out
    steps:
      - run: |
          mkdir -p "$OUT/sub" "$OUT/.cache"
          echo a >"$OUT/a.txt"; echo b >"$OUT/sub/b.txt"; echo h >"$OUT/.hidden"; echo c >"$OUT/.cache/c"
          echo skip >"$OUT/skip.log"
      - id: up
        uses: actions/upload-artifact@v4
        with:
          name: evidence-${{ inputs.who }}
          path: |
            ${{ env.OUT }}
            !${{ env.OUT }}/*.log
          if-no-files-found: error
      - uses: actions/upload-artifact@v4
        with:
          name: nothing
          path: does-not-exist
      - run: echo "${{ steps.up.outputs.artifact-id }}" >"$GITHUB_WORKSPACE/id"
""")
    proc = run_it(wf, tmp_path)
    assert proc.returncode == 0, shown(proc)
    artifact = tmp_path / "ev" / "evidence-world"
    files = sorted(str(p.relative_to(artifact)) for p in artifact.rglob("*") if p.is_file())
    assert files == ["a.txt", "sub/b.txt"]
    assert (tmp_path / "ws" / "id").read_text().strip() == "1"
    assert "No files were found with the provided path: does-not-exist" in proc.stdout
    assert not (tmp_path / "ev" / "nothing").exists()
    assert f"artifact evidence-world: {artifact}" in proc.stdout


def test_upload_artifact_if_no_files_found_error_fails_the_step(tmp_path: Path) -> None:
    wf = workflow(tmp_path, """
jobs:
  main:
    runs-on: ubuntu-24.04
    steps:
      - id: up
        uses: actions/upload-artifact@v4
        with:
          name: empty
          path: nowhere/*
          if-no-files-found: error
      - if: always()
        run: echo "${{ steps.up.outcome }}" >"$GITHUB_WORKSPACE/outcome"
""")
    proc = run_it(wf, tmp_path)
    assert proc.returncode == 1, shown(proc)
    assert "No files were found with the provided path: nowhere/*" in proc.stdout
    assert (tmp_path / "ws" / "outcome").read_text().strip() == "failure"


COMPOSITES = {
    ".github/actions/greet/action.yml": """
name: greet
inputs:
  who: {required: true}
  punct: {default: "!"}
  fail: {default: "false"}
outputs:
  message: {value: "${{ steps.say.outputs.message }}"}
  inner: {value: "${{ steps.inner.outputs.echoed }}"}
runs:
  using: composite
  steps:
    - id: say
      shell: bash
      run: |
        from="$(basename "$GITHUB_ACTION_PATH")"
        echo "message=hi ${{ inputs.who }}${{ inputs.punct }} from $from ${{ env.CALLER_ENV }}" >>"$GITHUB_OUTPUT"
    - id: inner
      uses: ./.github/actions/inner
      with:
        value: ${{ steps.say.outputs.message }}
    - if: inputs.fail == 'true'
      shell: bash
      run: exit 4
    - shell: bash
      run: touch "$GITHUB_WORKSPACE/reached-${{ inputs.who }}"
    - if: failure()
      shell: bash
      run: echo "${{ github.action_status }}" >"$GITHUB_WORKSPACE/action-failure-seen"
""",
    ".github/actions/inner/action.yml": """
name: inner
inputs:
  value: {required: true}
outputs:
  echoed: {value: "${{ steps.e.outputs.echoed }}"}
runs:
  using: composite
  steps:
    - id: e
      shell: bash
      run: echo "echoed=[${{ inputs.value }}]" >>"$GITHUB_OUTPUT"
""",
}


def test_local_composite_actions_with_inputs_outputs_nesting_and_if(tmp_path: Path) -> None:
    wf = workflow(
        tmp_path,
        """
jobs:
  main:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v5
      - id: g
        uses: ./.github/actions/greet
        env:
          CALLER_ENV: from-caller
        with:
          who: ${{ inputs.who }}
      - run: |
          echo "${{ steps.g.outputs.message }}|${{ steps.g.outputs.inner }}" >"$GITHUB_WORKSPACE/greeting"
      - id: g2
        continue-on-error: true
        uses: ./.github/actions/greet
        with:
          who: again
          fail: "true"
      - run: echo "${{ steps.g2.outcome }} ${{ steps.g2.outputs.message }}" >"$GITHUB_WORKSPACE/g2"
""",
        files=COMPOSITES,
    )
    proc = run_it(wf, tmp_path)
    assert proc.returncode == 0, shown(proc)
    ws = tmp_path / "ws"
    assert (ws / "greeting").read_text().strip() == "hi world! from greet from-caller|[hi world! from greet from-caller]"
    assert (ws / "g2").read_text().strip() == "failure hi again! from greet"
    # after a failed step inside the action, its success() steps stop and failure() sees it
    assert (ws / "reached-world").exists() and not (ws / "reached-again").exists()
    assert (ws / "action-failure-seen").read_text().strip() == "failure"
    assert "  ==> [step 2.2/5] Run ./.github/actions/inner" in proc.stdout
    assert "    ==> [step 2.2.1/1]" in proc.stdout


@pytest.mark.parametrize("mode", ["worktree", "head", "link"])
def test_checkout_materialises_this_repository(tmp_path: Path, mode: str) -> None:
    wf = workflow(
        tmp_path,
        """
jobs:
  main:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v5
      - id: co
        uses: actions/checkout@v5
        with:
          repository: ${{ github.repository }}
          ref: ${{ github.sha }}
          path: co
      - run: |
          { cat co/a.txt; test -e co/new.txt && echo new || echo no-new; test -e co/gone.txt && echo gone-here || echo gone-absent
            git -C co rev-parse HEAD; test -L co && echo link || echo copy; cat a.txt; echo "${{ steps.co.outputs.commit }}"
          } >"$GITHUB_WORKSPACE/seen"
""",
        files={"a.txt": "committed\n", "gone.txt": "x\n"},
    )
    repo = wf.parents[2]
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()
    (repo / "a.txt").write_text("changed\n")
    (repo / "new.txt").write_text("untracked\n")
    (repo / "gone.txt").unlink()
    proc = run_it(wf, tmp_path, "--checkout", mode)
    assert proc.returncode == 0, shown(proc)
    seen = (tmp_path / "ws" / "seen").read_text().split("\n")
    expected = {
        "worktree": ["changed", "new", "gone-absent", head, "copy", "changed", head],
        "head": ["committed", "no-new", "gone-here", head, "copy", "committed", head],
        "link": ["changed", "new", "gone-absent", head, "link", "changed", head],
    }[mode]
    assert seen[:7] == expected
    # the repository itself is untouched by the run
    assert not (repo / "seen").exists() and not (repo / "co").exists()


@pytest.mark.parametrize(("mode", "expected"), [("worktree", "working tree"), ("head", "committed")])
def test_the_workflow_is_read_from_where_the_checkout_comes_from(tmp_path: Path, mode: str, expected: str) -> None:
    body = """
jobs:
  main:
    runs-on: ubuntu-24.04
    steps:
      - run: echo "steps from the {}"
"""
    wf = workflow(tmp_path, body.format("committed"))
    wf.write_text(HEADER + body.format("working tree"))
    proc = run_it(wf, tmp_path, "--checkout", mode)
    assert proc.returncode == 0, shown(proc)
    assert f"steps from the {expected}" in proc.stdout


def test_a_checkout_through_a_linked_checkout_never_touches_the_repository(tmp_path: Path) -> None:
    wf = workflow(tmp_path, """
jobs:
  main:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v5
        with: {path: co}
      - uses: actions/checkout@v5
        with: {path: co/inner}
""", files={"keep.txt": "kept\n"})
    repo = wf.parents[2]
    proc = run_it(wf, tmp_path, "--use-working-tree")
    assert proc.returncode == 1, shown(proc)
    assert "leads out of the workspace through a link" in proc.stdout
    assert (repo / "keep.txt").read_text() == "kept\n" and not (repo / "inner").exists()


def test_the_job_timeout_cancels_the_job_and_always_steps_still_run(tmp_path: Path) -> None:
    wf = workflow(tmp_path, """
jobs:
  main:
    runs-on: ubuntu-24.04
    timeout-minutes: ${{ inputs.count }}
    steps:
      - run: sleep 60
      - run: touch "$GITHUB_WORKSPACE/not-after-timeout"
      - if: always()
        run: echo "${{ job.status }}" >"$GITHUB_WORKSPACE/after"
""")
    began = time.monotonic()
    proc = run_it(wf, tmp_path, "--input", "count=0.03", timeout=60)
    assert proc.returncode == 1, shown(proc)
    assert time.monotonic() - began < 30
    assert (tmp_path / "ws" / "after").read_text().strip() == "cancelled"
    assert not (tmp_path / "ws" / "not-after-timeout").exists()
    assert "job main: cancelled (job timeout)" in proc.stdout


def test_checkout_of_another_repository_fails_the_step(tmp_path: Path) -> None:
    wf = workflow(tmp_path, """
jobs:
  main:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v5
        with: {repository: someone/else}
""")
    proc = run_it(wf, tmp_path)
    assert proc.returncode == 1, shown(proc)
    assert "someone/else" in proc.stdout


@pytest.mark.parametrize(("version", "code"), [("3.11", 0), ("2.6", 1)])
def test_setup_python_puts_that_version_first_on_path(tmp_path: Path, version: str, code: int) -> None:
    wf = workflow(tmp_path, f"""
jobs:
  main:
    runs-on: ubuntu-24.04
    steps:
      - id: py
        uses: actions/setup-python@v6
        with:
          python-version: "{version}"
      - run: |
          python -c 'import sys; print("%d.%d" % sys.version_info[:2])' >"$GITHUB_WORKSPACE/version"
          command -v python >>"$GITHUB_WORKSPACE/version"
          echo "${{{{ steps.py.outputs.python-version }}}}" >>"$GITHUB_WORKSPACE/version"
""")
    proc = run_it(wf, tmp_path)
    assert proc.returncode == code, shown(proc)
    if code == 0:
        got, where, full = (tmp_path / "ws" / "version").read_text().split("\n")[:3]
        assert got == "3.11" and full.startswith("3.11.")
        assert "/setup-python/" in where
    else:
        assert "no Python 2.6 on PATH" in proc.stdout


# --- the real workflow ---------------------------------------------------------------------------

SCRIPT = re.compile(r"scripts/(ci-[\w-]+\.sh)")


def _scripts_in_yaml_order(steps: list[dict[str, Any]]) -> list[str]:
    """The scripts/ci-*.sh each step calls, in the YAML's order, local actions expanded."""
    found: list[str] = []
    for step in steps:
        if "run" in step:
            found += SCRIPT.findall(str(step["run"]))
        uses = str(step.get("uses", ""))
        if uses.startswith("./"):
            action = REPO / uses.removeprefix("./").removeprefix(".chaosext/") / "action.yml"
            found += _scripts_in_yaml_order(load_yaml(action)["runs"]["steps"])
    return found


def _all_uses(doc: Any) -> list[str]:
    if isinstance(doc, dict):
        return [str(v) for k, v in doc.items() if k == "uses"] + [u for v in doc.values() for u in _all_uses(v)]
    if isinstance(doc, list):
        return [u for v in doc for u in _all_uses(v)]
    return []


def test_plan_of_chaos_yml_calls_the_scripts_in_the_yamls_order() -> None:
    proc = runner("--plan", "--input", "experiments=@chaosext/experiments/payment-instance-kill.json")
    assert proc.returncode == 0, shown(proc)
    planned = re.findall(r"^\s+script: \.chaosext/scripts/(ci-[\w-]+\.sh)$", proc.stdout, re.MULTILINE)
    expected = _scripts_in_yaml_order(load_yaml(WORKFLOWS / "chaos.yml")["jobs"]["chaos"]["steps"])
    assert expected, "chaos.yml calls no scripts/ci-*.sh"
    assert planned == expected
    steps = load_yaml(WORKFLOWS / "chaos.yml")["jobs"]["chaos"]["steps"]
    headers = re.findall(r"^==> \[step (\d+)/(\d+)\] (.*)$", proc.stdout, re.MULTILINE)
    assert [h[2] for h in headers] == [s.get("name") or f"Run {s.get('uses') or s['run'].splitlines()[0]}" for s in steps]
    assert "verdict=${{ steps.run.outputs.verdict || 'error' }}" in proc.stdout


def test_every_uses_in_chaos_yml_and_the_actions_is_supported() -> None:
    sources = [WORKFLOWS / "chaos.yml", *sorted(ACTIONS.glob("*/action.yml"))]
    uses = [u for path in sources for u in _all_uses(load_yaml(path))]
    assert uses
    unsupported = [u for u in uses if rw.classify_uses(u) is None]
    assert unsupported == []
    assert rw.classify_uses("someone/else@v1") is None and rw.classify_uses("docker://alpine:3") is None


def test_plan_refuses_an_unknown_input_of_chaos_yml() -> None:
    proc = runner("--plan", "--input", "experiments=x.json", "--input", "experiment=y.json")
    assert proc.returncode == 2, shown(proc)
    assert "unknown input(s): experiment" in proc.stderr
