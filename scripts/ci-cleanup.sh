#!/usr/bin/env bash
# Removes every fault an interrupted experiment left behind (`chaosext cleanup`: markers, Toxiproxy
# toxics, DNS faults, annotations), then optionally deletes the kind cluster.
# A failed cleanup never changes the run's verdict and never fails the step: it is reported as a
# warning annotation (and a line in the job summary) and, with --run-dir, as
# <run-dir>/cleanup-failed.txt (what failed, exit code), next to the output in <run-dir>/cleanup.txt. (The kind cluster is thrown away with the runner;
# on a long-lived cluster, read cleanup-failed.txt and run `chaosext cleanup` there.)
# With --admin-kubeconfig (the workflow passes the job's admin kubeconfig once the experiments ran
# as the least-privilege identity): the fault markers are undone with KUBECONFIG's identity (the
# one the faults were made with, whose kube context they name), then the sweep for marks left in
# the cluster, which lists across namespaces, runs with the admin's (`chaosext cleanup` twice:
# --no-kube, then --kube; empty = one `chaosext cleanup` with KUBECONFIG's).
# Usage: scripts/ci-cleanup.sh [--run-dir DIR] [--delete-kind-cluster NAME] [--admin-kubeconfig PATH]
# Exit: 0, or 2 on bad arguments.
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"
usage="usage: scripts/ci-cleanup.sh [--run-dir DIR] [--delete-kind-cluster NAME] [--admin-kubeconfig PATH]"

run_dir=""
kind_cluster=""
admin_kubeconfig=""
while (($#)); do
  case "$1" in
    --run-dir) ci_need_value "$1" "${2:-}"; run_dir="$2"; shift 2 ;;
    --delete-kind-cluster) ci_need_value "$1" "${2:-}"; kind_cluster="$2"; shift 2 ;;
    --admin-kubeconfig) admin_kubeconfig="${2:-}"; shift 2 || shift ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) ci_usage_error "unknown argument '$1'" ;;
  esac
done
if [[ -n "$run_dir" ]]; then mkdir -p "$run_dir"; fi
out="${run_dir:+$run_dir/cleanup.txt}"
out="${out:-/dev/null}"

failed=()
# failure WHAT CODE: remembered, reported once at the end
failure() { failed+=("$1 failed (exit $2)"); }

rc=0
if chaosext="$(ci_tool chaosext 2>&1)"; then
  if [[ -n "$admin_kubeconfig" ]]; then
    ci_step "chaosext cleanup --no-kube (fault markers, as the identity the faults were made with)"
    "$chaosext" cleanup --no-kube 2>&1 | tee "$out" || rc=$?
    ((rc == 0)) || failure "chaosext cleanup --no-kube" "$rc"
    ci_step "chaosext cleanup --kube (marks left in the whole cluster, as the admin of $admin_kubeconfig)"
    rc=0
    KUBECONFIG="$admin_kubeconfig" KUBERNETES_CONTEXT="" "$chaosext" cleanup --kube 2>&1 | tee -a "$out" || rc=$?
    ((rc == 0)) || failure "chaosext cleanup --kube (admin)" "$rc"
  else
    ci_step "chaosext cleanup"
    "$chaosext" cleanup 2>&1 | tee "$out" || rc=$?
    ((rc == 0)) || failure "chaosext cleanup" "$rc"
  fi
else
  printf '%s\n' "$chaosext" | tee "$out" >&2
  failure "chaosext cleanup" 127
fi
if [[ -n "$kind_cluster" ]]; then
  ci_step "deleting kind cluster $kind_cluster"
  rc=0
  kind delete cluster --name "$kind_cluster" || rc=$?
  ((rc == 0)) || failure "kind delete cluster --name $kind_cluster" "$rc"
fi
if ((${#failed[@]})); then
  message="cleanup: $(printf '%s; ' "${failed[@]}")leftover faults may remain (the verdict is unaffected)"
  ci_annotate warning "$message"
  if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then printf '\n> **Warning:** %s\n' "$message" >>"$GITHUB_STEP_SUMMARY"; fi
  if [[ -n "$run_dir" ]]; then
    {
      echo "$message"
      printf '%s\n' "${failed[@]}"
      echo "output: cleanup.txt"
    } >"$run_dir/cleanup-failed.txt"
  fi
fi
exit 0
