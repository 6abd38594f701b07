# Stand-in for haproxy:2.6.21 where images cannot be pulled: Debian bookworm's HAProxy 2.6.12 with
# the official image's contract: ENTRYPOINT docker-entrypoint.sh (options only = options to
# haproxy; `haproxy` gets -W -db), CMD haproxy -f /usr/local/etc/haproxy/haproxy.cfg, user haproxy
# 99:99, haproxy at /usr/local/sbin, STOPSIGNAL SIGUSR1. Difference: 2.6.12 instead of 2.6.21
# (same branch; every keyword the sample stack's configuration uses exists in 2.6.12).
# Build context: this folder's haproxy/ (scripts/ci-build-images.sh --stand-ins).
ARG BASE_IMAGE=chaosext/debian:bookworm
FROM ${BASE_IMAGE}

LABEL io.chaosext.stand-in-for="haproxy:2.6.21" \
      org.opencontainers.image.version="2.6.12" \
      org.opencontainers.image.description="Debian bookworm's HAProxy 2.6.12 (stands in for haproxy:2.6.21)"

# the package creates the haproxy system user; it then gets the official image's ids (99 is below
# Debian's system range, so adduser would refuse it beforehand)
RUN apt-get update \
    && apt-get install -y --no-install-recommends haproxy \
    && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/debconf/*-old \
    && groupmod --gid 99 haproxy && usermod --uid 99 --gid 99 haproxy \
    && haproxy -v | grep -q 'version 2\.6\.' \
    && [ "$(id -u haproxy):$(id -g haproxy)" = 99:99 ] \
    && ln -s /usr/sbin/haproxy /usr/local/sbin/haproxy \
    && mkdir -p /usr/local/etc/haproxy /var/lib/haproxy && chown haproxy:haproxy /var/lib/haproxy

COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
USER haproxy
WORKDIR /var/lib/haproxy
STOPSIGNAL SIGUSR1
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]
