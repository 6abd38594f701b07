#!/usr/bin/env bash
# Names a run's evidence artifact: <prefix>-<suffix>-<attempt>, unique per call of the reusable
# workflow. Several calls in one workflow run (a matrix, or two jobs calling it) share run_id and
# run_attempt, and inside a called workflow neither the caller's matrix nor its strategy.job-index
# is visible (strategy there is the called job's own: always 0 of 1); without a suffix their
# uploads would collide (HTTP 409). The suffix is --suffix when given, else the first 8 hex digits
# of the SHA-256 of --call (the call's inputs as JSON): calls that differ in any input differ, and a
# re-run attempt of the same call keeps its suffix. Matrix legs with identical inputs need an
# explicit --suffix (the caller passes e.g. ${{ strategy.job-index }}).
# Usage: scripts/ci-artifact-name.sh --prefix NAME [--suffix TEXT] [--call TEXT] [--attempt N]
# Prints artifact=<name> (also a step output).
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"
usage="usage: scripts/ci-artifact-name.sh --prefix NAME [--suffix TEXT] [--call TEXT] [--attempt N]"

prefix=""
suffix=""
call=""
attempt=1
while (($#)); do
  case "$1" in
    --prefix) ci_need_value "$1" "${2:-}"; prefix="$2"; shift 2 ;;
    --suffix) suffix="${2:-}"; shift 2 || shift ;;
    --call) call="${2:-}"; shift 2 || shift ;;
    --attempt) ci_need_value "$1" "${2:-}"; attempt="$2"; shift 2 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) ci_usage_error "unknown argument '$1'" ;;
  esac
done
[[ -n "$prefix" ]] || ci_usage_error "--prefix is required"
ci_positive_int --attempt "$attempt"
# artifact names refuse " : < > | * ? \ / and line breaks; these keep them readable too
name_chars='^[A-Za-z0-9][A-Za-z0-9._-]*$'
[[ "$prefix" =~ $name_chars ]] || ci_usage_error "--prefix: '$prefix' may hold only letters, digits, '.', '_' and '-'"
if [[ -n "$suffix" ]]; then
  [[ "$suffix" =~ $name_chars ]] || ci_usage_error "--suffix: '$suffix' may hold only letters, digits, '.', '_' and '-'"
elif [[ -n "$call" ]]; then
  suffix="$(printf '%s' "$call" | sha256sum | cut -c1-8)"
fi
ci_output artifact "$prefix${suffix:+-$suffix}-$attempt"
