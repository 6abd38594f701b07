#!/usr/bin/env bash
# Builds our images (checkout-api, payment-service, order-consumer from cluster/services; chaosext
# from the repository root) tagged --tag (the package version or the git SHA, never latest) and
# loads them into the kind cluster. Needs Docker.
# Usage: scripts/ci-build-images.sh --tag TAG [--kind-cluster NAME]
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"
usage="usage: scripts/ci-build-images.sh --tag TAG [--kind-cluster NAME]"

tag=""
kind_cluster=""
while (($#)); do
  case "$1" in
    --tag) ci_need_value "$1" "${2:-}"; tag="$2"; shift 2 ;;
    --kind-cluster) ci_need_value "$1" "${2:-}"; kind_cluster="$2"; shift 2 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) ci_usage_error "unknown argument '$1'" ;;
  esac
done
[[ -n "$tag" ]] || ci_usage_error "--tag is required"
[[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || ci_usage_error "--tag: not a valid image tag: '$tag'"
[[ "$tag" != latest ]] || ci_usage_error "--tag: 'latest' is not allowed: use the version or the git SHA"
command -v docker >/dev/null 2>&1 || ci_die "docker not found"

export DOCKER_BUILDKIT=1
images=()
for pkg in checkout_api payment_service order_consumer; do
  image="chaosext/${pkg//_/-}:$tag"
  ci_step "building $image"
  docker build -f "$ci_root/cluster/services/$pkg/Dockerfile" -t "$image" "$ci_root/cluster/services"
  images+=("$image")
done
image="chaosext/chaosext:$tag"
ci_step "building $image"
docker build -f "$ci_root/cluster/images/chaosext.Dockerfile" -t "$image" "$ci_root"
images+=("$image")
if [[ -n "$kind_cluster" ]]; then
  ci_step "loading ${#images[@]} images into kind cluster $kind_cluster"
  kind load docker-image --name "$kind_cluster" "${images[@]}"
fi
ci_output images "${images[*]}"
