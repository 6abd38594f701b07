#!/usr/bin/env bash
# Makes sure a Docker engine answers, for kind. Idempotent.
#   up:   an engine that answers is used as it is. Otherwise Debian's docker.io is installed (if
#         dockerd is missing) and dockerd is started in the background; chaosext records that it
#         started it, so `down` can stop it again. Where this machine's capability bounding set
#         lacks capabilities that privileged containers ask for (CAP_SYS_RESOURCE in some
#         sandboxes), runc fails with "unable to apply caps"; then cluster/kind/node/runc-capfix is
#         installed as /usr/local/sbin/runc-capfix and registered as Docker's default runtime by
#         merging two keys into /etc/docker/daemon.json (every other key is kept). On a full
#         bounding set (GitHub's runners, most machines) nothing is configured.
#   down: stops dockerd only if `up` started it; an engine found running is left running.
#   needs-capfix: exit 0 when the bounding set lacks capabilities (the wrapper is needed).
# Usage: scripts/kind-docker.sh up|down|needs-capfix
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"
usage="usage: scripts/kind-docker.sh up|down|needs-capfix"

state="${CHAOSEXT_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/chaosext}/docker"
started_marker="$state/started-by-chaosext"
wrapper=/usr/local/sbin/runc-capfix
daemon_json=/etc/docker/daemon.json
sudo=""
[[ "$(id -u)" == 0 ]] || sudo="sudo"

# every capability up to CAP_CHECKPOINT_RESTORE (40) present in the bounding set?
needs_capfix() {
  local bnd
  bnd="$(awk '/^CapBnd:/ {print $2}' /proc/self/status)"
  (( (0x$bnd & 0x1ffffffffff) != 0x1ffffffffff ))
}

engine_answers() { docker info >/dev/null 2>&1; }

default_runtime() { docker info --format '{{.DefaultRuntime}}' 2>/dev/null || true; }

install_docker() {
  if command -v dockerd >/dev/null 2>&1; then return; fi
  ci_step "installing Debian's docker.io (no Docker engine on this machine)"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io jq
}

# merge {"runtimes": {"runc-capfix": {"path": ...}}, "default-runtime": "runc-capfix"} into daemon.json
configure_capfix() {
  command -v jq >/dev/null 2>&1 || $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q jq
  $sudo install -m 0755 "$ci_root/cluster/kind/node/runc-capfix" "$wrapper"
  $sudo mkdir -p "$(dirname "$daemon_json")"
  local current='{}'
  [[ -s "$daemon_json" ]] && current="$(cat "$daemon_json")"
  local merged
  merged="$(jq --arg path "$wrapper" \
    '.runtimes = ((.runtimes // {}) + {"runc-capfix": {"path": $path}}) | ."default-runtime" = "runc-capfix"' \
    <<<"$current")" || ci_die "$daemon_json is not valid JSON: fix it by hand (nothing was changed)"
  if [[ "$merged" != "$(jq . <<<"$current")" ]]; then
    [[ -s "$daemon_json" && ! -e "$daemon_json.before-chaosext" ]] && $sudo cp "$daemon_json" "$daemon_json.before-chaosext"
    printf '%s\n' "$merged" | $sudo tee "$daemon_json" >/dev/null
    ci_step "registered $wrapper as Docker's default runtime in $daemon_json (other keys kept)"
  fi
}

start_dockerd() {
  mkdir -p "$state"
  ci_step "starting dockerd (log: $state/dockerd.log)"
  # its own session, so it outlives this script and the make that called it
  # a daemon keeps no descriptor of the shell that started it: an inherited one (a `flock` lock
  # file, a pipe of the caller's) would stay open, and its lock held, as long as dockerd runs
  (
    for fd in /proc/self/fd/*; do
      fd="${fd##*/}"
      if ((fd > 2)); then eval "exec ${fd}>&-" 2>/dev/null || true; fi
    done
    exec $sudo setsid dockerd --pidfile "$state/dockerd.pid" >>"$state/dockerd.log" 2>&1 </dev/null
  ) &
  local deadline=$((SECONDS + 60))
  until engine_answers; do
    if ((SECONDS > deadline)); then
      tail -20 "$state/dockerd.log" >&2
      ci_die "dockerd did not answer within 60 s (log above: $state/dockerd.log)"
    fi
    sleep 0.5
  done
  date -u +%FT%TZ >"$started_marker"
}

stop_dockerd() {
  local pid
  pid="$(cat "$state/dockerd.pid" 2>/dev/null || true)"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    ci_step "stopping dockerd (pid $pid), which scripts/kind-docker.sh started"
    $sudo kill -TERM "$pid"
    local deadline=$((SECONDS + 60))
    while kill -0 "$pid" 2>/dev/null; do
      ((SECONDS < deadline)) || { $sudo kill -KILL "$pid" 2>/dev/null || true; break; }
      sleep 0.5
    done
  fi
  # containerd that dockerd started for itself goes with it
  rm -f "$started_marker"
}

cmd="${1:-}"
case "$cmd" in
  needs-capfix) needs_capfix ;;
  up)
    if engine_answers; then
      ci_step "Docker engine answers: $(docker version --format 'server {{.Server.Version}}' 2>/dev/null)"
      if needs_capfix && [[ "$(default_runtime)" != runc-capfix ]]; then
        if [[ -f "$started_marker" ]]; then
          configure_capfix
          stop_dockerd
          start_dockerd
        else
          ci_die "this machine's capability bounding set lacks capabilities, so privileged containers (kind's nodes) fail under plain runc; the running Docker engine was not started by chaosext, so it is left alone: add {\"runtimes\": {\"runc-capfix\": {\"path\": \"$wrapper\"}}, \"default-runtime\": \"runc-capfix\"} to $daemon_json (install cluster/kind/node/runc-capfix there) and restart it"
        fi
      fi
    else
      install_docker
      if needs_capfix; then configure_capfix; fi
      start_dockerd
    fi
    ci_step "Docker engine ready: $(docker version --format 'server {{.Server.Version}}, runtime ' 2>/dev/null)$(default_runtime)"
    ;;
  down)
    if [[ -f "$started_marker" ]]; then
      stop_dockerd
    else
      ci_step "Docker engine was not started by chaosext: left as it is"
    fi
    ;;
  -h|--help) echo "$usage" ;;
  *) ci_usage_error "unknown command '${cmd}'" ;;
esac
