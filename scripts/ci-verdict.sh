#!/usr/bin/env bash
# The job's last word: exit 1 on a breach when --fail-on-breach is true, and always on an error
# verdict (the experiments could not be judged); exit 0 otherwise. An empty verdict (the gate never
# ran: an earlier step such as the cluster set-up failed) is an error.
# Usage: scripts/ci-verdict.sh --verdict pass|fail|error [--fail-on-breach true|false]
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"
usage="usage: scripts/ci-verdict.sh --verdict pass|fail|error [--fail-on-breach true|false]"

verdict=""
fail_on_breach=true
while (($#)); do
  case "$1" in
    --verdict) verdict="${2:-}"; shift 2 || shift ;;
    --fail-on-breach) ci_need_value "$1" "${2:-}"; fail_on_breach="$2"; shift 2 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) ci_usage_error "unknown argument '$1'" ;;
  esac
done
case "$fail_on_breach" in true|false) ;; *) ci_usage_error "--fail-on-breach must be true or false, got '$fail_on_breach'" ;; esac
case "$verdict" in
  pass) ci_step "verdict: pass"; exit 0 ;;
  fail)
    if [[ "$fail_on_breach" == true ]]; then ci_step "verdict: fail (a breach fails the job)"; exit 1; fi
    ci_step "verdict: fail (reported only: fail-on-breach is false)"; exit 0 ;;
  error) ci_step "verdict: error (the experiments could not be judged: see the gate output)"; exit 1 ;;
  "") ci_step "verdict: error (no verdict: the gate did not run, an earlier step failed)"; exit 1 ;;
  *) ci_usage_error "--verdict must be pass, fail or error, got '$verdict'" ;;
esac
