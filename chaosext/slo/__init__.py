"""SLO probes on Prometheus (latency quantiles, error ratios, dependency errors, consumer lag,
circuit breakers, error-budget burn) and the per-run timeline recorded in the journal."""
