"""Certificate faults on the real local stack: payment-service's certificate, seen by real clients."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from chaoslib.exceptions import ActivityFailed
from e2e.helpers import checkout, new_order_id
from interrupt_support import assert_rollbacks_succeeded, cleanup_removes, interrupt_run, sigkilled_after
from stack_support import Stack
from support import wait_until

from chaosext.certificate import actions, probes
from chaosext.faults import markers
from chaosext.faults.paths import faults_dir

pytestmark = pytest.mark.stack
LOCAL: dict[str, Any] = {"target": "local"}


def _tls_files(stack: Stack) -> dict[str, bytes]:
    tls = Path(stack.endpoints["state_dir"]) / "tls"
    return {name: (tls / name).read_bytes() for name in ("payment.pem", "payment-key.pem", "ca-bundle.pem")}


def _served(stack: Stack, replica: str = "payment") -> dict[str, Any]:
    port = int(stack.endpoints[replica].rsplit(":", 1)[1])
    result: dict[str, Any] = probes.served_certificate(port=port, configuration=LOCAL)
    return result


class CheckoutStream:
    """Checkouts in a background thread while a fault happens; collects (status, error) pairs."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.results: list[tuple[int, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                resp = checkout(self.base, new_order_id("cert"), timeout=10)
                self.results.append((resp.status_code, resp.text[:200]))
            except Exception as exc:
                self.results.append((0, str(exc)))
            time.sleep(0.05)

    def __enter__(self) -> CheckoutStream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=15)


@pytest.fixture(autouse=True)
def _restored(stack: Stack) -> Any:
    before = _tls_files(stack)
    yield
    actions.restore_certificates(configuration=LOCAL)
    assert _tls_files(stack) == before, "the TLS files were not put back exactly"
    assert list(faults_dir().glob("certificate-*.backup")) == []


def _no_key(record: Any) -> None:
    assert "PRIVATE KEY" not in json.dumps(record)


@pytest.mark.parametrize("new_ca", [False, True])
def test_rotation_under_traffic_serves_the_new_certificate_without_errors_and_rollback_restores(
    stack: Stack, new_ca: bool
) -> None:
    old = _served(stack)["certificate"]
    with CheckoutStream(stack.url("checkout")) as stream:
        wait_until("traffic to flow", lambda: len(stream.results) >= 5, timeout=30)
        record = actions.rotate_certificate(new_ca=new_ca, duration=120, trust_wait=10, configuration=LOCAL)
        _no_key(record)
        new = record["changed"]["new"]
        assert record["changed"]["old"]["serial"] == old["serial"] and new["serial"] != old["serial"]
        if new_ca:
            assert new["issuer"] != old["issuer"] and record["changed"]["trust_bundle_cas"] == 2
            assert all(record["changed"]["clients_reloaded_trust"].values())
        # the victim's view: every replica and the load-balanced endpoint serve the new certificate
        for replica in ("payment_service_1", "payment_service_2", "payment"):
            seen = _served(stack, replica)
            assert seen["certificate"]["fingerprint_sha256"] == new["fingerprint_sha256"], replica
            assert seen["handshake_ok"], seen
        count = len(stream.results)
        wait_until("traffic on the new certificate", lambda: len(stream.results) >= count + 5, timeout=30)
        restored = actions.restore_certificates(configuration=LOCAL)
        assert [r["id"] for r in restored] == [record["id"]]
        wait_until(
            "the old certificate to be served again",
            lambda: _served(stack)["certificate"]["serial"] == old["serial"],
            timeout=15,
        )
        count = len(stream.results)
        wait_until("traffic after the rollback", lambda: len(stream.results) >= count + 5, timeout=30)
    failed = [r for r in stream.results if r[0] != 201]
    assert not failed, (
        f"{len(failed)} of {len(stream.results)} checkouts failed during rotation: {failed[:3]}"
    )
    assert markers.load(record["id"]) is None


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("serve_untrusted_certificate", "unable to get local issuer"),
        ("serve_expired_certificate", "certificate has expired"),
    ],
)
def test_bad_certificates_make_clients_fail_safely_and_visibly_then_recover(
    stack: Stack, fault: str, error: str
) -> None:
    old = _served(stack)["certificate"]
    record = getattr(actions, fault)(duration=120, configuration=LOCAL)
    _no_key(record)
    seen = _served(stack)
    assert not seen["handshake_ok"] and error in seen["error"], seen
    assert seen["certificate"]["serial"] == record["changed"]["new"]["serial"]
    assert probes.handshake_succeeds(configuration=LOCAL) is False
    start = time.monotonic()
    resp = checkout(stack.url("checkout"), new_order_id("badcert"), timeout=15)
    took = time.monotonic() - start
    assert resp.status_code == 503, resp.text
    body = resp.json()
    assert body["error"] in ("payment_unavailable", "circuit_open"), body
    if body["error"] == "payment_unavailable":
        assert "tls_error" in body["detail"], body
    assert took < 5, f"checkout took {took:.1f}s with a bad certificate"
    actions.restore_certificates(configuration=LOCAL)
    wait_until(
        "the good certificate to be served again",
        lambda: _served(stack)["certificate"]["serial"] == old["serial"],
        timeout=15,
    )
    assert probes.handshake_succeeds(configuration=LOCAL) is True
    wait_until(
        "checkout to recover (circuit breaker closes)",
        lambda: checkout(stack.url("checkout"), new_order_id("certback")).status_code == 201,
        timeout=30,
        interval=0.5,
    )


