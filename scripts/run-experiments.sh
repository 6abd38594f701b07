#!/usr/bin/env bash
# The main job: bring the local stack up, run every experiment against it with rollbacks always
# on, archive each journal under journals/, gate them, write the experiment log, bring the stack
# down. Usage: scripts/run-experiments.sh [EXPERIMENT.json ...]   (default: experiments/*.json)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
venv="${CHAOSEXT_VENV:-$here/.venv}"
chaosext="$venv/bin/chaosext"
chaos="$venv/bin/chaos"
run_dir="${CHAOSEXT_RUN_DIR:-$here/.run/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$run_dir"
step() { printf '\n==> [%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

if (($#)); then experiments=("$@"); else experiments=(experiments/*.json); fi
if [[ ! -e "${experiments[0]}" ]]; then
  echo "no experiments found (experiments/*.json)" >&2
  exit 2
fi

# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
  step "removing leftover faults and bringing the stack down"
  "$chaosext" cleanup || true
  "$chaosext" stack down || true
}
trap cleanup EXIT

step "bringing the local stack up"
"$chaosext" stack up

# The steady-state probes look at the last 20 s of Prometheus data: an experiment that starts right
# after another would judge its "before" on the tail of the previous one's fault.
settle="${CHAOSEXT_SETTLE_SECONDS:-25}"
journals=()
first=1
for exp in "${experiments[@]}"; do
  name="$(basename "$exp" .json)"
  if ((first == 0)); then
    step "letting the SLO window clear for ${settle}s"
    sleep "$settle"
  fi
  first=0
  step "experiment $name"
  journal="$run_dir/$name.json"
  # chaos exits non-zero on a deviation; the gate decides below, so keep going
  "$chaos" --log-file "$run_dir/$name.log" run --rollback-strategy always \
    --var target=local --journal-path "$journal" "$exp" || true
  if [[ -f "$journal" ]]; then
    archived="$("$chaosext" archive "$journal" --experiment "$exp" --target local --dest journals \
      --log "$run_dir/$name.log")"
    journals+=("$archived")
  else
    echo "no journal written for $name" >&2
  fi
done

step "gate"
status=0
"$chaosext" gate --junit "$run_dir/junit.xml" "${journals[@]}" || status=$?
step "experiment log"
"$chaosext" report "${journals[@]}" -o journals/report
echo "experiment log: journals/report/experiment-log.md"
exit "$status"
