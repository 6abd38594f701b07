"""Certificates: rotate a service's serving certificate under traffic (optionally with a new CA
and trust bundle), or serve an expired or untrusted one for a duration; probes for the
certificate served (serial, fingerprint, issuer, notAfter) and whether a handshake succeeds.

Local stack: payment-service's files (it re-reads them); Kubernetes: the TLS Secret, plus a
rollout restart of the workload when it does not reload mounted Secrets.
"""
