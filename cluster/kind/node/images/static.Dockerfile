# A Kubernetes component image for the offline kind node image: one statically linked binary on the
# Debian base, at the path kubeadm's static Pods and DaemonSets call it by name
# (/usr/local/bin/<name>, found on PATH). PACKAGES adds what the binary calls (kube-proxy: iptables).
ARG BASE_IMAGE=chaosext/debian:bookworm
FROM ${BASE_IMAGE}
ARG BINARY
ARG PACKAGES=""
RUN if [ -n "${PACKAGES}" ]; then \
      apt-get update && apt-get install -y --no-install-recommends ${PACKAGES} && rm -rf /var/lib/apt/lists/*; \
    fi
COPY ${BINARY} /usr/local/bin/${BINARY}
