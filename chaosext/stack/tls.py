"""The stack's TLS material: a CA and payment-service's serving certificate (chaosext.common.pki).

Files (in ``<state>/tls``): ``ca.pem``/``ca-key.pem`` (the stack CA), ``payment.pem``/``payment-key.pem``
(for payment.chaosext.test, localhost and 127.0.0.1), and ``ca-bundle.pem`` (what clients trust).
Existing, still valid files are kept, so ``stack up`` is idempotent and services keep their certs.
"""

from __future__ import annotations

from chaosext.common import pki
from chaosext.stack.config import StackConfig

__all__ = ["ensure_tls"]

CA_DAYS = 3650
MIN_DAYS_LEFT = 7  # a certificate closer than this to its end is made again


def ensure_tls(config: StackConfig) -> bool:
    """Create the CA, the payment certificate and the CA bundle unless valid ones exist; True if made."""
    config.tls.mkdir(parents=True, exist_ok=True)
    made = False
    if not (pki.cert_is_fresh(config.ca_file, MIN_DAYS_LEFT) and config.ca_key_file.exists()):
        ca = pki.new_ca("chaosext stack CA", days=CA_DAYS)
        pki.write_pem(config.ca_key_file, ca.key_pem, private=True)
        pki.write_pem(config.ca_file, ca.pem)
        for stale in (config.payment_cert_file, config.payment_key_file):
            stale.unlink(missing_ok=True)
        made = True
    if not (pki.cert_is_fresh(config.payment_cert_file, MIN_DAYS_LEFT) and config.payment_key_file.exists()):
        ca = pki.load_ca_files(config.ca_file, config.ca_key_file)
        cert_pem, key_pem = pki.issue_server_cert(ca, [config.payment_dns_name, "localhost"], ["127.0.0.1"])
        pki.write_pem(config.payment_key_file, key_pem, private=True)
        pki.write_pem(config.payment_cert_file, cert_pem)
        made = True
    if made or not config.ca_bundle.exists():
        pki.write_pem(config.ca_bundle, config.ca_file.read_bytes())
    return made
