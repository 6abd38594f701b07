# The chaosext package as an image: the in-cluster DNS forwarder (python -m chaosext.dns.server)
# and chaosext / chaos commands run in the cluster if needed.
# Build from the repository root:
#   docker build -f cluster/images/chaosext.Dockerfile -t chaosext/chaosext:<version or git sha> .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# only what the package build needs (see chaosext.Dockerfile.dockerignore)
COPY pyproject.toml constraints.txt README.md /src/
COPY chaosext /src/chaosext
RUN pip install --no-cache-dir -c constraints.txt /src \
    && rm -rf /src \
    && groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app

WORKDIR /
USER 10001:10001
EXPOSE 5353/udp 5353/tcp 8053/tcp
# no HEALTHCHECK: Kubernetes probes use the DNS server's /healthz
ENTRYPOINT []
CMD ["python", "-m", "chaosext.dns.server", "--host", "0.0.0.0", "--port", "5353", "--control-port", "8053"]
