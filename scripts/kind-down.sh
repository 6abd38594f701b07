#!/usr/bin/env bash
# Deletes the kind cluster (`make kind-down`, `chaosext kind down`) and checks that none of its
# containers, volumes or (when no other kind cluster uses it) the `kind` network is left; then
# stops dockerd if scripts/kind-docker.sh started it, so the Docker engine is left as it was found.
# Images stay (they are the cache a second kind-up reuses).
# Usage: scripts/kind-down.sh [--name NAME] [--keep-engine]
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"
usage="usage: scripts/kind-down.sh [--name NAME] [--keep-engine]"

name=chaosext
keep_engine=false
while (($#)); do
  case "$1" in
    --name) ci_need_value "$1" "${2:-}"; name="$2"; shift 2 ;;
    --keep-engine) keep_engine=true; shift ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) ci_usage_error "unknown argument '$1'" ;;
  esac
done
export PATH="$ci_cache/bin:$PATH"

if ! docker info >/dev/null 2>&1; then
  ci_step "no Docker engine answers: no kind cluster to delete"
  exit 0
fi
label="io.x-k8s.kind.cluster=$name"
if command -v kind >/dev/null 2>&1 && kind get clusters 2>/dev/null | grep -qx "$name"; then
  ci_step "deleting kind cluster $name"
  kind delete cluster --name "$name"
fi
# whatever kind did not remove (a node of a half-created cluster, say), with its anonymous volumes
mapfile -t left < <(docker ps -aq --filter "label=$label")
if ((${#left[@]})); then
  ci_step "removing ${#left[@]} leftover node container(s) of $name"
  docker rm -f -v "${left[@]}" >/dev/null
fi
if docker network inspect kind >/dev/null 2>&1 \
  && [[ -z "$(docker network inspect kind --format '{{range .Containers}}{{.Name}} {{end}}')" ]]; then
  ci_step "removing the docker network kind (no container uses it)"
  docker network rm kind >/dev/null
fi
if [[ -n "$(docker ps -aq --filter "label=$label")" ]]; then
  ci_die "containers of kind cluster $name are still there: docker ps -a --filter label=$label"
fi
ci_step "kind cluster $name: no container left"
if ! $keep_engine; then
  "$ci_root/scripts/kind-docker.sh" down
fi
