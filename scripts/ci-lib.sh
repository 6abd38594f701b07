#!/usr/bin/env bash
# Shared by the scripts/ci-*.sh steps (sourced, not run): where the repository, the venv and the
# tools are, progress lines, argument errors. The same scripts run in the GitHub workflows and in
# the tests here (tests/cluster), so nothing in them assumes GitHub Actions: the GITHUB_* files
# (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_ENV, GITHUB_PATH) are written only when set.
# shellcheck shell=bash

# shellcheck disable=SC2034  # used by the scripts that source this file
ci_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ci_venv="${CHAOSEXT_VENV:-$ci_root/.venv}"
# shellcheck disable=SC2034
ci_cache="${CHAOSEXT_CACHE_DIR:-$HOME/.cache/chaosext}"

# the chaosext venv's tool if there is one, else the one on PATH
ci_tool() {
  if [[ -x "$ci_venv/bin/$1" ]]; then
    printf '%s\n' "$ci_venv/bin/$1"
  elif command -v "$1" >/dev/null 2>&1; then
    command -v "$1"
  else
    ci_die "$1 not found (looked in $ci_venv/bin and PATH): install chaosext first (scripts/ci-install-chaosext.sh)"
  fi
}

ci_step() { printf '==> [%s %s] %s\n' "$(basename "$0" .sh)" "$(date -u +%H:%M:%S)" "$*"; }
ci_die() { printf 'error: %s\n' "$*" >&2; exit 2; }
ci_usage_error() { printf 'error: %s\n%s\n' "$1" "${usage:-}" >&2; exit 2; }

# ci_annotate LEVEL MESSAGE: a GitHub annotation (LEVEL warning or error) in GitHub Actions, a
# plain "LEVEL: MESSAGE" line on stderr elsewhere
ci_annotate() {
  if [[ "${GITHUB_ACTIONS:-}" == true ]]; then
    printf '::%s::%s\n' "$1" "$2"
  else
    printf '%s: %s\n' "$1" "$2" >&2
  fi
}

# ci_need_value OPTION VALUE: an option given without its value is an argument error
ci_need_value() { [[ -n "${2:-}" ]] || ci_usage_error "$1 needs a value"; }

# ci_positive_int NAME VALUE
ci_positive_int() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || ci_usage_error "$1 must be a positive integer, got '$2'"; }

# ci_output KEY VALUE: a step output (GITHUB_OUTPUT when set), always echoed
ci_output() {
  printf '%s=%s\n' "$1" "$2"
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"; fi
}

# ci_resolve PATH: "@chaosext/x" is x inside this repository (the chaosext checkout); anything
# else is relative to the current directory (the caller's workspace in a workflow)
ci_resolve() {
  case "$1" in
    @chaosext/*) printf '%s/%s\n' "$ci_root" "${1#@chaosext/}" ;;
    *) printf '%s\n' "$1" ;;
  esac
}
