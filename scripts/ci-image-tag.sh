#!/usr/bin/env bash
# Prints the tag our images get: the given one, else this repository's git commit SHA, else the
# package version from pyproject.toml (a downloaded action has no .git). Never "latest".
# Usage: scripts/ci-image-tag.sh [TAG]
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"
usage="usage: scripts/ci-image-tag.sh [TAG]"

tag="${1:-}"
if [[ -z "$tag" ]]; then
  tag="$(git -C "$ci_root" rev-parse --verify -q "HEAD^{commit}" 2>/dev/null || true)"
fi
if [[ -z "$tag" ]]; then
  tag="$(sed -nE 's/^version = "([^"]+)"$/\1/p' "$ci_root/pyproject.toml" | head -n1)"
fi
[[ -n "$tag" ]] || ci_die "no image tag: not a git checkout and no version in pyproject.toml"
[[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || ci_usage_error "not a valid image tag: '$tag'"
[[ "$tag" != latest ]] || ci_usage_error "'latest' is not allowed: use the version or the git SHA"
printf '%s\n' "$tag"
