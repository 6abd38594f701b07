"""Kafka faults: broker loss, consumer lag, duplicate delivery (offset rewind), malformed events, and
the probes that judge them (brokers online, under-replicated partitions, group lag, DLQ depth,
end-to-end canary loss)."""
