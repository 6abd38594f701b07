"""Ctrl-C during a certificate rotation on kind: applying is shielded, waiting for payment-service's
rollout is not, so the run stops at once, the old certificate is back in the Secret within 2 s of
the signal, the run ends interrupted, and no chaosext mark is left on the Secret or the bundle."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from interrupt_support import CHAOS
from kind.helpers import NAMESPACE, KindCluster
from kube.helpers import wait_until
from stack_support import REPO

from chaosext.kube import FAULT_ANNOTATION


def _tls_crt(cluster: KindCluster) -> bytes:
    return base64.b64decode(cluster.core.read_namespaced_secret("payment-tls", NAMESPACE).data["tls.crt"])


def test_ctrl_c_during_the_rotation_wait_restores_at_once(kind_cluster: KindCluster, chaos_config: dict[str, Any],
                                                          tmp_path: Path) -> None:
    original = _tls_crt(kind_cluster)
    experiment = tmp_path / "rotation.json"
    experiment.write_text(json.dumps({
        "title": "certificate rotation interrupted", "description": "interruption test on kind",
        "configuration": chaos_config,
        "method": [{"type": "action", "name": "rotate", "provider": {
            "type": "python", "module": "chaosext.certificate.actions", "func": "rotate_certificate",
            "arguments": {"new_ca": True, "duration": 300, "workload": "payment-service", "timeout": 120}}}],
        "rollbacks": [{"type": "action", "name": "restore", "provider": {
            "type": "python", "module": "chaosext.certificate.actions", "func": "restore_certificates"}}],
    }))
    journal = tmp_path / "journal.json"
    proc = subprocess.Popen([CHAOS, "run", "--rollback-strategy", "always", "--journal-path", str(journal),
                             str(experiment)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True, env={**os.environ})
    try:
        # the rotated certificate is in the Secret: the rollout restart and its wait have begun
        wait_until("the rotated certificate in Secret payment-tls", lambda: _tls_crt(kind_cluster),
                   lambda crt: crt != original, timeout_s=60)
        os.killpg(proc.pid, signal.SIGINT)
        signalled = time.monotonic()
        wait_until("the original certificate back in the Secret", lambda: _tls_crt(kind_cluster),
                   lambda crt: crt == original, timeout_s=30)
        restored_after = time.monotonic() - signalled
        out, _ = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert restored_after < 2.0, f"{restored_after:.1f}s; chaos said: {out[-2000:]}"
    assert json.loads(journal.read_text())["status"] == "interrupted", out[-2000:]
    assert "ended (interrupted)" in out, out[-2000:]
    secret = kind_cluster.core.read_namespaced_secret("payment-tls", NAMESPACE)
    bundle = kind_cluster.core.read_namespaced_config_map("chaosext-ca", NAMESPACE)
    for obj in (secret, bundle):
        assert FAULT_ANNOTATION not in (obj.metadata.annotations or {}), obj.metadata.annotations
