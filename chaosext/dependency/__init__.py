"""Dependency faults through Toxiproxy: latency, connection resets, hangs, dependency down."""
