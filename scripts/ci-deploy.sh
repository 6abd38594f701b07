#!/usr/bin/env bash
# Deploys the sample stack: renders the kustomize overlay with our images at --image-tag, creates
# the namespace and the TLS objects, validates every object with a server-side dry run (the API
# server's own schemas), applies, then waits until every workload is available.
# The rendered manifests are kept as <run-dir>/manifests.yaml (evidence of what was deployed).
# Usage: scripts/ci-deploy.sh [--overlay DIR] [--image-tag TAG] [--timeout SECONDS] [--run-dir DIR]
#        (kubectl's KUBECONFIG/context; the stack's namespace is chaosext)
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"
usage="usage: scripts/ci-deploy.sh [--overlay DIR] [--image-tag TAG] [--timeout SECONDS] [--run-dir DIR]"

overlay="$ci_root/cluster/overlays/kind"
tag=""
timeout=600
run_dir=""
namespace=chaosext
while (($#)); do
  case "$1" in
    --overlay) ci_need_value "$1" "${2:-}"; overlay="$(ci_resolve "$2")"; shift 2 ;;
    --image-tag) ci_need_value "$1" "${2:-}"; tag="$2"; shift 2 ;;
    --timeout) ci_need_value "$1" "${2:-}"; timeout="$2"; shift 2 ;;
    --run-dir) ci_need_value "$1" "${2:-}"; run_dir="$2"; shift 2 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) ci_usage_error "unknown argument '$1'" ;;
  esac
done
ci_positive_int --timeout "$timeout"
[[ -f "$overlay/kustomization.yaml" ]] || ci_usage_error "--overlay: no kustomization.yaml in $overlay"
if [[ -n "$tag" ]]; then
  [[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || ci_usage_error "--image-tag: not a valid image tag: '$tag'"
  [[ "$tag" != latest ]] || ci_usage_error "--image-tag: 'latest' is not allowed: use the version or the git SHA"
fi
overlay="$(cd "$overlay" && pwd)"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# a throw-away overlay on top of the chosen one, only to set our images' tag
{
  echo "apiVersion: kustomize.config.k8s.io/v1beta1"
  echo "kind: Kustomization"
  echo "resources:"
  # kustomize takes only relative paths to other kustomizations
  echo "  - $(realpath --relative-to="$tmp" "$overlay")"
  if [[ -n "$tag" ]]; then
    echo "images:"
    for image in checkout-api payment-service order-consumer chaosext; do
      echo "  - {name: chaosext/$image, newTag: \"$tag\"}"
    done
  fi
} >"$tmp/kustomization.yaml"
rendered="$tmp/manifests.yaml"
ci_step "rendering $overlay${tag:+ with image tag $tag}"
kubectl kustomize "$tmp" >"$rendered"
if grep -nE '^\s+image: \S+:latest\s*$|^\s+image: [^:]+$' "$rendered" >&2; then
  ci_die "an image has no tag or the tag 'latest' (above): every image must be pinned"
fi
if [[ -n "$run_dir" ]]; then mkdir -p "$run_dir"; cp "$rendered" "$run_dir/manifests.yaml"; fi
ci_step "$(grep -c '^kind:' "$rendered") objects rendered"

ci_step "namespace $namespace"
"$(ci_tool python)" -c 'import sys,yaml; [print(yaml.safe_dump(d)) for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "Namespace"]' \
  "$rendered" | kubectl apply -f -
"$ci_root/scripts/ci-make-tls.sh" --namespace "$namespace"
ci_step "server-side dry run (the API server validates every object against its schemas)"
kubectl apply --dry-run=server -f "$rendered" >/dev/null
ci_step "applying"
kubectl apply -f "$rendered"
"$ci_root/scripts/ci-wait-ready.sh" --namespace "$namespace" --timeout "$timeout"
