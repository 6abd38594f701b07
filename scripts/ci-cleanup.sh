#!/usr/bin/env bash
# Removes every fault an interrupted experiment left behind (`chaosext cleanup`: markers, Toxiproxy
# toxics, DNS faults, annotations), then optionally deletes the kind cluster.
# Usage: scripts/ci-cleanup.sh [--run-dir DIR] [--delete-kind-cluster NAME]
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"
usage="usage: scripts/ci-cleanup.sh [--run-dir DIR] [--delete-kind-cluster NAME]"

run_dir=""
kind_cluster=""
while (($#)); do
  case "$1" in
    --run-dir) ci_need_value "$1" "${2:-}"; run_dir="$2"; shift 2 ;;
    --delete-kind-cluster) ci_need_value "$1" "${2:-}"; kind_cluster="$2"; shift 2 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) ci_usage_error "unknown argument '$1'" ;;
  esac
done
ci_step "chaosext cleanup"
rc=0
if [[ -n "$run_dir" ]]; then
  mkdir -p "$run_dir"
  "$(ci_tool chaosext)" cleanup 2>&1 | tee "$run_dir/cleanup.txt" || rc=$?
else
  "$(ci_tool chaosext)" cleanup || rc=$?
fi
if [[ -n "$kind_cluster" ]]; then
  ci_step "deleting kind cluster $kind_cluster"
  kind delete cluster --name "$kind_cluster" || rc=$?
fi
exit "$rc"
