#!/usr/bin/env bash
# Applies the caller's own manifests after the stack (or to the empty cluster): each entry is a
# kustomization folder (rendered with kubectl kustomize), a manifest file (.yaml, .yml, .json), a
# folder of manifest files, or a glob of those. Everything is rendered into one file first; its
# Namespaces are applied, then the whole is checked by a server-side dry run (the API server's own
# schemas), applied, then waited for: every Deployment, StatefulSet and DaemonSet rolled out,
# every Job complete, within one deadline.
# The rendered manifests are kept as <run-dir>/manifests-extra.yaml (evidence of what was applied).
# Paths starting with @chaosext/ are inside this repository; others are relative to the current
# folder (the caller's workspace).
# Usage: scripts/ci-apply-manifests.sh --manifests "PATH..." [--timeout SECONDS] [--run-dir DIR]
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"
usage='usage: scripts/ci-apply-manifests.sh --manifests "PATH..." [--timeout SECONDS] [--run-dir DIR]'

manifests=""
timeout=600
run_dir=""
while (($#)); do
  case "$1" in
    --manifests) ci_need_value "$1" "${2:-}"; manifests="$2"; shift 2 ;;
    --timeout) ci_need_value "$1" "${2:-}"; timeout="$2"; shift 2 ;;
    --run-dir) ci_need_value "$1" "${2:-}"; run_dir="$2"; shift 2 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) ci_usage_error "unknown argument '$1'" ;;
  esac
done
[[ -n "$manifests" ]] || ci_usage_error "--manifests is required"
ci_positive_int --timeout "$timeout"

is_manifest() { [[ "$1" == *.yaml || "$1" == *.yml || "$1" == *.json ]]; }
is_kustomization() { [[ -f "$1/kustomization.yaml" || -f "$1/kustomization.yml" || -f "$1/Kustomization" ]]; }

# every entry is checked before anything is applied
shopt -s nullglob globstar
sources=()
read -r -a patterns <<<"$manifests"
for pattern in "${patterns[@]}"; do
  resolved="$(ci_resolve "$pattern")"
  # shellcheck disable=SC2206  # the pattern must be expanded here
  matches=($resolved)
  ((${#matches[@]})) || ci_usage_error "--manifests: '$pattern' matches no file or folder (from $(pwd))"
  for path in "${matches[@]}"; do
    # a pattern without glob characters is kept as is even when nothing has that name
    [[ -e "$path" ]] || ci_usage_error "--manifests: '$pattern' matches no file or folder (from $(pwd))"
    if [[ -d "$path" ]] && is_kustomization "$path"; then
      sources+=("kustomize:$path")
    elif [[ -d "$path" ]]; then
      files=("$path"/*.yaml "$path"/*.yml "$path"/*.json)
      ((${#files[@]})) || ci_usage_error "--manifests: $path has no kustomization and no .yaml, .yml or .json file"
      for file in "${files[@]}"; do sources+=("file:$file"); done
    elif [[ -f "$path" ]] && is_manifest "$path"; then
      sources+=("file:$path")
    else
      ci_usage_error "--manifests: $path is not a kustomization folder or a manifest file (.yaml, .yml, .json)"
    fi
  done
done
shopt -u nullglob globstar

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
rendered="$tmp/manifests-extra.yaml"
: >"$rendered"
for source in "${sources[@]}"; do
  path="${source#*:}"
  ci_step "rendering $path"
  echo "---" >>"$rendered"
  if [[ "$source" == kustomize:* ]]; then
    kubectl kustomize "$path" >>"$rendered"
  else
    cat "$path" >>"$rendered"
    echo >>"$rendered"
  fi
done
if [[ -n "$run_dir" ]]; then mkdir -p "$run_dir"; cp "$rendered" "$run_dir/manifests-extra.yaml"; fi

python="$(ci_tool python)"
# the Namespaces among them are applied first: the dry run of the objects inside them needs them
"$python" -c '
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if isinstance(d, dict) and d.get("kind") == "Namespace"]
sys.stdout.write(yaml.safe_dump_all(docs) if docs else "")
' "$rendered" >"$tmp/namespaces.yaml"
if [[ -s "$tmp/namespaces.yaml" ]]; then
  ci_step "namespaces"
  kubectl apply -f "$tmp/namespaces.yaml"
fi
ci_step "server-side dry run of ${#sources[@]} source(s)"
kubectl apply --dry-run=server -f "$rendered" >/dev/null
ci_step "applying"
kubectl apply -f "$rendered"

deadline=$((SECONDS + timeout))
left() { local n=$((deadline - SECONDS)); ((n > 0)) || n=1; printf '%ss' "$n"; }
# the workloads among the applied objects: kind, namespace ("-" = the current one), name
mapfile -t objects < <("$python" -c '
import sys, yaml
for doc in yaml.safe_load_all(open(sys.argv[1])):
    if isinstance(doc, dict) and doc.get("kind") in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        meta = doc.get("metadata") or {}
        print(doc["kind"], meta.get("namespace") or "-", meta.get("name"), sep="\t")
' "$rendered")
waited=0
for line in "${objects[@]}"; do
  IFS=$'\t' read -r kind namespace name <<<"$line"
  ns=()
  if [[ "$namespace" != - ]]; then ns=(-n "$namespace"); fi
  case "$kind" in
    Deployment|StatefulSet|DaemonSet)
      kubectl "${ns[@]}" rollout status "$kind/$name" --timeout "$(left)" >/dev/null \
        || ci_die "$kind $namespace/$name did not become available within ${timeout}s"
      ;;
    Job)
      kubectl "${ns[@]}" wait --for=condition=complete "job/$name" --timeout "$(left)" >/dev/null \
        || ci_die "Job $namespace/$name did not complete within ${timeout}s"
      ;;
    *) continue ;;
  esac
  waited=$((waited + 1))
  ci_step "ready: $kind $namespace/$name"
done
ci_step "applied; $waited workload(s) ready"
