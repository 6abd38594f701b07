"""Traffic: a constant-arrival-rate (open model) load generator, Vegeta, started in the background by
experiments, with client-side probes (latency quantiles, error ratio, timeouts, refused connections)."""
