#!/usr/bin/env bash
# The SLO gate over a run's journals: `chaosext gate --junit --markdown`, its table kept as
# <run-dir>/gate.txt (text) and <run-dir>/gate.md (Markdown, for the job summary), and the verdict
# (pass, fail or error) as <run-dir>/verdict.txt and the step output `verdict`.
# error = the run could not be judged: no or unreadable journals, an experiment that wrote no
# journal or timed out (experiments.txt), or an activity that failed because a tool is missing or
# a control endpoint is unreachable (chaosext gate exit 2). error wins over fail.
# Exits 0 whatever the verdict, so the report, cleanup and upload steps still run:
# scripts/ci-verdict.sh fails the job at the end.
# Usage: scripts/ci-gate.sh --run-dir DIR
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"
usage="usage: scripts/ci-gate.sh --run-dir DIR"

run_dir=""
while (($#)); do
  case "$1" in
    --run-dir) ci_need_value "$1" "${2:-}"; run_dir="$2"; shift 2 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) ci_usage_error "unknown argument '$1'" ;;
  esac
done
[[ -n "$run_dir" ]] || ci_usage_error "--run-dir is required"
[[ -d "$run_dir" ]] || ci_usage_error "--run-dir: $run_dir is not a folder"

# note TEXT: a finding of this script, in both the text and the Markdown gate output
note() {
  echo "$1" | tee -a "$run_dir/gate.txt"
  printf '\n**%s**\n' "$1" >>"$run_dir/gate.md"
}

shopt -s nullglob
journals=("$run_dir"/journals/*.json)
shopt -u nullglob
verdict=error
: >"$run_dir/gate.txt"
: >"$run_dir/gate.md"
if ((${#journals[@]} == 0)); then
  note "no journal in $run_dir/journals: nothing to judge"
else
  ci_step "judging ${#journals[@]} journal(s)"
  rc=0
  COLUMNS=160 "$(ci_tool chaosext)" gate --junit "$run_dir/junit.xml" --markdown "$run_dir/gate.md" \
    "${journals[@]}" >"$run_dir/gate.txt" 2>&1 || rc=$?
  cat "$run_dir/gate.txt"
  case "$rc" in
    0) verdict=pass ;;
    1) verdict=fail ;;
    *) verdict=error ;;
  esac
  if [[ -f "$run_dir/experiments.txt" ]]; then
    # every experiment of the run must have left a journal and finished in time, or the run is not
    # judged complete
    while IFS=$'\t' read -r name _ _ status; do
      if [[ "$status" == "timed out"* ]]; then
        note "experiment $name $status: not judged"
        verdict=error
      fi
    done <"$run_dir/experiments.txt"
    if (($(wc -l <"$run_dir/experiments.txt") > ${#journals[@]})); then
      note "some experiments wrote no journal (see experiments.txt): not judged"
      verdict=error
    fi
  fi
fi
echo "$verdict" >"$run_dir/verdict.txt"
ci_output verdict "$verdict"
