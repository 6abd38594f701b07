# Stand-in for apache/kafka:4.1.1 where images cannot be pulled: the same Kafka 4.1.1 jars (from
# Maven Central, the ones `chaosext install` caches) on Debian bookworm's OpenJDK 17, with the
# official image's contract: CMD /etc/kafka/docker/run (KAFKA_* variables -> server.properties,
# storage formatted with CLUSTER_ID, broker in the foreground), the distribution's scripts in
# /opt/kafka/bin, user appuser (1000:1000), /var/lib/kafka/data, /mnt/shared/config,
# /etc/kafka/secrets, port 9092. Differences: OpenJDK 17 instead of 21, no class-data-sharing
# archive, logs on stdout only, no SSL/SASL conveniences in run.
# Build context: this folder's kafka/ files plus libs/ (the jars), staged by
# scripts/ci-build-images.sh --stand-ins.
ARG BASE_IMAGE=chaosext/debian:bookworm
FROM ${BASE_IMAGE}

LABEL io.chaosext.stand-in-for="apache/kafka:4.1.1" \
      org.opencontainers.image.version="4.1.1" \
      org.opencontainers.image.description="Apache Kafka 4.1.1 jars from Maven Central on Debian bookworm's OpenJDK 17 (stands in for apache/kafka:4.1.1)"

RUN apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless \
    && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/debconf/*-old \
    && groupadd --gid 1000 appuser \
    && useradd --uid 1000 --gid 1000 --create-home --home-dir /home/appuser --shell /bin/bash appuser \
    && mkdir -p /opt/kafka/bin /opt/kafka/config /opt/kafka/logs /etc/kafka/docker /etc/kafka/secrets \
                /var/lib/kafka/data /mnt/shared/config /usr/logs \
    && chown -R appuser:appuser /opt/kafka/config /opt/kafka/logs /mnt/shared/config /usr/logs \
    && chown -R appuser:root /var/lib/kafka /etc/kafka/secrets \
    && chmod -R ug+w /var/lib/kafka /etc/kafka/secrets

COPY libs/ /opt/kafka/libs/
COPY run server.properties log4j2.yaml tools-log4j2.yaml /etc/kafka/docker/
COPY kafka-run-class.sh kafka-server-start.sh kafka-tool.sh /opt/kafka/bin/
# every tool of kafka-tool.sh's table as /opt/kafka/bin/<tool>.sh; the log4j2 files also in
# /opt/kafka/config, where the tools read them in a container that never ran `run`
RUN /opt/kafka/bin/kafka-tool.sh --list | while read -r tool _; do ln -s kafka-tool.sh "/opt/kafka/bin/$tool"; done \
    && test -L /opt/kafka/bin/kafka-topics.sh \
    && cp /etc/kafka/docker/log4j2.yaml /etc/kafka/docker/tools-log4j2.yaml /opt/kafka/config/ \
    && chown appuser:appuser /opt/kafka/config/*

WORKDIR /
USER appuser
EXPOSE 9092
VOLUME ["/etc/kafka/secrets", "/var/lib/kafka/data", "/mnt/shared/config"]
CMD ["/etc/kafka/docker/run"]
