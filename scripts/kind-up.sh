#!/usr/bin/env bash
# The sample stack on a kind cluster, on this machine (`make kind-up`, `chaosext kind up`).
# Idempotent: a second run reuses the engine, the images, the cluster and the deployment and
# builds nothing. The cluster and the stack come up through the same scripts/ci-*.sh that the
# composite actions call (cluster-up), in the same order, so this path and GitHub's cannot drift:
#   1. a Docker engine (scripts/kind-docker.sh)
#   2. kind (scripts/ci-install-kind.sh)
#   3. the cluster (scripts/ci-kind-up.sh): kind's pinned node image where it can be pulled, else
#      one built here (scripts/kind-node-image.sh) with the local kind config
#   4. the stack's images built and loaded (scripts/ci-build-images.sh; where nothing can be
#      pulled: on the local Debian base, with stand-ins for the third-party images)
#   5. deploy and wait for every workload (scripts/ci-deploy.sh)
#   6. the steady state (scripts/ci-steady-state.sh)
# --offline builds the node image here even where kind's could be pulled.
# The last lines are CONTEXT=<kube context> and KUBECONFIG=<path>.
# Usage: scripts/kind-up.sh [--offline] [--config FILE] [--timeout SECONDS] [--run-dir DIR]
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"
usage="usage: scripts/kind-up.sh [--offline] [--config FILE] [--timeout SECONDS] [--run-dir DIR]"

config=""
timeout=900
name=chaosext
run_dir="${CHAOSEXT_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/chaosext}/kind"
while (($#)); do
  case "$1" in
    --offline) export CHAOSEXT_KIND_OFFLINE=1; shift ;;
    --config) ci_need_value "$1" "${2:-}"; config="$(ci_resolve "$2")"; shift 2 ;;
    --timeout) ci_need_value "$1" "${2:-}"; timeout="$2"; shift 2 ;;
    --run-dir) ci_need_value "$1" "${2:-}"; run_dir="$2"; shift 2 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) ci_usage_error "unknown argument '$1'" ;;
  esac
done
ci_positive_int --timeout "$timeout"
[[ -z "$config" || -f "$config" ]] || ci_usage_error "--config: $config does not exist"
started=$SECONDS
phase() { ci_step "[$1/6, $((SECONDS - started)) s] $2"; }

phase 1 "Docker engine"
"$ci_root/scripts/kind-docker.sh" up
phase 2 "kind"
"$ci_root/scripts/ci-install-kind.sh"
export PATH="$ci_cache/bin:$PATH"
phase 3 "cluster $name (node image: kind's pinned default where it can be pulled, else built here)"
"$ci_root/scripts/ci-kind-up.sh" ${config:+--config "$config"} --name "$name"
# kubectl of the node's Kubernetes version, where the node binaries were built here
node_bin="$("$(ci_tool python)" -c 'from chaosext.localkube.nodebuild import node_bin_dir; print(node_bin_dir())')"
if [[ -x "$node_bin/kubectl" ]]; then export PATH="$node_bin:$PATH"; fi
tag="$("$ci_root/scripts/ci-image-tag.sh")"
phase 4 "the stack's images (tag $tag) built and loaded into the cluster"
"$ci_root/scripts/ci-build-images.sh" --tag "$tag" --kind-cluster "$name"
phase 5 "deploy the stack and wait for every workload"
mkdir -p "$run_dir"
"$ci_root/scripts/ci-deploy.sh" --overlay "$ci_root/cluster/overlays/kind" --image-tag "$tag" \
  --timeout "$timeout" --run-dir "$run_dir"
phase 6 "steady state"
"$ci_root/scripts/ci-steady-state.sh" --var-file "$ci_root/cluster/targets/kind.yaml" --timeout "$timeout"
ci_step "kind cluster $name with the sample stack ready in $((SECONDS - started)) s"
echo "CONTEXT=kind-$name"
echo "KUBECONFIG=${KUBECONFIG:-$HOME/.kube/config}"
