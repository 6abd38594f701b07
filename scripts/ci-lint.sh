#!/usr/bin/env bash
# Static checks of the CI bundle: actionlint on every workflow (with shellcheck on their run:
# blocks), JSON-schema validation of the workflows and of the composite actions' metadata
# (check-jsonschema's vendored GitHub schemas), shellcheck on the ci scripts, every third-party
# action pinned to a full commit SHA, and kustomize rendering of the manifests.
# Usage: scripts/ci-lint.sh            (tools: scripts/ci-install-lint-tools.sh)
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"
cd "$ci_root"

actionlint="$ci_cache/bin/actionlint"
[[ -x "$actionlint" ]] || actionlint="$(command -v actionlint || true)"
[[ -n "$actionlint" ]] || ci_die "actionlint not found: run scripts/ci-install-lint-tools.sh"
check_jsonschema="$(ci_tool check-jsonschema)"
shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
actions=(.github/actions/*/action.yml .github/actions/*/action.yaml)
shopt -u nullglob
((${#workflows[@]})) || ci_die "no workflow in .github/workflows"

failed=0
run() { # run LABEL COMMAND...
  local label="$1"; shift
  if "$@"; then ci_step "ok: $label"; else ci_step "FAILED: $label"; failed=$((failed + 1)); fi
}
run "actionlint (${#workflows[@]} workflows; composite actions through their callers)" "$actionlint" -no-color
run "workflow schema (${#workflows[@]} files)" "$check_jsonschema" --builtin-schema vendor.github-workflows "${workflows[@]}"
if ((${#actions[@]})); then
  run "action metadata schema (${#actions[@]} files)" "$check_jsonschema" --builtin-schema vendor.github-actions "${actions[@]}"
fi
stand_in_scripts=(cluster/images/stand-ins/kafka/*.sh cluster/images/stand-ins/kafka/run cluster/images/stand-ins/redis/*.sh)
run "shellcheck scripts/ci-*.sh cluster/base/kafka/start.sh cluster/images/stand-ins" \
  shellcheck -x scripts/ci-*.sh cluster/base/kafka/start.sh "${stand_in_scripts[@]}"
pinned() {
  # every `uses:` is a local path (./...) or owner/repo[/path]@<40 hex digits>
  local bad
  bad="$(grep -nE '^\s*(-\s*)?uses:' "${workflows[@]}" "${actions[@]}" \
    | grep -vE 'uses:\s*\./' | grep -vE 'uses:\s*[^@[:space:]]+@[0-9a-f]{40}(\s|$)' || true)"
  if [[ -n "$bad" ]]; then printf 'not pinned to a full commit SHA:\n%s\n' "$bad" >&2; return 1; fi
}
run "every third-party action pinned to a full commit SHA" pinned
for dir in cluster/base cluster/overlays/kind; do
  run "kustomize renders $dir" bash -c "kubectl kustomize '$dir' >/dev/null"
done
((failed == 0)) || ci_die "$failed check(s) failed"
ci_step "all checks passed"
