"""The machinery every fault family shares: markers, time bounds, guardrails, cleanup."""
