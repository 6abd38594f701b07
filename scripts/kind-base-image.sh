#!/usr/bin/env bash
# A Debian bookworm base image built on this machine, for machines that cannot pull images:
# debootstrap (minbase) from the apt mirror this machine already uses, then `docker import`.
# Every image chaosext builds locally starts from it (node image, services, stand-ins).
# Idempotent: the image present = nothing to do; the rootfs tarball is cached under
# $CHAOSEXT_CACHE_DIR/kind so a deleted image is re-imported without downloading anything.
# Prints the image name as its last line.
# Usage: scripts/kind-base-image.sh [--image NAME:TAG]
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"
usage="usage: scripts/kind-base-image.sh [--image NAME:TAG]"

image=chaosext/debian:bookworm
while (($#)); do
  case "$1" in
    --image) ci_need_value "$1" "${2:-}"; image="$2"; shift 2 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) ci_usage_error "unknown argument '$1'" ;;
  esac
done
command -v docker >/dev/null 2>&1 || ci_die "docker not found: run scripts/kind-docker.sh up"

if docker image inspect "$image" >/dev/null 2>&1; then
  ci_step "base image $image present"
  echo "$image"
  exit 0
fi

cache="$ci_cache/kind"
tarball="$cache/debian-bookworm-rootfs.tar"
mkdir -p "$cache"
if [[ ! -s "$tarball" ]]; then
  command -v debootstrap >/dev/null 2>&1 || {
    ci_step "installing debootstrap"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap
  }
  # the mirror this machine's apt already uses (deb822 .sources or a classic sources.list)
  mirror="$(grep -rhoE '^(URIs:|deb)\s+\S+' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
    | awk '{print $2}' | grep -E '/debian/?$' | head -1 || true)"
  [[ -n "$mirror" ]] || ci_die "no Debian mirror found in /etc/apt/sources.list{,.d}: debootstrap needs one"
  root="$(mktemp -d "$cache/rootfs.XXXXXX")"
  trap 'rm -rf "$root"' EXIT
  ci_step "debootstrap bookworm (minbase) from $mirror into $root (about 2 min)"
  debootstrap --variant=minbase --include=ca-certificates bookworm "$root" "$mirror" \
    | awk '/^I: (Retrieving|Validating|Extracting|Installing|Configuring) / {n++; if (n % 40 == 0) print "  " $0; next} {print "  " $0}'
  # the mirror for later `apt-get install` in images built on top
  printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n' "$mirror" "$mirror" >"$root/etc/apt/sources.list"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" --numeric-owner -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
fi
ci_step "importing $tarball as $image"
docker import --change 'CMD ["/bin/bash"]' --change 'ENV DEBIAN_FRONTEND=noninteractive' "$tarball" "$image" >/dev/null
ci_step "base image $image: $(docker image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')"
echo "$image"
