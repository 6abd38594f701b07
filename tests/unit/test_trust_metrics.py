"""Reading a client's CA-bundle reload count from its metrics (chaosext.certificate.trust)."""

from __future__ import annotations

from chaosext.certificate.trust import ca_reloads_in

DECLARED = """# HELP tls_reloads_total TLS material reloads
# TYPE tls_reloads_total counter
"""
RELOADED = DECLARED + """tls_reloads_total{kind="client_ca",result="success"} 2.0
tls_reloads_total{kind="client_ca",result="error"} 1.0
tls_reloads_total{kind="server_cert",result="success"} 5.0
"""
OTHER = """# HELP prometheus_build_info Build information
# TYPE prometheus_build_info gauge
prometheus_build_info{version="3.5.0"} 1.0
"""


def test_counts_successful_ca_reloads_only() -> None:
    assert ca_reloads_in(RELOADED) == 2.0


def test_declared_but_never_reloaded_is_zero() -> None:
    assert ca_reloads_in(DECLARED) == 0.0


def test_a_client_without_the_metric_is_not_watched() -> None:
    assert ca_reloads_in(OTHER) is None
