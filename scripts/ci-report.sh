#!/usr/bin/env bash
# The experiment log of a run: `chaosext report` (Markdown + one PNG timeline per run) into
# <run-dir>/report/, then the job summary (cluster/ci/summary.py) into <run-dir>/job-summary.md
# and, on GitHub, $GITHUB_STEP_SUMMARY.
# Usage: scripts/ci-report.sh --run-dir DIR [--artifact NAME]
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"
usage="usage: scripts/ci-report.sh --run-dir DIR [--artifact NAME]"

run_dir=""
artifact=""
while (($#)); do
  case "$1" in
    --run-dir) ci_need_value "$1" "${2:-}"; run_dir="$2"; shift 2 ;;
    --artifact) ci_need_value "$1" "${2:-}"; artifact="$2"; shift 2 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) ci_usage_error "unknown argument '$1'" ;;
  esac
done
[[ -n "$run_dir" ]] || ci_usage_error "--run-dir is required"
[[ -d "$run_dir" ]] || ci_usage_error "--run-dir: $run_dir is not a folder"

shopt -s nullglob
journals=("$run_dir"/journals/*.json)
shopt -u nullglob
if ((${#journals[@]})); then
  ci_step "experiment log of ${#journals[@]} journal(s)"
  "$(ci_tool chaosext)" report "${journals[@]}" -o "$run_dir/report" \
    || ci_step "chaosext report failed (above): the summary has no experiment log"
else
  ci_step "no journal: the summary says so"
fi
verdict="$(cat "$run_dir/verdict.txt" 2>/dev/null || echo error)"
"$(ci_tool python)" "$ci_root/cluster/ci/summary.py" --run-dir "$run_dir" --verdict "$verdict" \
  ${artifact:+--artifact "$artifact"} >"$run_dir/job-summary.md"
if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
  cat "$run_dir/job-summary.md" >>"$GITHUB_STEP_SUMMARY"
  ci_step "job summary written ($(wc -c <"$run_dir/job-summary.md") bytes)"
else
  ci_step "job summary: $run_dir/job-summary.md"
fi
