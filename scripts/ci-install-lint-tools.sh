#!/usr/bin/env bash
# Installs the workflow linters the checks use, idempotently, into $CHAOSEXT_CACHE_DIR/bin:
# actionlint (go install, pinned). shellcheck comes from apt (scripts/setup.sh) and
# check-jsonschema from the venv (pyproject dev dependencies). A second run downloads nothing.
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"

ACTIONLINT_VERSION="${ACTIONLINT_VERSION:-v1.7.12}"
bin="$ci_cache/bin"
actionlint="$bin/actionlint"

if [[ -x "$actionlint" ]] && [[ "$("$actionlint" --version | head -n1)" == "$ACTIONLINT_VERSION" ]]; then
  ci_step "actionlint $ACTIONLINT_VERSION present: $actionlint"
else
  command -v go >/dev/null 2>&1 || ci_die "go not found: actionlint is built with go install"
  ci_step "building actionlint $ACTIONLINT_VERSION with go install into $bin"
  mkdir -p "$bin"
  GOPATH="$ci_cache/gopath" GOCACHE="$ci_cache/gocache" GOBIN="$bin" GOFLAGS=-modcacherw \
    go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
  ci_step "actionlint $("$actionlint" --version | head -n1) installed"
fi
command -v shellcheck >/dev/null 2>&1 || ci_step "warning: shellcheck not found (apt-get install shellcheck)"
