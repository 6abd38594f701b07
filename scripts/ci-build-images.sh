#!/usr/bin/env bash
# Builds our images tagged --tag (the package version or the git SHA, never latest):
# checkout-api, payment-service, order-consumer (cluster/services/Dockerfile, one per SERVICE) and
# chaosext (cluster/images/chaosext.Dockerfile), all on --base-image; with --kind-cluster, loads
# them into that kind cluster. Needs Docker with BuildKit.
#   --base-image IMAGE  the Python 3.11 base. Default: python:3.11-slim where it can be pulled
#                       (GitHub); where it cannot, chaosext/python:3.11-bookworm with --stand-ins,
#                       so one command serves both machines. A chaosext/python:*
#                       name is built here from cluster/images/python-base.Dockerfile on the local
#                       Debian base (scripts/kind-base-image.sh), for machines that cannot pull.
#   --stand-ins         also builds the stand-ins for the third-party images the manifests use
#                       (cluster/images/stand-ins/*.Dockerfile, each tagged with the name in its
#                       io.chaosext.stand-in-for label, e.g. apache/kafka:4.1.1) on the local
#                       Debian base, from what `chaosext install` cached (Kafka jars, Toxiproxy)
#                       and Prometheus built here from its Go module (once, cached; needs Go);
#                       loaded into the kind cluster too. Off by default: where images can be
#                       pulled (GitHub) the kubelet pulls the official ones.
#   --no-cache          every layer rebuilt (Docker's layer cache unused); the base images and
#                       the binaries cached under $CHAOSEXT_CACHE_DIR are reused.
# Idempotent: unchanged inputs rebuild nothing (Docker's layer cache). Each build's output goes to
# a log file (its tail is printed when it fails); one line per image with its time.
# Usage: scripts/ci-build-images.sh --tag TAG [--kind-cluster NAME] [--base-image IMAGE] [--stand-ins] [--no-cache]
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"
usage="usage: scripts/ci-build-images.sh --tag TAG [--kind-cluster NAME] [--base-image IMAGE] [--stand-ins] [--no-cache]"

tag=""
kind_cluster=""
base_image=""
stand_ins=false
no_cache=()
while (($#)); do
  case "$1" in
    --tag) ci_need_value "$1" "${2:-}"; tag="$2"; shift 2 ;;
    --kind-cluster) ci_need_value "$1" "${2:-}"; kind_cluster="$2"; shift 2 ;;
    --base-image) ci_need_value "$1" "${2:-}"; base_image="$2"; shift 2 ;;
    --stand-ins) stand_ins=true; shift ;;
    --no-cache) no_cache=(--no-cache); shift ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) ci_usage_error "unknown argument '$1'" ;;
  esac
