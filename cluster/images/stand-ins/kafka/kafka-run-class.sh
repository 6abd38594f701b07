#!/usr/bin/env bash
# kafka-run-class.sh [-name NAME] [-loggc] CLASS [ARGS...]: runs a Kafka main class on the jars in
# /opt/kafka/libs with the JVM settings the distribution's scripts read from the environment:
# KAFKA_HEAP_OPTS, KAFKA_JVM_PERFORMANCE_OPTS, KAFKA_GC_LOG_OPTS, KAFKA_JMX_OPTS and JMX_PORT,
# KAFKA_LOG4J_OPTS, KAFKA_OPTS, LOG_DIR, CLASSPATH, JAVA_HOME. Always in the foreground (a container
# runs one process), so -daemon is refused.
set -euo pipefail
base_dir=/opt/kafka

while (($#)); do
  case "$1" in
    -name) shift 2 ;;  # the distribution names its GC log after it; no GC log file here
    -loggc) shift ;;
    -daemon) echo "kafka-run-class.sh: -daemon is not supported in this image (run in the foreground)" >&2; exit 2 ;;
    *) break ;;
  esac
done
if (($# == 0)); then
  echo "usage: kafka-run-class.sh [-name NAME] [-loggc] CLASS [ARGS...]" >&2
  exit 1
fi

log_dir="${LOG_DIR:-$base_dir/logs}"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
classpath="$base_dir/libs/*${CLASSPATH:+:$CLASSPATH}"

# word-split each variable as the distribution's script does ("-Xms256m -Xmx384m" is two options)
read -r -a heap <<<"${KAFKA_HEAP_OPTS:--Xmx256M}"
read -r -a perf <<<"${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true}"
read -r -a gc <<<"${KAFKA_GC_LOG_OPTS:-}"
read -r -a jmx <<<"${KAFKA_JMX_OPTS:--Dcom.sun.management.jmxremote -Dcom.sun.management.jmxremote.authenticate=false -Dcom.sun.management.jmxremote.ssl=false}"
if [[ -n "${JMX_PORT:-}" ]]; then
  jmx+=("-Dcom.sun.management.jmxremote.port=$JMX_PORT")
  [[ "${KAFKA_JMX_OPTS:-}" == *rmi.port* ]] || jmx+=("-Dcom.sun.management.jmxremote.rmi.port=$JMX_PORT")
fi
read -r -a log4j <<<"${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=$base_dir/config/tools-log4j2.yaml}"
read -r -a opts <<<"${KAFKA_OPTS:-}"

exec "$java" "${heap[@]}" "${perf[@]}" "${gc[@]}" "${jmx[@]}" "-Dkafka.logs.dir=$log_dir" "${log4j[@]}" \
  "${opts[@]}" -cp "$classpath" "$@"
