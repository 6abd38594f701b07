"""DNS: the stack's authoritative server with fault injection, and the DNS fault family.

Faults (``actions``): delay answers for chosen names, or make them fail (SERVFAIL, NXDOMAIN,
no answer), for a duration, then restore. Locally through the DNS server's control API
(``local``); on Kubernetes through the ``chaosext-dns-faults`` ConfigMap the in-cluster DNS
forwarder polls (``kubernetes``). Probe (``probes``): resolution latency and answer as the target
sees it.
"""
