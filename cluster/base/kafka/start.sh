#!/usr/bin/env bash
# Start one broker of the KRaft StatefulSet (combined broker+controller roles) with the official
# apache/kafka image, which turns KAFKA_* variables into server.properties. The node id and the
# advertised listeners depend on the pod's ordinal, so they are set here and not in the manifest:
#   kafka-<n>: node.id n+1 (the local stack's ids 1..3), in-cluster listener PLAINTEXT on the
#   headless Service name, EXTERNAL advertised as 127.0.0.1:<19092+n> (kind maps that host port
#   to this broker's NodePort, see cluster/kind/kind-config.yaml).
set -euo pipefail
ordinal="${HOSTNAME##*-}"
if [[ ! "$ordinal" =~ ^[0-9]+$ ]]; then
  echo "kafka start: cannot read the StatefulSet ordinal from HOSTNAME=$HOSTNAME" >&2
  exit 2
fi
replicas="${KAFKA_REPLICAS:-3}"
domain="kafka-headless.${POD_NAMESPACE}.svc.cluster.local"
voters=""
for ((i = 0; i < replicas; i++)); do
  voters+="${voters:+,}$((i + 1))@kafka-${i}.${domain}:9093"
done
export KAFKA_NODE_ID="$((ordinal + 1))"
export KAFKA_CONTROLLER_QUORUM_VOTERS="$voters"
export KAFKA_ADVERTISED_LISTENERS="PLAINTEXT://${HOSTNAME}.${domain}:9092,EXTERNAL://127.0.0.1:$((19092 + ordinal))"
echo "kafka start: node.id=$KAFKA_NODE_ID voters=$voters advertised=$KAFKA_ADVERTISED_LISTENERS"
exec /etc/kafka/docker/run
