#!/usr/bin/env bash
# Installs kind (pinned) with go install into $CHAOSEXT_CACHE_DIR/bin, idempotently, and puts it
# on the PATH of the next workflow steps (GITHUB_PATH) when run in GitHub Actions.
# Usage: scripts/ci-install-kind.sh          (KIND_VERSION overrides the pinned version)
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"

KIND_VERSION="${KIND_VERSION:-v0.33.0}"
bin="$ci_cache/bin"
kind="$bin/kind"
if [[ -x "$kind" ]] && "$kind" version | grep -q "kind $KIND_VERSION "; then
  ci_step "kind $KIND_VERSION present: $kind"
else
  command -v go >/dev/null 2>&1 || ci_die "go not found: kind is built with go install"
  ci_step "building kind $KIND_VERSION with go install into $bin"
  mkdir -p "$bin"
  GOPATH="$ci_cache/gopath" GOCACHE="$ci_cache/gocache" GOBIN="$bin" GOFLAGS=-modcacherw \
    go install "sigs.k8s.io/kind@$KIND_VERSION"
  ci_step "$("$kind" version)"
fi
if [[ -n "${GITHUB_PATH:-}" ]]; then echo "$bin" >>"$GITHUB_PATH"; fi
