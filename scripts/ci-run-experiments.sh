#!/usr/bin/env bash
# Runs every experiment matching the glob, one after the other, each with
# `chaos run --rollback-strategy always --var-file FILE`, journal and log into the run folder:
#   <run-dir>/journals/<name>.json, <run-dir>/logs/<name>.log, <run-dir>/experiments.txt
# A failed experiment does not stop the others: the gate (scripts/ci-gate.sh) judges the journals.
# Every glob must match at least one file: one that matches nothing is an argument error (a typo
# must not shrink the run silently).
# Each experiment gets --timeout-seconds (or --timeout-minutes): then `chaos run` gets SIGTERM (its
# rollbacks run and it writes its journal) and, --kill-after-seconds later, SIGKILL. A timed-out
# experiment is recorded as "timed out" in experiments.txt; the gate makes the run's verdict error.
# The var file's configuration is also exported as CHAOSEXT_<KEY> (cluster/ci/target_env.py), so
# activities see the whole target even when an experiment does not declare every key.
# Paths starting with @chaosext/ are inside this repository (the chaosext checkout); others are
# relative to the current folder (the caller's workspace).
# Usage: scripts/ci-run-experiments.sh --experiments GLOB [--var-file FILE] --run-dir DIR
#          [--timeout-seconds N | --timeout-minutes N] [--kill-after-seconds N]
# Exit: 0 when every experiment produced a journal in time, 1 when some did not, 2 on bad arguments.
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"
usage="usage: scripts/ci-run-experiments.sh --experiments GLOB [--var-file FILE] --run-dir DIR [--timeout-seconds N | --timeout-minutes N] [--kill-after-seconds N]"

glob=""
var_file="$ci_root/cluster/targets/kind.yaml"
run_dir=""
timeout_s=1200
kill_after_s=120
while (($#)); do
  case "$1" in
    --experiments) ci_need_value "$1" "${2:-}"; glob="$2"; shift 2 ;;
    --var-file) ci_need_value "$1" "${2:-}"; var_file="$(ci_resolve "$2")"; shift 2 ;;
    --run-dir) ci_need_value "$1" "${2:-}"; run_dir="$2"; shift 2 ;;
    --timeout-seconds) ci_need_value "$1" "${2:-}"; ci_positive_int "$1" "$2"; timeout_s="$2"; shift 2 ;;
    --timeout-minutes) ci_need_value "$1" "${2:-}"; ci_positive_int "$1" "$2"; timeout_s=$(($2 * 60)); shift 2 ;;
    --kill-after-seconds) ci_need_value "$1" "${2:-}"; ci_positive_int "$1" "$2"; kill_after_s="$2"; shift 2 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) ci_usage_error "unknown argument '$1'" ;;
  esac
done
[[ -n "$glob" ]] || ci_usage_error "--experiments is required"
[[ -n "$run_dir" ]] || ci_usage_error "--run-dir is required"
command -v timeout >/dev/null 2>&1 || ci_die "timeout (coreutils) not found: it bounds each experiment"

python="$(ci_tool python)"
chaos="$(ci_tool chaos)"
# the var file is checked (and its values exported) before anything runs
env_lines="$("$python" "$ci_root/cluster/ci/target_env.py" "$var_file")" \
  || ci_usage_error "--var-file: $var_file is not a usable var file (above)"
while IFS= read -r line; do
  [[ -n "$line" ]] && export "${line?}"
done <<<"$env_lines"

# expand the glob (space-separated globs allowed); ** matches across folders
shopt -s nullglob globstar
experiments=()
read -r -a patterns <<<"$glob"
for pattern in "${patterns[@]}"; do
  resolved="$(ci_resolve "$pattern")"
  # shellcheck disable=SC2206  # the pattern must be expanded here
  matches=($resolved)
  # a pattern without glob characters is kept as is even when no file has that name
  if ((${#matches[@]} == 0)) || [[ ! -e "${matches[0]}" ]]; then
    ci_usage_error "--experiments: '$pattern' matches no file (from $(pwd))"
  fi
  experiments+=("${matches[@]}")
done
shopt -u nullglob
((${#experiments[@]})) || ci_usage_error "--experiments: '$glob' matches no file (from $(pwd))"
for exp in "${experiments[@]}"; do
  [[ "$exp" == *.json || "$exp" == *.yaml || "$exp" == *.yml ]] \
    || ci_usage_error "--experiments: $exp is not an experiment file (.json, .yaml or .yml)"
done

mkdir -p "$run_dir/journals" "$run_dir/logs"
: >"$run_dir/experiments.txt"
ci_step "${#experiments[@]} experiment(s), target ${CHAOSEXT_TARGET:-local} ($var_file), run folder $run_dir, at most ${timeout_s}s each"
missing=0
timed_out=0
n=0
for exp in "${experiments[@]}"; do
  n=$((n + 1))
  name="$(basename "${exp%.*}")"
  journal="$run_dir/journals/$name.json"
  ci_step "[$n/${#experiments[@]}] $name: chaos run --rollback-strategy always $exp"
  start=$SECONDS
  rc=0
  # timeout signals chaos run's whole process group: SIGTERM (chaos runs the rollbacks, writes the
  # journal), then SIGKILL if it is still there after the grace period; 124 or 137 = timed out
  timeout --signal=TERM --kill-after="${kill_after_s}s" "${timeout_s}s" \
    "$chaos" --log-file "$run_dir/logs/$name.log" run --rollback-strategy always \
    --var-file "$var_file" --journal-path "$journal" "$exp" || rc=$?
  status="$(if [[ -f "$journal" ]]; then "$python" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("status", "?"))' "$journal"; else echo "no journal"; fi)"
  if (((rc == 124 || rc == 137) && SECONDS - start >= timeout_s)); then
    signal=$( ((rc == 124)) && echo SIGTERM || echo "SIGTERM, then SIGKILL after ${kill_after_s}s")
    status="timed out after ${timeout_s}s ($signal; journal: $status)"
    timed_out=$((timed_out + 1))
    ci_annotate error "experiment $name timed out after ${timeout_s}s: stopped with $signal; its verdict is error"
  fi
  ci_step "[$n/${#experiments[@]}] $name: exit $rc, status $status, $((SECONDS - start))s"
  printf '%s\t%s\t%s\t%s\n' "$name" "$exp" "$rc" "$status" >>"$run_dir/experiments.txt"
  [[ -f "$journal" ]] || missing=$((missing + 1))
done
if ((missing || timed_out)); then
  ci_step "$missing experiment(s) wrote no journal, $timed_out timed out"
  exit 1
fi
ci_step "all ${#experiments[@]} experiment(s) ran; journals in $run_dir/journals"
