#!/usr/bin/env bash
# Collects what explains a run into <run-dir>/cluster/: objects, events, pod descriptions and every
# container's logs (current and previous) of the namespace, plus `kind export logs` when the
# cluster is a kind cluster. Best effort: a missing piece is noted, never fatal (runs on every
# outcome, also after a failed deploy).
# --kubeconfig: read the cluster with this kubeconfig instead of KUBECONFIG's: the workflow passes
# the job's admin one (the experiments' least-privilege identity may not read events, logs, nodes or
# Secrets; empty = KUBECONFIG's).
# Usage: scripts/ci-collect-logs.sh --run-dir DIR [--namespace NS] [--kind-cluster NAME] [--kubeconfig PATH]
set -uo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"
usage="usage: scripts/ci-collect-logs.sh --run-dir DIR [--namespace NS] [--kind-cluster NAME] [--kubeconfig PATH]"

run_dir=""
namespace=chaosext
kind_cluster=""
while (($#)); do
  case "$1" in
    --run-dir) ci_need_value "$1" "${2:-}"; run_dir="$2"; shift 2 ;;
    --namespace) ci_need_value "$1" "${2:-}"; namespace="$2"; shift 2 ;;
    --kind-cluster) ci_need_value "$1" "${2:-}"; kind_cluster="$2"; shift 2 ;;
    --kubeconfig) if [[ -n "${2:-}" ]]; then export KUBECONFIG="$2"; fi; shift 2 || shift ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) ci_usage_error "unknown argument '$1'" ;;
  esac
done
[[ -n "$run_dir" ]] || ci_usage_error "--run-dir is required"
out="$run_dir/cluster"
mkdir -p "$out/pods" || ci_die "--run-dir: cannot create $out"

note() { printf '%s\n' "$*" >>"$out/collect-notes.txt"; }
capture() { # capture FILE COMMAND...
  local file="$1"; shift
  "$@" >"$out/$file" 2>&1 || note "failed ($?): $*"
}
if ! kubectl version --request-timeout=10s >/dev/null 2>&1; then
  note "no API server reachable: nothing collected from the cluster"
  ci_step "no API server reachable; notes in $out/collect-notes.txt"
  exit 0
fi
ci_step "collecting namespace $namespace into $out"
capture objects.txt kubectl -n "$namespace" get all,pdb,configmaps,secrets,endpointslices -o wide
capture events.txt kubectl -n "$namespace" get events --sort-by=.lastTimestamp
capture nodes.txt kubectl get nodes -o wide
capture pods-describe.txt kubectl -n "$namespace" describe pods
capture workloads.yaml kubectl -n "$namespace" get deployments,statefulsets,jobs -o yaml
pods=0
while IFS= read -r pod; do
  [[ -n "$pod" ]] || continue
  pods=$((pods + 1))
  capture "pods/$pod.log" kubectl -n "$namespace" logs "$pod" --all-containers --prefix --timestamps
  kubectl -n "$namespace" logs "$pod" --all-containers --prefix --timestamps --previous \
    >"$out/pods/$pod.previous.log" 2>/dev/null || rm -f "$out/pods/$pod.previous.log"
done < <(kubectl -n "$namespace" get pods -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' 2>/dev/null)
if [[ -n "$kind_cluster" ]] && command -v kind >/dev/null 2>&1; then
  capture kind-export.txt kind export logs "$out/kind" --name "$kind_cluster"
fi
ci_step "collected: objects, events, $pods pod log(s)$( [[ -f "$out/collect-notes.txt" ]] && printf ' (%s notes)' "$(wc -l <"$out/collect-notes.txt")")"
exit 0
