#!/usr/bin/env bash
# Waits until every Deployment and StatefulSet of the namespace has rolled out and is available
# (kubectl rollout status: the controllers' own status, no sleeps) and every Job has completed,
# within one overall deadline. Prints one line per workload.
# Usage: scripts/ci-wait-ready.sh [--namespace NS] [--timeout SECONDS]
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"
usage="usage: scripts/ci-wait-ready.sh [--namespace NS] [--timeout SECONDS]"

namespace=chaosext
timeout=600
while (($#)); do
  case "$1" in
    --namespace) ci_need_value "$1" "${2:-}"; namespace="$2"; shift 2 ;;
    --timeout) ci_need_value "$1" "${2:-}"; timeout="$2"; shift 2 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) ci_usage_error "unknown argument '$1'" ;;
  esac
done
ci_positive_int --timeout "$timeout"

deadline=$((SECONDS + timeout))
left() { local n=$((deadline - SECONDS)); ((n > 0)) || n=1; printf '%ss' "$n"; }

mapfile -t workloads < <(kubectl -n "$namespace" get deployments,statefulsets -o name)
((${#workloads[@]})) || ci_die "no Deployment or StatefulSet in namespace $namespace"
ci_step "waiting for ${#workloads[@]} workloads in namespace $namespace (deadline ${timeout}s)"
for w in "${workloads[@]}"; do
  if ! kubectl -n "$namespace" rollout status "$w" --timeout "$(left)" >/dev/null; then
    kubectl -n "$namespace" get "$w" -o wide >&2 || true
    ci_die "$w did not become available within ${timeout}s"
  fi
  ci_step "ready: $w ($(kubectl -n "$namespace" get "$w" -o jsonpath='{.status.readyReplicas}/{.spec.replicas}'))"
done
mapfile -t jobs < <(kubectl -n "$namespace" get jobs -o name)
for j in "${jobs[@]}"; do
  if ! kubectl -n "$namespace" wait --for=condition=complete "$j" --timeout "$(left)" >/dev/null; then
    kubectl -n "$namespace" get "$j" -o wide >&2 || true
    ci_die "$j did not complete within ${timeout}s"
  fi
  ci_step "complete: $j"
done
ci_step "namespace $namespace ready: ${#workloads[@]} workloads available, ${#jobs[@]} jobs complete"
