"""The sample stack end to end on kind: checkout pays over TLS (the certificate payment-service
serves is issued by the stack CA of Secret chaosext-ca, on the very path checkout's own settings
name), and an order event goes through Kafka to order-consumer, charged and processed once even
when the same order is posted twice."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import requests
from cryptography import x509
from kind.helpers import NAMESPACE, KindCluster, app_pods, is_ready, pod_json, target_configuration
from kube.helpers import wait_until

# Run in the checkout container with its own settings: resolve PAYMENT_URL's host through
# DNS_SERVER as checkout does, handshake there trusting CA_FILE, and also straight to
# payment-service (argv: host, port); prints both certificates.
HANDSHAKE = r"""
import json, os, socket, ssl, sys, urllib.parse
import dns.resolver
url = urllib.parse.urlsplit(os.environ["PAYMENT_URL"])
server, _, port = os.environ["DNS_SERVER"].partition(":")
resolver = dns.resolver.Resolver(configure=False)
resolver.nameservers, resolver.port = [server], int(port or 53)
ip = resolver.resolve(url.hostname, "A", search=False)[0].to_text()
ctx = ssl.create_default_context(cafile=os.environ["CA_FILE"])
def served(host, port, name):
    with socket.create_connection((host, port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=name) as tls:
            return {"version": tls.version(), "cert": ssl.DER_cert_to_PEM_cert(tls.getpeercert(True))}
print(json.dumps({"payment_url": url.geturl(), "ip": ip, "via_payment_url": served(ip, url.port, url.hostname),
                  "direct": served(sys.argv[1], int(sys.argv[2]), sys.argv[1])}))
"""

# GET argv[1] from the checkout container (HTTPS trusting its CA_FILE); prints status and body.
FETCH = r"""
import json, os, ssl, sys, urllib.error, urllib.request
ctx = ssl.create_default_context(cafile=os.environ["CA_FILE"])
try:
    with urllib.request.urlopen(sys.argv[1], timeout=10, context=ctx) as resp:
        status, body = resp.status, resp.read()
except urllib.error.HTTPError as exc:
    status, body = exc.code, exc.read()
print(json.dumps({"status": status, "body": body.decode()}))
"""

PAYMENT = "https://payment-service:8443"
CONSUMER = "http://order-consumer:8091"


def _checkout_pod(cluster: KindCluster) -> str:
    ready = [p.metadata.name for p in app_pods(cluster, "checkout-api") if is_ready(p)]
    assert ready, "no Ready checkout-api pod"
    return str(ready[0])


def _stack_ca(cluster: KindCluster) -> x509.Certificate:
    secret = cluster.core.read_namespaced_secret("chaosext-ca", NAMESPACE)
    return x509.load_pem_x509_certificate(base64.b64decode(secret.data["tls.crt"]))


def test_checkout_reaches_payment_over_tls_with_a_certificate_of_the_stack_ca(kind_cluster: KindCluster) -> None:
    pod = _checkout_pod(kind_cluster)
    env = {e.name: e.value for e in kind_cluster.core.read_namespaced_pod(pod, NAMESPACE).spec.containers[0].env}
    seen = pod_json(kind_cluster, pod, HANDSHAKE, "payment-service", "8443")
    assert seen["payment_url"] == env["PAYMENT_URL"] and env["PAYMENT_URL"].startswith("https://"), (seen, env)
    # PAYMENT_URL's name is Toxiproxy's, which passes TLS through: payment-service's own certificate
    assert seen["ip"] == kind_cluster.core.read_namespaced_service("toxiproxy", NAMESPACE).spec.cluster_ip
    assert seen["via_payment_url"]["cert"] == seen["direct"]["cert"]
    assert seen["direct"]["version"] in ("TLSv1.2", "TLSv1.3"), seen
    served = x509.load_pem_x509_certificate(seen["direct"]["cert"].encode())
    ca = _stack_ca(kind_cluster)
    served.verify_directly_issued_by(ca)  # raises unless the CA's key signed it
    assert served.issuer == ca.subject
    names = served.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"payment.chaosext.test", "payment-service"} <= set(names.get_values_for_type(x509.DNSName))


def _get(cluster: KindCluster, pod: str, url: str) -> tuple[int, str]:
    got = pod_json(cluster, pod, FETCH, url)
    return int(got["status"]), str(got["body"])


def _get_json(cluster: KindCluster, pod: str, url: str) -> tuple[int, Any]:
    status, body = _get(cluster, pod, url)
    return status, json.loads(body)


def _duplicates_skipped(cluster: KindCluster, pod: str) -> float:
    """order-consumer's count of duplicate order events it skipped (its Prometheus counter)."""
    _, text = _get(cluster, pod, f"{CONSUMER}/metrics")
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith("orders_duplicate_total"))


def test_an_order_is_charged_and_consumed_once_even_when_posted_twice(kind_cluster: KindCluster) -> None:
    pod = _checkout_pod(kind_cluster)
    checkout = f"{target_configuration()['checkout_url']}/api/checkout"
    order = {"order_id": f"kind-e2e-{uuid.uuid4().hex[:12]}", "amount": 12.5, "currency": "EUR"}
    first = requests.post(checkout, json=order, timeout=15)
    assert first.status_code == 201 and first.json()["status"] == "paid", first.text
    status, charge = _get_json(kind_cluster, pod, f"{PAYMENT}/ledger/{order['order_id']}")
    assert status == 200 and charge["count"] == 1, charge
    assert charge["response"]["payment_id"] == first.json()["payment_id"]
    assert charge["response"]["instance"] in {p.metadata.name for p in app_pods(kind_cluster, "payment-service")}
    processed = wait_until(
        "order-consumer to process the order's Kafka event",
        lambda: _get_json(kind_cluster, pod, f"{CONSUMER}/processed")[1]["orders"],
        lambda orders: order["order_id"] in orders, timeout_s=60, interval_s=1)
    assert processed[order["order_id"]] == 1
    status, capture = _get_json(kind_cluster, pod, f"{PAYMENT}/captures/{order['order_id']}")
    assert status == 200 and capture["count"] == 1, capture

    skipped = _duplicates_skipped(kind_cluster, pod)
    again = requests.post(checkout, json=order, timeout=15)
    assert again.status_code == 201 and again.json()["payment_replayed"] is True, again.text
    assert again.json()["payment_id"] == first.json()["payment_id"]
    # the second checkout publishes the order again; the consumer must see it and skip it
    wait_until("order-consumer to skip the duplicate event", lambda: _duplicates_skipped(kind_cluster, pod),
               lambda n: n > skipped, timeout_s=60, interval_s=1)
    assert _get_json(kind_cluster, pod, f"{PAYMENT}/ledger/{order['order_id']}")[1]["count"] == 1
    assert _get_json(kind_cluster, pod, f"{PAYMENT}/captures/{order['order_id']}")[1]["count"] == 1
    assert _get_json(kind_cluster, pod, f"{CONSUMER}/processed")[1]["orders"][order["order_id"]] == 1
