#!/usr/bin/env bash
# Checks a release is consistent before anything is built: the version is written once, in
# pyproject.toml; a tag must be v<that version>; CHANGELOG.md must have a section for it; and, for
# a tag (what publishes), the project URLs must name the repository the workflow runs in (so a
# placeholder owner never reaches PyPI). Prints the version.
# Usage: scripts/ci-release-check.sh [--ref-type tag|branch] [--ref-name NAME] [--repository OWNER/NAME]
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"
usage="usage: scripts/ci-release-check.sh [--ref-type tag|branch] [--ref-name NAME] [--repository OWNER/NAME]"

ref_type=""
ref_name=""
repository=""
while (($#)); do
  case "$1" in
    --ref-type) ci_need_value "$1" "${2:-}"; ref_type="$2"; shift 2 ;;
    --ref-name) ci_need_value "$1" "${2:-}"; ref_name="$2"; shift 2 ;;
    --repository) ci_need_value "$1" "${2:-}"; repository="$2"; shift 2 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) ci_usage_error "unknown argument '$1'" ;;
  esac
done
case "$ref_type" in
  ""|tag|branch) ;;
  *) ci_usage_error "--ref-type must be tag or branch, got '$ref_type'" ;;
esac
[[ -z "$repository" || "$repository" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] \
  || ci_usage_error "--repository must be OWNER/NAME, got '$repository'"

pyproject="$ci_root/pyproject.toml"
version="$(sed -nE 's/^version = "([^"]+)"$/\1/p' "$pyproject" | head -n1)"
[[ -n "$version" ]] || ci_die "no version = \"...\" line in $pyproject"
if [[ "$ref_type" == tag && "$ref_name" != "v$version" ]]; then
  ci_die "the tag is '$ref_name' but pyproject.toml says version $version: tag v$version, or change the version"
fi
grep -qE "^## \[$(printf '%s' "$version" | sed 's/\./\\./g')\]" "$ci_root/CHANGELOG.md" \
  || ci_die "CHANGELOG.md has no '## [$version]' section: write what this release changes"
if [[ -n "$repository" ]]; then
  urls="$(sed -nE 's/^[A-Za-z]+ = "(https:\/\/github\.com\/[^"]*)"$/\1/p' "$pyproject")"
  [[ -n "$urls" ]] || ci_die "no github.com project URL in $pyproject"
  foreign="$(grep -v "^https://github.com/$repository\([/#]\|$\)" <<<"$urls" || true)"
  if [[ -n "$foreign" ]]; then
    if [[ "$ref_type" == tag ]]; then
      ci_die "project URLs in pyproject.toml do not name $repository: $(tr '\n' ' ' <<<"$foreign")"
    fi
    ci_annotate warning "project URLs in pyproject.toml do not name $repository (a tag would stop here)"
  fi
fi
ci_step "release $version consistent (ref: ${ref_type:-none} ${ref_name:-})"
ci_output version "$version"
