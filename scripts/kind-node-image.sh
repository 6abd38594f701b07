#!/usr/bin/env bash
# The kind node image to create the cluster with; prints its name as the last line.
#   * Where images can be pulled (GitHub's runners): kind's own default image, pinned by digest
#     in the kind module (pkg/apis/config/defaults/image.go), pulled if not present.
#   * Where nothing can be pulled: a node image built here, following kind's base and node image
#     layout (cluster/kind/node/Dockerfile): Debian base (scripts/kind-base-image.sh), kind's
#     static files from the kind Go module, kubelet/kubeadm/kubectl/crictl/coredns/pause built from
#     Go modules (python -m chaosext.localkube build --node), and the images kubeadm needs
#     (kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy, etcd, coredns, pause)
#     built from those binaries and imported into the node's containerd before the container is
#     committed, as `kind build node-image` does.
# Cached: the image carries a hash of its inputs as a label; the same inputs build nothing.
# Usage: scripts/kind-node-image.sh [--offline] [--image NAME:TAG]
#   --offline  build here even if kind's default image could be pulled (also CHAOSEXT_KIND_OFFLINE=1)
set -euo pipefail
# shellcheck source=scripts/ci-lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/ci-lib.sh"
usage="usage: scripts/kind-node-image.sh [--offline] [--image NAME:TAG]"

KIND_VERSION="${KIND_VERSION:-v0.33.0}"
offline=false
[[ "${CHAOSEXT_KIND_OFFLINE:-}" == 1 ]] && offline=true
image=""
while (($#)); do
  case "$1" in
    --offline) offline=true; shift ;;
    --image) ci_need_value "$1" "${2:-}"; image="$2"; shift 2 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) ci_usage_error "unknown argument '$1'" ;;
  esac
done
command -v docker >/dev/null 2>&1 || ci_die "docker not found: run scripts/kind-docker.sh up"
kind_module="$ci_cache/gopath/pkg/mod/sigs.k8s.io/kind@$KIND_VERSION"
[[ -d "$kind_module" ]] || ci_die "$kind_module is missing: run scripts/ci-install-kind.sh"

default_image="$(sed -n 's/^const Image = "\(.*\)"$/\1/p' "$kind_module/pkg/apis/config/defaults/image.go")"
[[ -n "$default_image" ]] || ci_die "cannot read kind's default node image from $kind_module"
k8s_version="$(sed -E 's/^[^:]*:(v[0-9.]+).*$/\1/' <<<"$default_image")"
if ! $offline; then
  if docker image inspect "$default_image" >/dev/null 2>&1; then
    ci_step "kind's node image $default_image present"
    echo "$default_image"
    exit 0
  fi
  if docker pull "$default_image" >/dev/null 2>&1; then
    ci_step "pulled kind's node image $default_image"
    echo "$default_image"
    exit 0
  fi
  ci_step "kind's node image $default_image cannot be pulled here: building one offline"
fi
image="${image:-chaosext/kind-node:$k8s_version}"
node_src="$ci_root/cluster/kind/node"
python="$(ci_tool python)"

ci_step "node binaries for Kubernetes $k8s_version (built once, cached)"
node_bin="$("$python" -m chaosext.localkube build --node | sed -n 's/^NODE_BIN_DIR=//p')"
[[ -d "$node_bin" ]] || ci_die "the node binaries' build printed no NODE_BIN_DIR"
bin_dir="$(dirname "$node_bin")"
base="$("$ci_root/scripts/kind-base-image.sh" | tail -1)"
needs_capfix=false
if "$ci_root/scripts/kind-docker.sh" needs-capfix; then needs_capfix=true; fi

