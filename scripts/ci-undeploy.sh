#!/usr/bin/env bash
# Removes the sample stack: deletes its namespace and waits until it is gone (also its
# cluster-wide leftovers: none, the stack has only namespaced objects).
# Usage: scripts/ci-undeploy.sh [--namespace NS] [--timeout SECONDS]
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"
usage="usage: scripts/ci-undeploy.sh [--namespace NS] [--timeout SECONDS]"

namespace=chaosext
timeout=300
while (($#)); do
  case "$1" in
    --namespace) ci_need_value "$1" "${2:-}"; namespace="$2"; shift 2 ;;
    --timeout) ci_need_value "$1" "${2:-}"; timeout="$2"; shift 2 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) ci_usage_error "unknown argument '$1'" ;;
  esac
done
ci_positive_int --timeout "$timeout"
ci_step "deleting namespace $namespace"
kubectl delete namespace "$namespace" --ignore-not-found --wait=true --timeout "${timeout}s"
ci_step "namespace $namespace gone"
