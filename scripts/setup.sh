#!/usr/bin/env bash
# One idempotent set-up for a fresh machine: Debian packages, the Python venv, then every
# component of the local stack and of the Kubernetes test control plane, fetched and built
# into the cache (~/.cache/chaosext). A second run downloads nothing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
venv="${CHAOSEXT_VENV:-$here/.venv}"
# Go may live outside PATH on these machines (the official tarball's place)
[[ -x /usr/local/go/bin/go ]] && export PATH="$PATH:/usr/local/go/bin"
sudo=""
[[ "$(id -u)" == 0 ]] || sudo="sudo"
step() { printf '\n==> [setup %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

apt_packages=(haproxy prometheus redis-server shellcheck stress-ng wrk)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  step "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  step "Debian packages present: ${apt_packages[*]}"
fi
# Debian's packages may start their daemons; the stack runs its own copies under supervisord.
# Only the daemons Debian started (their system paths and configs), never a stack's own copies.
for pattern in '^/usr/bin/prometheus$' '^/usr/bin/redis-server 127.0.0.1:6379' '^/usr/sbin/haproxy -Ws -f /etc/haproxy'; do
  $sudo pkill -f "$pattern" 2>/dev/null || true
done

if [[ ! -x "$venv/bin/python" ]]; then
  step "creating the Python venv at $venv"
  python3 -m venv "$venv"
fi
stamp="$venv/.chaosext-installed"
if [[ ! -f "$stamp" || pyproject.toml -nt "$stamp" || constraints.txt -nt "$stamp" ]]; then
  step "installing chaosext and its Python dependencies into $venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q -c constraints.txt -e ".[all,dev]"
  touch "$stamp"
else
  step "Python dependencies up to date in $venv"
fi

step "fetching and building the local stack's components (cache: ${CHAOSEXT_CACHE_DIR:-$HOME/.cache/chaosext})"
"$venv/bin/chaosext" install
step "installing the workflow linters (actionlint)"
bash scripts/ci-install-lint-tools.sh
step "building the Kubernetes control plane for tests (cache: ${CHAOSEXT_CACHE_DIR:-$HOME/.cache/chaosext}/kube)"
"$venv/bin/chaosext" install --kube
step "set-up done"
