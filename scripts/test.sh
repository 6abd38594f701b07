#!/usr/bin/env bash
# The whole test suite: lint, type check, the unit layer (tests/unit: no stack, no cluster; the
# suite stops at its first failure), then pytest against real components (the tests start and
# stop the local stack and the Kubernetes control plane themselves).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
venv="${CHAOSEXT_VENV:-$here/.venv}"
echo "==> ruff"
"$venv/bin/ruff" check chaosext tests bench cluster/services cluster/ci
echo "==> mypy chaosext"
"$venv/bin/mypy" chaosext
echo "==> shellcheck"
shellcheck scripts/*.sh .ci/run
pytest=("$venv/bin/pytest" -p no:cacheprovider -ra --durations=15)
echo "==> pytest tests/unit (no stack, no cluster)"
# First and alone: a broken core fails in seconds, before any component is started.
"${pytest[@]}" -x tests/unit
echo "==> pytest"
# Leftovers of an earlier interrupted run would hold the ports the tests need.
"$venv/bin/chaosext" stack down >/dev/null 2>&1 || true
"$venv/bin/python" -m chaosext.localkube down >/dev/null 2>&1 || true
# the image and kind tests need a Docker engine: started here (installed if missing) and stopped
# again by the kind tests' scripts/kind-down.sh when this script started it
bash scripts/kind-docker.sh up
if (($#)); then
  exec "${pytest[@]}" "$@"
fi
# Two sessions: the local stack and the kind cluster map the same host ports (8080, 9090, ...),
# so the kind tests (tests/kind: the cluster, real pods, the workflow's steps end to end) run
# after the local stack is down; a kind cluster left by an earlier run is deleted first.
bash scripts/kind-down.sh --keep-engine >/dev/null
"${pytest[@]}" --ignore=tests/unit --ignore=tests/kind
"$venv/bin/chaosext" stack down >/dev/null 2>&1 || true
echo "==> pytest tests/kind (kind cluster with the sample stack)"
exec "${pytest[@]}" tests/kind
