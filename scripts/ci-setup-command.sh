#!/usr/bin/env bash
# Runs the caller's own set-up command once the cluster is up (for example: build the caller's
# images and load them into the kind cluster), with bash -eo pipefail in the current folder (the
# caller's workspace). It sees CHAOSEXT_KIND_CLUSTER (the kind cluster's name), CHAOSEXT_KUBE_CONTEXT
# (its kube context, already the current one), CHAOSEXT_IMAGE_TAG (the tag given, may be empty) and
# CHAOSEXT_ROOT (the chaosext checkout). Its exit code is the step's.
# Usage: scripts/ci-setup-command.sh --command CMD [--kind-cluster NAME] [--image-tag TAG]
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"
usage="usage: scripts/ci-setup-command.sh --command CMD [--kind-cluster NAME] [--image-tag TAG]"

command=""
kind_cluster=chaosext
tag=""
while (($#)); do
  case "$1" in
    --command) ci_need_value "$1" "${2:-}"; command="$2"; shift 2 ;;
    --kind-cluster) ci_need_value "$1" "${2:-}"; kind_cluster="$2"; shift 2 ;;
    --image-tag) tag="${2:-}"; shift 2 || shift ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) ci_usage_error "unknown argument '$1'" ;;
  esac
done
[[ -n "$command" ]] || ci_usage_error "--command is required"

export CHAOSEXT_KIND_CLUSTER="$kind_cluster"
export CHAOSEXT_KUBE_CONTEXT="kind-$kind_cluster"
export CHAOSEXT_IMAGE_TAG="$tag"
export CHAOSEXT_ROOT="$ci_root"
ci_step "setup command (in $(pwd)): $command"
rc=0
bash -eo pipefail -c "$command" || rc=$?
if ((rc)); then
  ci_annotate error "the setup command failed (exit $rc): $command"
  exit "$rc"
fi
ci_step "setup command done"