def test_fault_expires_by_itself(stack: Stack) -> None:
    old = _served(stack)["certificate"]
    record = actions.serve_untrusted_certificate(duration=3, configuration=LOCAL)
    assert not _served(stack)["handshake_ok"]
    wait_until(
        "the certificate fault to expire",
        lambda: _served(stack)["certificate"]["serial"] == old["serial"],
        timeout=10,
        interval=0.2,
    )
    wait_until("the reaper to drop the marker", lambda: markers.load(record["id"]) is None, timeout=40)
    log = (faults_dir() / "reaper.log").read_text()
    assert "PRIVATE KEY" not in log


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"duration": -5}, "duration"),
        ({"duration": "soon"}, "duration"),
        ({"timeout": 0}, "timeout"),
        ({"trust_wait": -1}, "trust_wait"),
    ],
)
def test_bad_arguments_are_refused_and_change_nothing(
    stack: Stack, kwargs: dict[str, Any], needle: str
) -> None:
    before = (_tls_files(stack), len(markers.list_markers()))
    with pytest.raises(ActivityFailed, match=needle):
        actions.rotate_certificate(configuration=LOCAL, **kwargs)
    assert (_tls_files(stack), len(markers.list_markers())) == before


def test_a_second_fault_while_one_is_active_is_refused(stack: Stack) -> None:
    record = actions.rotate_certificate(duration=60, configuration=LOCAL)
    during = _tls_files(stack)
    with pytest.raises(ActivityFailed, match="already active"):
        actions.serve_expired_certificate(duration=30, configuration=LOCAL)
    assert _tls_files(stack) == during
    assert [m.id for m in markers.list_markers(family="certificate")] == [record["id"]]


def test_probe_refuses_a_bad_port(stack: Stack) -> None:
    with pytest.raises(ActivityFailed, match="'port'"):
        probes.served_certificate(port=70000, configuration=LOCAL)


def _experiment(tmp_path: Path) -> Path:
    exp = {
        "title": "untrusted certificate held while interrupted",
        "description": "signal test",
        "configuration": LOCAL,
        "method": [
            {
                "type": "action",
                "name": "untrusted",
                "provider": {
                    "type": "python",
                    "module": "chaosext.certificate.actions",
                    "func": "serve_untrusted_certificate",
                    "arguments": {"duration": 300},
                },
            },
            {
                "type": "probe",
                "name": "wait",
                "provider": {"type": "process", "path": "sleep", "arguments": "120"},
            },
        ],
        "rollbacks": [
            {
                "type": "action",
                "name": "restore",
                "provider": {
                    "type": "python",
                    "module": "chaosext.certificate.actions",
                    "func": "restore_certificates",
                },
            },
        ],
    }
    path = tmp_path / "exp.json"
    path.write_text(json.dumps(exp))
    return path


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_mid_fault_runs_the_rollback(stack: Stack, tmp_path: Path, sig: signal.Signals) -> None:
    before = _tls_files(stack)
    # the action returns once both replicas serve the fault's certificate: signal after it, in the wait
    journal, out = interrupt_run(
        _experiment(tmp_path), tmp_path / "j.json", sig,
        ready=lambda: markers.list_markers(family="certificate") and not _served(stack)["handshake_ok"],
        what="the untrusted certificate to be served", at_wait_step=True)
    assert _tls_files(stack) == before, out[-2000:]
    assert markers.list_markers(family="certificate") == []
    assert "PRIVATE KEY" not in out
    assert_rollbacks_succeeded(journal)
    assert "PRIVATE KEY" not in json.dumps(journal)
    wait_until("the good certificate to be served", lambda: _served(stack)["handshake_ok"], timeout=15)


def test_sigkill_leaves_a_marker_that_cleanup_removes(stack: Stack) -> None:
    before = _tls_files(stack)
    sigkilled_after("import os, signal; from chaosext.certificate import actions; "
                    "actions.serve_expired_certificate(duration=600, configuration={'target': 'local'}); "
                    "os.kill(os.getpid(), signal.SIGKILL)")
    assert _tls_files(stack) != before and len(markers.list_markers(family="certificate")) == 1
    cleanup_removes(1)
    assert _tls_files(stack) == before
    assert markers.list_markers(family="certificate") == []
    wait_until("the good certificate to be served", lambda: _served(stack)["handshake_ok"], timeout=15)
