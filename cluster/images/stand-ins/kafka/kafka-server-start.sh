#!/usr/bin/env bash
# kafka-server-start.sh server.properties [--override property=value]...: the broker (kafka.Kafka)
# in the foreground, with the distribution's default heap and the broker's log4j2 configuration.
set -euo pipefail
if (($# < 1)) || [[ "$1" == -daemon ]]; then
  echo "usage: kafka-server-start.sh server.properties [--override property=value]... (foreground only)" >&2
  exit 1
fi
export KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx1G -Xms1G}"
export KAFKA_LOG4J_OPTS="${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=/opt/kafka/config/log4j2.yaml}"
exec /opt/kafka/bin/kafka-run-class.sh -name kafkaServer kafka.Kafka "$@"
