"""Key material for the sample stack on Kubernetes: a CA and payment-service's serving certificate.

Writes ``ca.crt``, ``ca.key``, ``tls.crt``, ``tls.key`` (PEM) into ``--out``; scripts/ci-make-tls.sh
turns them into the Secret ``payment-tls``, the Secret ``chaosext-ca`` and the ConfigMap
``chaosext-ca``. The certificate is for ``payment.chaosext.test`` (the name clients dial through
Toxiproxy) and the Service's in-cluster names. Uses chaosext's own certificate code.

Usage: python cluster/ci/make_tls.py --namespace chaosext --out DIR
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from chaosext.certificate.material import new_ca, serve_cert
from chaosext.common.pki import write_pem

PAYMENT_NAME = "payment.chaosext.test"
SERVICE = "payment-service"
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def names_for(namespace: str) -> list[str]:
    """The DNS names the payment certificate covers in ``namespace``."""
    base = f"{SERVICE}.{namespace}"
    return [PAYMENT_NAME, SERVICE, base, f"{base}.svc", f"{base}.svc.cluster.local"]


def write(out: Path, namespace: str, days: int) -> list[Path]:
    ca = new_ca("chaosext sample stack CA", days=days)
    cert_pem, key_pem = serve_cert(ca, names_for(namespace), [])
    out.mkdir(parents=True, exist_ok=True)
    files = {"ca.crt": ca.pem, "ca.key": ca.key_pem, "tls.crt": cert_pem, "tls.key": key_pem}
    written = []
    for name, data in files.items():
        path = out / name
        write_pem(path, data, private=name.endswith(".key"))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--namespace", default="chaosext", help="namespace of payment-service (default chaosext)"
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for the PEM files")
    parser.add_argument("--days", type=int, default=365, help="CA validity in days (default 365)")
    args = parser.parse_args(argv)
    if not _DNS_LABEL.match(args.namespace):
        parser.error(
            f"--namespace must be a DNS label (lower-case letters, digits, '-'), got {args.namespace!r}"
        )
    if not 1 <= args.days <= 3650:
        parser.error(f"--days must be between 1 and 3650, got {args.days}")
    try:
        written = write(args.out, args.namespace, args.days)
    except OSError as exc:
        print(f"error: --out: cannot write {args.out}: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    print(f"payment certificate names: {', '.join(names_for(args.namespace))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
