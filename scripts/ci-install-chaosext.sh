#!/usr/bin/env bash
# Installs chaosext into a venv: from this repository (pinned by constraints.txt), or with
# --version a release of chaosext-backend from PyPI (pinned by its own metadata); then the load
# generator the traffic actions run (Vegeta, built by `chaosext install --traffic`: go install into
# the chaosext cache, the same code `chaosext install` runs; needs Go on the PATH). In GitHub
# Actions it exports CHAOSEXT_VENV and puts the venv's bin folder and Vegeta's folder on the PATH
# of the next steps (GITHUB_ENV, GITHUB_PATH).
# Usage: scripts/ci-install-chaosext.sh [--venv DIR] [--python PYTHON] [--version X.Y.Z]
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"
usage="usage: scripts/ci-install-chaosext.sh [--venv DIR] [--python PYTHON] [--version X.Y.Z]"

venv="${RUNNER_TEMP:-/tmp}/chaosext-venv"
python=python3
version=""
while (($#)); do
  case "$1" in
    --venv) ci_need_value "$1" "${2:-}"; venv="$2"; shift 2 ;;
    --python) ci_need_value "$1" "${2:-}"; python="$2"; shift 2 ;;
    --version) ci_need_value "$1" "${2:-}"; version="$2"; shift 2 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) ci_usage_error "unknown argument '$1'" ;;
  esac
done
command -v "$python" >/dev/null 2>&1 || ci_usage_error "--python: $python not found"
# a release's exact version (PEP 440 public version), never a range: the run must be reproducible
[[ -z "$version" || "$version" =~ ^[0-9]+(\.[0-9]+)*((a|b|rc)[0-9]+)?(\.post[0-9]+)?(\.dev[0-9]+)?$ ]] \
  || ci_usage_error "--version must be a release version such as 0.1.0, got '$version'"
if [[ ! -x "$venv/bin/python" ]]; then
  ci_step "creating venv $venv with $("$python" --version)"
  "$python" -m venv "$venv"
fi
"$venv/bin/pip" install -q --upgrade pip
if [[ -n "$version" ]]; then
  ci_step "installing chaosext-backend $version from PyPI into $venv"
  "$venv/bin/pip" install -q "chaosext-backend[report]==$version"
else
  ci_step "installing chaosext from $ci_root into $venv"
  # built from a copy of what the build reads (MANIFEST.in's list), so it leaves nothing in the checkout
  src="$(mktemp -d)"
  trap 'rm -rf "$src"' EXIT
  mkdir -p "$src/cluster"
  cp -r "$ci_root/pyproject.toml" "$ci_root/setup.py" "$ci_root/MANIFEST.in" "$ci_root/README.md" \
    "$ci_root/LICENSE" "$ci_root/CHANGELOG.md" "$ci_root/chaosext" "$ci_root/experiments" "$src/"
  cp -r "$ci_root/cluster/services" "$src/cluster/"
  "$venv/bin/pip" install -q -c "$ci_root/constraints.txt" "${src}[report]"
fi
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
