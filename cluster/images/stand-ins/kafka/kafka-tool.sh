#!/usr/bin/env bash
# The distribution's command-line tools: /opt/kafka/bin/<tool>.sh is a link to this script, which
# runs the tool's main class (the table below) through kafka-run-class.sh.
#   kafka-tool.sh --list   prints "<tool>.sh <main class>" for every tool
set -euo pipefail

tools="
kafka-topics.sh org.apache.kafka.tools.TopicCommand
kafka-storage.sh kafka.tools.StorageTool
kafka-configs.sh kafka.admin.ConfigCommand
kafka-console-producer.sh org.apache.kafka.tools.ConsoleProducer
kafka-console-consumer.sh org.apache.kafka.tools.consumer.ConsoleConsumer
kafka-consumer-groups.sh org.apache.kafka.tools.consumer.group.ConsumerGroupCommand
kafka-share-groups.sh org.apache.kafka.tools.consumer.group.ShareGroupCommand
kafka-groups.sh org.apache.kafka.tools.GroupsCommand
kafka-get-offsets.sh org.apache.kafka.tools.GetOffsetShell
kafka-metadata-quorum.sh org.apache.kafka.tools.MetadataQuorumCommand
kafka-features.sh org.apache.kafka.tools.FeatureCommand
kafka-cluster.sh org.apache.kafka.tools.ClusterTool
kafka-broker-api-versions.sh org.apache.kafka.tools.BrokerApiVersionsCommand
kafka-reassign-partitions.sh org.apache.kafka.tools.reassign.ReassignPartitionsCommand
kafka-leader-election.sh org.apache.kafka.tools.LeaderElectionCommand
kafka-log-dirs.sh org.apache.kafka.tools.LogDirsCommand
kafka-delete-records.sh org.apache.kafka.tools.DeleteRecordsCommand
kafka-dump-log.sh kafka.tools.DumpLogSegments
kafka-acls.sh org.apache.kafka.tools.AclCommand
kafka-transactions.sh org.apache.kafka.tools.TransactionsCommand
kafka-client-metrics.sh org.apache.kafka.tools.ClientMetricsCommand
kafka-delegation-tokens.sh org.apache.kafka.tools.DelegationTokenCommand
kafka-producer-perf-test.sh org.apache.kafka.tools.ProducerPerformance
kafka-consumer-perf-test.sh org.apache.kafka.tools.ConsumerPerformance
kafka-e2e-latency.sh org.apache.kafka.tools.EndToEndLatency
kafka-jmx.sh org.apache.kafka.tools.JmxTool
kafka-replica-verification.sh org.apache.kafka.tools.ReplicaVerificationTool
"

if [[ "${1:-}" == --list ]]; then
  sed '/^$/d' <<<"$tools"
  exit 0
fi
name="$(basename "$0")"
class="$(awk -v n="$name" '$1 == n {print $2}' <<<"$tools")"
if [[ -z "$class" ]]; then
  echo "kafka-tool.sh: no Kafka tool is called '$name' (kafka-tool.sh --list shows them)" >&2
  exit 2
fi
# the console clients get a larger default heap, as in the distribution
case "$name" in
  kafka-console-producer.sh|kafka-console-consumer.sh|kafka-*-perf-test.sh)
    export KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx512M}" ;;
esac
exec /opt/kafka/bin/kafka-run-class.sh "$class" "$@"
