#!/usr/bin/env bash
# The SLO gate over a run's journals: `chaosext gate --junit`, its table kept as <run-dir>/gate.txt
# and the verdict (pass, fail or error) as <run-dir>/verdict.txt and the step output `verdict`.
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

shopt -s nullglob
journals=("$run_dir"/journals/*.json)
shopt -u nullglob
verdict=error
if ((${#journals[@]} == 0)); then
  echo "no journal in $run_dir/journals: nothing to judge" | tee "$run_dir/gate.txt"
else
  ci_step "judging ${#journals[@]} journal(s)"
  rc=0
  COLUMNS=160 "$(ci_tool chaosext)" gate --junit "$run_dir/junit.xml" "${journals[@]}" >"$run_dir/gate.txt" 2>&1 || rc=$?
  cat "$run_dir/gate.txt"
  case "$rc" in
    0) verdict=pass ;;
    1) verdict=fail ;;
    *) verdict=error ;;
  esac
  # every experiment of the run must have left a journal, or the run is not judged complete
  if [[ "$verdict" == pass && -f "$run_dir/experiments.txt" ]] \
     && (($(wc -l <"$run_dir/experiments.txt") > ${#journals[@]})); then
    echo "some experiments wrote no journal (see experiments.txt)" | tee -a "$run_dir/gate.txt"
    verdict=error
  fi
fi
echo "$verdict" >"$run_dir/verdict.txt"
ci_output verdict "$verdict"
