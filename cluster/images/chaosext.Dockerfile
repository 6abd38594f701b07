# The chaosext package as an image: the in-cluster DNS forwarder (python -m chaosext.dns.server,
# hence the [dns] extra) and chaosext / chaos commands run in the cluster if needed.
# Build from the repository root:
#   docker build -f cluster/images/chaosext.Dockerfile -t chaosext/chaosext:<version or git sha> .
# BASE_IMAGE: any Python 3.11 image with `python` and `pip` on PATH; where images cannot be
# pulled, chaosext/python:3.11-bookworm (cluster/images/python-base.Dockerfile).
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# only what the package build needs (see chaosext.Dockerfile.dockerignore)
COPY pyproject.toml constraints.txt README.md /src/
COPY chaosext /src/chaosext
# the build machine's CA bundle, if given as the build secret ca-bundle (never kept in the image):
# pip trusts what that machine trusts, a TLS-inspecting proxy's CA included
RUN --mount=type=secret,id=ca-bundle \
    if [ -s /run/secrets/ca-bundle ]; then export PIP_CERT=/run/secrets/ca-bundle; fi \
    && pip install --no-cache-dir -c constraints.txt "/src[dns]" \
    && rm -rf /src \
    && groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app

WORKDIR /
USER 10001:10001
EXPOSE 5353/udp 5353/tcp 8053/tcp
# no HEALTHCHECK: Kubernetes probes use the DNS server's /healthz
ENTRYPOINT []
CMD ["python", "-m", "chaosext.dns.server", "--host", "0.0.0.0", "--port", "5353", "--control-port", "8053"]
