# Stand-in for redis:7.4.2 where images cannot be pulled: Debian bookworm's redis-server 7.0.15
# with the official image's contract: ENTRYPOINT docker-entrypoint.sh (arguments only = options to
# redis-server; protected mode off), CMD redis-server, user redis 999:999, WORKDIR and volume
# /data, port 6379, redis-server and redis-cli on PATH. Differences: Redis 7.0 instead of 7.4
# (every option the manifest passes exists in 7.0), no modules.
# Build context: this folder's redis/ (scripts/ci-build-images.sh --stand-ins).
ARG BASE_IMAGE=chaosext/debian:bookworm
FROM ${BASE_IMAGE}

LABEL io.chaosext.stand-in-for="redis:7.4.2" \
      org.opencontainers.image.version="7.0.15" \
      org.opencontainers.image.description="Debian bookworm's redis-server 7.0.15 (stands in for redis:7.4.2)"

# the redis user first, with the official image's ids; the package then keeps it
RUN groupadd --system --gid 999 redis \
    && useradd --system --uid 999 --gid redis --home-dir /var/lib/redis --no-create-home --shell /usr/sbin/nologin redis \
    && apt-get update \
    && apt-get install -y --no-install-recommends redis-server \
    && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/debconf/*-old \
    && redis-server --version | grep -q ' v=7\.0\.15 ' \
    && [ "$(id -u redis):$(id -g redis)" = 999:999 ] \
    && ln -s /usr/bin/redis-server /usr/local/bin/redis-server \
    && ln -s /usr/bin/redis-cli /usr/local/bin/redis-cli \
    && mkdir /data && chown redis:redis /data

COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
WORKDIR /data
VOLUME /data
EXPOSE 6379
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["redis-server"]
