#!/usr/bin/env bash
# Checks the target's steady state before any experiment: checkout ready, Toxiproxy proxies clean,
# every service scraped and up in Prometheus (cluster/ci/steady_state.py). Exit 1 if not met.
# Usage: scripts/ci-steady-state.sh [--var-file FILE] [--timeout SECONDS]
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"
usage="usage: scripts/ci-steady-state.sh [--var-file FILE] [--timeout SECONDS]"

var_file="$ci_root/cluster/targets/kind.yaml"
timeout=300
while (($#)); do
  case "$1" in
    --var-file) ci_need_value "$1" "${2:-}"; var_file="$(ci_resolve "$2")"; shift 2 ;;
    --timeout) ci_need_value "$1" "${2:-}"; timeout="$2"; shift 2 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) ci_usage_error "unknown argument '$1'" ;;
  esac
done
ci_positive_int --timeout "$timeout"
ci_step "steady state of the target in $var_file (deadline ${timeout}s)"
exec "$(ci_tool python)" "$ci_root/cluster/ci/steady_state.py" --var-file "$var_file" --timeout "$timeout"