# the inputs that decide the image: our files, kind's files, the binaries' build stamps, the base
inputs_hash="$(
  {
    # contents and relative paths only: the same inputs in another checkout give the same hash
    (cd "$node_src" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
    (cd "$kind_module/images/base/files" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
    sha256sum <"${BASH_SOURCE[0]}"
    cat "$node_bin/build-info.json" "$bin_dir/build-info.json"
    docker image inspect --format '{{.Id}}' "$base"
    echo "capfix=$needs_capfix"
  } | sha256sum | cut -c1-16
)"
if [[ "$(docker image inspect --format '{{index .Config.Labels "io.chaosext.inputs"}}' "$image" 2>/dev/null)" == "$inputs_hash" ]]; then
  ci_step "node image $image is up to date (inputs $inputs_hash): nothing to build"
  echo "$image"
  exit 0
fi

started=$SECONDS
work="$(mktemp -d "${TMPDIR:-/tmp}/chaosext-node.XXXXXX")"
container=""
cleanup() {
  [[ -z "$container" ]] || docker rm -f -v "$container" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# the images kubeadm needs, named as kubeadm lists them (images.json from the node build)
mapfile -t components < <("$python" -c 'import json,sys; [print(k, v) for k, v in json.load(open(sys.argv[1])).items()]' "$node_bin/images.json")
image_refs=()
for line in "${components[@]}"; do
  name="${line%% *}"
  ref="${line#* }"
  ctx="$work/img-$name"
  mkdir -p "$ctx"
  case "$name" in
    coredns) cp "$node_bin/coredns" "$ctx/"; dockerfile="$node_src/images/coredns.Dockerfile"; args=() ;;
    pause) cp "$node_bin/pause" "$ctx/"; dockerfile="$node_src/images/pause.Dockerfile"; args=() ;;
    kube-proxy)
      cp "$node_bin/kube-proxy" "$ctx/"; dockerfile="$node_src/images/static.Dockerfile"
      args=(--build-arg BINARY=kube-proxy --build-arg "PACKAGES=iptables nftables conntrack ipset kmod") ;;
    etcd|kube-apiserver|kube-controller-manager|kube-scheduler)
      cp "$bin_dir/$name" "$ctx/"; dockerfile="$node_src/images/static.Dockerfile"
      args=(--build-arg "BINARY=$name") ;;
    *) ci_die "kubeadm needs an image chaosext does not know how to build: $ref" ;;
  esac
  ci_step "image $ref"
  docker build -q -f "$dockerfile" --build-arg "BASE_IMAGE=$base" "${args[@]}" -t "$ref" "$ctx" >/dev/null
  image_refs+=("$ref")
done
pause_ref="$("$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["pause"])' "$node_bin/images.json")"

ci_step "node build context: kind $KIND_VERSION's base image files, binaries, containerd config"
ctx="$work/node"
mkdir -p "$ctx/bin"
cp -r "$kind_module/images/base/files" "$ctx/kind-files"
chmod -R u+w "$ctx/kind-files"
cp "$node_src/Dockerfile" "$node_src/runc-capfix" "$ctx/"
cp -r "$node_src/cni" "$ctx/cni"
cp "$node_bin/kubelet" "$node_bin/kubeadm" "$node_bin/kubectl" "$node_bin/crictl" "$ctx/bin/"
# kind's containerd config with the sandbox image kubeadm expects; where the bounding set lacks
# capabilities, runc goes through the wrapper (scripts/kind-docker.sh says why)
sed "s#^\(\s*sandbox_image = \).*#\1\"$pause_ref\"#" "$kind_module/images/base/files/etc/containerd/config.toml" \
  >"$ctx/containerd-config.toml"
if $needs_capfix; then
  sed -i 's#^\(\s*\)SystemdCgroup = true#&\n\1BinaryName = "/usr/local/sbin/runc-capfix"#' "$ctx/containerd-config.toml"
fi
grep -q "sandbox_image = \"$pause_ref\"" "$ctx/containerd-config.toml" || ci_die "could not set sandbox_image in kind's containerd config"
ci_step "building the node's root file system (Debian packages: systemd, containerd, runc, CNI plugins)"
build_log="$ci_cache/kind/node-image-build.log"
if ! docker build -f "$ctx/Dockerfile" --build-arg "BASE_IMAGE=$base" --build-arg "KUBERNETES_VERSION=$k8s_version" \
  -t "$image-rootfs" "$ctx" >"$build_log" 2>&1; then
  tail -40 "$build_log" >&2
  ci_die "the node image's docker build failed (above; whole log: $build_log)"
fi

ci_step "importing ${#image_refs[@]} images into the node's containerd"
container="$(docker run -d --privileged --entrypoint=sleep "$image-rootfs" infinity)"
docker exec "$container" bash -c 'nohup containerd >/tmp/containerd.log 2>&1 &'
deadline=$((SECONDS + 60))
until docker exec "$container" ctr version >/dev/null 2>&1; do
  ((SECONDS < deadline)) || { docker exec "$container" cat /tmp/containerd.log >&2; ci_die "containerd in the build container did not start"; }
  sleep 0.5
done
for ref in "${image_refs[@]}"; do
  docker save "$ref" | docker exec -i "$container" ctr --namespace=k8s.io images import \
    --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack --digests - >/dev/null
done
imported="$(docker exec "$container" ctr --namespace=k8s.io images list -q | grep -c '^registry.k8s.io/' || true)"
docker exec "$container" pkill containerd || true
((imported >= ${#image_refs[@]})) || ci_die "only $imported of ${#image_refs[@]} images are in the node's containerd"
docker exec "$container" rm -rf /tmp/containerd.log
docker commit \
  --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' --change 'CMD []' \
  --change "LABEL io.chaosext.inputs=$inputs_hash" \
  --change "LABEL io.chaosext.kubernetes-version=$k8s_version" \
  "$container" "$image" >/dev/null
docker rm -f -v "$container" >/dev/null
container=""
docker rmi "$image-rootfs" >/dev/null
ci_step "node image $image built in $((SECONDS - started)) s: $(docker image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'), images: ${image_refs[*]}"
echo "$image"
