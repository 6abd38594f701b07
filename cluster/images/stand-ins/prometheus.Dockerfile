# Stand-in for prom/prometheus:v3.5.0 where images cannot be pulled: Prometheus 3.5.0 and promtool
# built from their Go module (github.com/prometheus/prometheus v0.305.0, the module version of the
# v3.5.0 tag; Debian's Prometheus is 2.42 and lacks Kubernetes service discovery) with the official
# image's contract: ENTRYPOINT /bin/prometheus, CMD --config.file=/etc/prometheus/prometheus.yml
# --storage.tsdb.path=/prometheus, user nobody (65534), WORKDIR and volume /prometheus, port
# 9090, /bin/promtool, the example configuration as /etc/prometheus/prometheus.yml.
# Difference: the web UI's compiled assets are not in the Go module (npm builds them), so the UI
# pages are missing; the HTTP API, /-/ready, /-/healthy, /metrics and scraping are the same.
# Build context: prometheus, promtool, prometheus.yml, LICENSE, NOTICE (built and staged by
# scripts/ci-build-images.sh --stand-ins).
ARG BASE_IMAGE=chaosext/debian:bookworm
FROM ${BASE_IMAGE}

LABEL io.chaosext.stand-in-for="prom/prometheus:v3.5.0" \
      org.opencontainers.image.version="3.5.0" \
      org.opencontainers.image.description="Prometheus 3.5.0 built from its Go module, without the web UI's assets (stands in for prom/prometheus:v3.5.0)"

COPY prometheus promtool /bin/
COPY prometheus.yml /etc/prometheus/prometheus.yml
COPY LICENSE NOTICE /
RUN /bin/prometheus --version 2>&1 | grep -q 'version 3\.5\.0 ' \
    && mkdir -p /prometheus \
    && chown -R nobody:nogroup /etc/prometheus /prometheus \
    && chmod g+w /prometheus

USER nobody
WORKDIR /prometheus
VOLUME ["/prometheus"]
EXPOSE 9090
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
