"""Shared plumbing of the sample services: logging, metrics, config reload, DNS, TLS, readiness."""