done
[[ -n "$tag" ]] || ci_usage_error "--tag is required"
[[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || ci_usage_error "--tag: not a valid image tag: '$tag'"
[[ "$tag" != latest ]] || ci_usage_error "--tag: 'latest' is not allowed: use the version or the git SHA"
[[ -z "$base_image" || "$base_image" =~ ^[a-z0-9][a-z0-9._/:@-]*$ ]] || ci_usage_error "--base-image: not an image reference: '$base_image'"
command -v docker >/dev/null 2>&1 || ci_die "docker not found"

# The first docker client on PATH that builds with BuildKit: one with the buildx plugin, or one
# older than 23.0 (BuildKit built in). A newer client without buildx cannot (the Dockerfiles rely
# on BuildKit: RUN --mount for the CA secret, per-Dockerfile .dockerignore, unused stages skipped).
buildkit_docker() {
  local candidate major
  while read -r candidate; do
    if "$candidate" buildx version >/dev/null 2>&1; then
      printf '%s\n' "$candidate"
      return 0
    fi
    major="$("$candidate" version --format '{{.Client.Version}}' 2>/dev/null || true)"
    major="${major%%.*}"
    if [[ "$major" =~ ^[0-9]+$ ]] && ((major < 23)); then
      printf '%s\n' "$candidate"
      return 0
    fi
  done < <(type -ap docker)
  return 1
}
docker="$(buildkit_docker)" \
  || ci_die "no docker client on PATH builds with BuildKit: install the buildx plugin (docker-buildx)"
"$docker" info >/dev/null 2>&1 || ci_die "the Docker engine does not answer ($docker info failed)"
export DOCKER_BUILDKIT=1
if [[ -z "$base_image" ]]; then
  if "$docker" image inspect python:3.11-slim >/dev/null 2>&1 || "$docker" pull -q python:3.11-slim >/dev/null 2>&1; then
    base_image=python:3.11-slim
  else
    ci_step "python:3.11-slim cannot be pulled here: the local Debian base and stand-ins for the third-party images"
    base_image=chaosext/python:3.11-bookworm
    stand_ins=true
  fi
fi

# the CA bundle pip trusts inside the builds (a build secret, not kept in the images): this
# machine's, so a TLS-inspecting proxy's CA is trusted there as it is here
ca_bundle="${CHAOSEXT_BUILD_CA_BUNDLE:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}"
secret=()
if [[ -s "$ca_bundle" ]]; then secret=(--secret "id=ca-bundle,src=$ca_bundle"); fi

logs="$ci_cache/build-images"
mkdir -p "$logs"
started=$SECONDS
built=()       # images to load into kind
summary=()     # "image seconds" per build

# build IMAGE DOCKERFILE CONTEXT [docker build options...]
build() {
  local image="$1" dockerfile="$2" context="$3" t0=$SECONDS log cached steps
  shift 3
  log="$logs/$(tr '/:' '__' <<<"$image").log"
  ci_step "building $image (${dockerfile#"$ci_root/"}; log: $log)"
  if ! "$docker" build --progress=plain "${no_cache[@]}" "${secret[@]}" -f "$dockerfile" -t "$image" "$@" "$context" >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    ci_die "building $image failed after $((SECONDS - t0)) s (full log: $log)"
  fi
  # the Dockerfile's steps ("#N [stage i/n] ..." but FROM) and how many came from the cache
  read -r cached steps < <(awk '
    /^#[0-9]+ \[/ && /[0-9]+\/[0-9]+\]/ && !/\] FROM / { step[$1] = 1 }
    /^#[0-9]+ CACHED/ { hit[$1] = 1 }
    END { n = 0; c = 0; for (s in step) { n++; if (s in hit) c++ }; print c, n }' "$log")
  ci_step "built $image in $((SECONDS - t0)) s ($cached of $steps steps cached)"
  summary+=("$image $((SECONDS - t0))")
}

# the local Debian base (chaosext/debian:bookworm), made once by scripts/kind-base-image.sh
debian_image=""
ensure_debian_base() {
  if [[ -z "$debian_image" ]]; then
    debian_image="$("$ci_root/scripts/kind-base-image.sh" | tee /dev/stderr | tail -1)"
  fi
}

# our own Python base where nothing can be pulled
if [[ "$base_image" == chaosext/python:* ]]; then
  ensure_debian_base
  build "$base_image" "$ci_root/cluster/images/python-base.Dockerfile" "$ci_root/cluster/images" \
    --build-arg "DEBIAN_IMAGE=$debian_image"
fi

for pkg in checkout_api payment_service order_consumer; do
  image="chaosext/${pkg//_/-}:$tag"
  build "$image" "$ci_root/cluster/services/Dockerfile" "$ci_root/cluster/services" \
    --build-arg "BASE_IMAGE=$base_image" --build-arg "SERVICE=$pkg"
  built+=("$image")
done
image="chaosext/chaosext:$tag"
build "$image" "$ci_root/cluster/images/chaosext.Dockerfile" "$ci_root" --build-arg "BASE_IMAGE=$base_image"
built+=("$image")
ours=("${built[@]}")

# stand_in_name DOCKERFILE: the official image a stand-in replaces (its io.chaosext.stand-in-for label)
stand_in_name() {
  sed -n 's/.*io\.chaosext\.stand-in-for="\([^"]*\)".*/\1/p' "$1" | head -1
}

# stage NAME: a fresh build context under the cache with the stand-in's own files (if any)
stage() {
  local dir="$ci_cache/stand-ins/$1"
  rm -rf "$dir"
  mkdir -p "$dir"
  if [[ -d "$ci_root/cluster/images/stand-ins/$1" ]]; then
    cp -a "$ci_root/cluster/images/stand-ins/$1/." "$dir/"
  fi
  printf '%s\n' "$dir"
}

# link_or_copy SRC DEST: hard links where the cache and the stage share a file system
link_or_copy() { cp -al "$1" "$2" 2>/dev/null || cp -a "$1" "$2"; }

# prometheus_binaries VERSION: prometheus and promtool X.Y.Z built from the Go module (module
# version v0.<100X+Y>.Z is the vX.Y.Z tag), with the release's example configuration, LICENSE and
# NOTICE; built once into the cache. Prints the folder.
prometheus_binaries() {
  local version="$1" major minor patch module out go src work t0=$SECONDS
  IFS=. read -r major minor patch <<<"$version"
  module="v0.$((major * 100 + minor)).$patch"
  out="$ci_cache/stand-ins-bin/prometheus-$version-sd-kubernetes"
  if [[ -f "$out/.complete" ]]; then
    printf '%s\n' "$out"
    return 0
  fi
  go="$(command -v go || true)"
  [[ -n "$go" ]] || go=/usr/local/go/bin/go
  [[ -x "$go" ]] || ci_die "Go is needed to build Prometheus $version for its stand-in (not on PATH nor /usr/local/go/bin)"
  ci_step "building Prometheus $version (Go module github.com/prometheus/prometheus@$module; first time only, several minutes)" >&2
  # the module and build caches chaosext's other Go builds use
  local goenv=(env "GOPATH=$ci_cache/gopath" "GOCACHE=$ci_cache/gocache" GOFLAGS=-modcacherw CGO_ENABLED=0)
  mkdir -p "$ci_cache/stand-ins-bin"
  work="$(mktemp -d "$ci_cache/stand-ins-bin/prometheus-build.XXXXXX")"
  src="$(cd "$work" && "${goenv[@]}" "$go" mod download -json "github.com/prometheus/prometheus@$module" \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -d "$src" ]] || { rm -rf "$work"; ci_die "go mod download github.com/prometheus/prometheus@$module failed"; }
  # its go.mod has replace directives, so it is built as the main module (go install @version refuses)
  mkdir -p "$work/src" "$work/out"
  cp -r "$src/." "$work/src/"
  chmod -R u+w "$work/src"
  # service discovery limited to what the stack's configuration uses (kubernetes_sd_configs; file
  # and http are always in), as Prometheus's own `make plugins` does from plugins.yml: the cloud
  # providers' SDKs are most of the build time
  printf '// Generated by scripts/ci-build-images.sh: the service discovery the chaosext stack uses.\npackage plugins\n\nimport (\n\t_ "github.com/prometheus/prometheus/discovery/kubernetes"\n)\n' \
    >"$work/src/plugins/plugins.go"
  if ! (cd "$work/src" && "${goenv[@]}" "$go" build -trimpath \
      -ldflags "-s -w -X github.com/prometheus/common/version.Version=$version -X github.com/prometheus/common/version.Revision=$module -X github.com/prometheus/common/version.BuildUser=chaosext" \
      -o "$work/out/" ./cmd/prometheus ./cmd/promtool) >"$logs/prometheus-$version-go-build.log" 2>&1; then
    tail -n 30 "$logs/prometheus-$version-go-build.log" >&2
    rm -rf "$work"
    ci_die "building Prometheus $version failed (log: $logs/prometheus-$version-go-build.log)"
  fi
  cp "$work/src/documentation/examples/prometheus.yml" "$work/src/LICENSE" "$work/src/NOTICE" "$work/out/"
  touch "$work/out/.complete"
  rm -rf "$out"
  mv "$work/out" "$out"
  rm -rf "$work"
  ci_step "built Prometheus $version in $((SECONDS - t0)) s: $out" >&2
  printf '%s\n' "$out"
}

if $stand_ins; then
  ensure_debian_base
  for dockerfile in "$ci_root"/cluster/images/stand-ins/*.Dockerfile; do
    name="$(basename "$dockerfile" .Dockerfile)"
    image="$(stand_in_name "$dockerfile")"
    [[ "$image" == *:* ]] || ci_die "$dockerfile has no io.chaosext.stand-in-for=\"<image>:<tag>\" label"
    version="${image##*:}"
    context="$(stage "$name")"
    case "$name" in
      kafka)
        lib="$ci_cache/kafka/$version/lib"
        [[ -f "$lib/.complete" && -f "$lib/kafka-clients-$version.jar" ]] \
          || ci_die "no Kafka $version jars in $lib: run \`chaosext install\` (or scripts/setup.sh) first"
        link_or_copy "$lib" "$context/libs"
        rm -f "$context/libs/.complete"
        ;;
      prometheus)
        bin="$(prometheus_binaries "${version#v}")"
        for file in prometheus promtool prometheus.yml LICENSE NOTICE; do
          link_or_copy "$bin/$file" "$context/$file"
        done
        ;;
      toxiproxy)
        stamp="$(cat "$ci_cache/bin/.toxiproxy-version" 2>/dev/null || true)"
        [[ "$stamp" == "v${version#v}" && -x "$ci_cache/bin/toxiproxy-server" && -x "$ci_cache/bin/toxiproxy-cli" ]] \
          || ci_die "no Toxiproxy v${version#v} in $ci_cache/bin (found '${stamp:-nothing}'): run \`chaosext install\` first"
        link_or_copy "$ci_cache/bin/toxiproxy-server" "$context/toxiproxy-server"
        link_or_copy "$ci_cache/bin/toxiproxy-cli" "$context/toxiproxy-cli"
        ;;
    esac
    build "$image" "$dockerfile" "$context" --build-arg "BASE_IMAGE=$debian_image"
    built+=("$image")
  done
fi

ci_step "images (built in $((SECONDS - started)) s):"
for line in "${summary[@]}"; do
  read -r image seconds <<<"$line"
  size="$("$docker" image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1 / 1e6}')"
  printf '  %-45s %8s %5s s\n' "$image" "$size" "$seconds"
done

if [[ -n "$kind_cluster" ]]; then
  t0=$SECONDS
  ci_step "loading ${#built[@]} images into kind cluster $kind_cluster"
  kind load docker-image --name "$kind_cluster" "${built[@]}"
  ci_step "loaded in $((SECONDS - t0)) s"
fi
ci_output images "${ours[*]}"
if $stand_ins; then
  ci_output stand-ins "${built[*]:${#ours[@]}}"
fi
