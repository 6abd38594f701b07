#!/usr/bin/env bash
# Installs chaosext from this repository (pinned by constraints.txt) into a venv, then the load
# generator the traffic actions run (Vegeta, built by `chaosext install --traffic`: go install into
# the chaosext cache, the same code `chaosext install` runs; needs Go on the PATH). In GitHub
# Actions it exports CHAOSEXT_VENV and puts the venv's bin folder and Vegeta's folder on the PATH
# of the next steps (GITHUB_ENV, GITHUB_PATH).
# Usage: scripts/ci-install-chaosext.sh [--venv DIR] [--python PYTHON]
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"
usage="usage: scripts/ci-install-chaosext.sh [--venv DIR] [--python PYTHON]"

venv="${RUNNER_TEMP:-/tmp}/chaosext-venv"
python=python3
while (($#)); do
  case "$1" in
    --venv) ci_need_value "$1" "${2:-}"; venv="$2"; shift 2 ;;
    --python) ci_need_value "$1" "${2:-}"; python="$2"; shift 2 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) ci_usage_error "unknown argument '$1'" ;;
  esac
done
command -v "$python" >/dev/null 2>&1 || ci_usage_error "--python: $python not found"
if [[ ! -x "$venv/bin/python" ]]; then
  ci_step "creating venv $venv with $("$python" --version)"
  "$python" -m venv "$venv"
fi
ci_step "installing chaosext from $ci_root into $venv"
"$venv/bin/pip" install -q --upgrade pip
# built from a copy of what the package needs, so the build leaves nothing in the checkout
src="$(mktemp -d)"
trap 'rm -rf "$src"' EXIT
cp -r "$ci_root/pyproject.toml" "$ci_root/README.md" "$ci_root/chaosext" "$src/"
"$venv/bin/pip" install -q -c "$ci_root/constraints.txt" "$src"
"$venv/bin/chaosext" --help >/dev/null
ci_step "installed: $("$venv/bin/pip" show chaosext-backend | grep -E '^(Name|Version):' | tr '\n' ' ')"
ci_step "installing the load generator (vegeta) into the chaosext cache"
vegeta="$("$venv/bin/chaosext" install --traffic)" || ci_die "vegeta could not be installed (above): every load action would fail"
[[ -x "$vegeta" ]] || ci_die "chaosext install --traffic reported '$vegeta', which is not an executable"
ci_step "vegeta: $vegeta"
if [[ -n "${GITHUB_ENV:-}" ]]; then echo "CHAOSEXT_VENV=$venv" >>"$GITHUB_ENV"; fi
if [[ -n "${GITHUB_PATH:-}" ]]; then
  echo "$venv/bin" >>"$GITHUB_PATH"
  dirname "$vegeta" >>"$GITHUB_PATH"
fi
