#!/usr/bin/env bash
# Creates the kind cluster (idempotent: an existing cluster of that name is reused) and makes its
# context the current one. Needs Docker and kind (scripts/ci-install-kind.sh). Without
# --node-image: kind's pinned default image where it can be pulled, else a node image built on this
# machine (scripts/kind-node-image.sh) with cluster/kind/kind-config.local.yaml in place of the
# default configuration.
# Usage: scripts/ci-kind-up.sh [--config FILE] [--node-image IMAGE] [--name NAME] [--wait SECONDS]
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"
usage="usage: scripts/ci-kind-up.sh [--config FILE] [--node-image IMAGE] [--name NAME] [--wait SECONDS]"

config="$ci_root/cluster/kind/kind-config.yaml"
node_image=""
name=chaosext
wait_s=180
while (($#)); do
  case "$1" in
    --config) ci_need_value "$1" "${2:-}"; config="$(ci_resolve "$2")"; shift 2 ;;
    --node-image) node_image="${2:-}"; shift 2 || shift ;;
    --name) ci_need_value "$1" "${2:-}"; name="$2"; shift 2 ;;
    --wait) ci_need_value "$1" "${2:-}"; wait_s="$2"; shift 2 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) ci_usage_error "unknown argument '$1'" ;;
  esac
done
[[ -f "$config" ]] || ci_usage_error "--config: $config does not exist"
ci_positive_int --wait "$wait_s"
if [[ -n "$node_image" && "$node_image" == *:latest ]]; then
  ci_usage_error "--node-image: pin a version (kindest/node:vX.Y.Z), not latest"
fi
command -v kind >/dev/null 2>&1 || ci_die "kind not found: run scripts/ci-install-kind.sh"
command -v docker >/dev/null 2>&1 || ci_die "docker not found: kind runs its nodes as Docker containers"

# no node image named: kind's pinned default where it can be pulled (GitHub), else one built here
# (scripts/kind-node-image.sh), which goes with the local variant of the default configuration
if [[ -z "$node_image" ]]; then
  node_image="$("$ci_root/scripts/kind-node-image.sh" | tail -1)"
  if [[ "$node_image" != kindest/node:* && "$config" == "$ci_root/cluster/kind/kind-config.yaml" ]]; then
    config="$ci_root/cluster/kind/kind-config.local.yaml"
  fi
fi

if kind get clusters 2>/dev/null | grep -qx "$name"; then
  ci_step "kind cluster $name exists: reused"
else
  ci_step "creating kind cluster $name from $config${node_image:+ with $node_image}"
  kind create cluster --name "$name" --config "$config" ${node_image:+--image "$node_image"} --wait "${wait_s}s"
fi
kubectl config use-context "kind-$name" >/dev/null
kubectl get nodes -o wide
ci_output kube-context "kind-$name"
