"""SIGINT, SIGTERM and SIGKILL in the middle of an instance, config, rollout or stress fault on the real
local stack: nothing is left behind after the rollback or ``chaosext cleanup``."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from interrupt_support import assert_rollbacks_succeeded, cleanup_removes, interrupt_run, sigkilled_after
from stack_support import Stack
from support import wait_until

from chaosext.certificate import probes as certificate_probes
from chaosext.config import local as config_local
from chaosext.faults import markers
from chaosext.instance import probes as instance_probes
from chaosext.rollout import local as rollout_local
from chaosext.stress import local as stress_local

pytestmark = pytest.mark.stack
LOCAL: dict[str, Any] = {"target": "local"}


@dataclass
class Fault:
    family: str
    module: str
    func: str
    arguments: dict[str, Any]
    rollback_module: str
    rollback_func: str
    active: Callable[[], bool]
    restored: Callable[[], bool]


def _stopped() -> bool:
    return instance_probes.instances_ready("checkout-api", configuration=LOCAL)["ready"] == 1


def _all_running() -> bool:
    return instance_probes.instances_ready("checkout-api", configuration=LOCAL)["ready"] == 2


def _config_flipped() -> bool:
    return '"max_attempts": 2' in (config_local.read("checkout-api") or "")


def _config_restored() -> bool:
    return '"max_attempts": 2' not in (config_local.read("checkout-api") or "")


def _release_failing() -> bool:
    return rollout_local.rollout_status("payment-service")["updated_replicas"] == 1


def _release_restored() -> bool:
    return bool(rollout_local.rollout_status("payment-service")["complete"])


def _stressing() -> bool:
    return bool(stress_local.stressor_pids() and stress_local.stress_groups())


def _stress_gone() -> bool:
    return not stress_local.stressor_pids() and not stress_local.stress_groups()


def _rotated_served() -> bool:
    return "rotated" in certificate_probes.served_certificate(configuration=LOCAL)["certificate"]["issuer"]


def _original_served() -> bool:
    return not markers.list_markers(family="certificate") and not _rotated_served()


FAULTS = {
    # interrupted while waiting for the rotated certificate to be served: applying is shielded,
    # the wait is not, so the run stops at once and the old certificate and bundle come back
    "certificate": Fault("certificate", "chaosext.certificate.actions", "rotate_certificate",
                         {"new_ca": True, "duration": 300},
                         "chaosext.certificate.actions", "restore_certificates", lambda: True, _original_served),
    "instance": Fault("instance", "chaosext.instance.actions", "stop_instances",
                      {"service": "checkout-api", "count": 1, "duration": 300},
                      "chaosext.instance.actions", "restore_instances", _stopped, _all_running),
    "config": Fault("config", "chaosext.config.actions", "change_service_config",
                    {"service": "checkout-api", "settings": {"max_attempts": 2}, "duration": 300},
                    "chaosext.config.actions", "restore_service_config", _config_flipped, _config_restored),
    "rollout": Fault("rollout", "chaosext.rollout.actions", "start_failing_rollout",
                     {"name": "payment-service", "duration": 300, "settle_timeout": 3},
                     "chaosext.rollout.actions", "undo_failing_rollout", _release_failing, _release_restored),
    "stress": Fault("stress", "chaosext.stress.actions", "stress_cpu",
                    {"service": "payment-service", "workers": 1, "load": 50, "duration": 300},
                    "chaosext.stress.actions", "remove_stress", _stressing, _stress_gone),
}


@pytest.fixture(autouse=True)
def _no_fault_survives_a_failed_test() -> Iterator[None]:
    """Hygiene only (assertions come first): a failing test must not leave its fault to the next."""
    yield
    from chaosext.faults.cleanup import cleanup_all

    cleanup_all(kube=False)


def _experiment(tmp_path: Path, fault: Fault) -> Path:
    exp = {
        "title": f"{fault.family} fault held while interrupted", "description": "interruption test",
        "configuration": LOCAL,
        "method": [
            {"type": "action", "name": "fault",
             "provider": {"type": "python", "module": fault.module, "func": fault.func, "arguments": fault.arguments}},
            {"type": "probe", "name": "wait", "provider": {"type": "process", "path": "sleep", "arguments": "120"}},
        ],
        "rollbacks": [{"type": "action", "name": "undo",
                       "provider": {"type": "python", "module": fault.rollback_module, "func": fault.rollback_func}}],
    }
    path = tmp_path / f"{fault.family}.json"
    path.write_text(json.dumps(exp))
    return path


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("family", sorted(FAULTS))
def test_signal_mid_fault_runs_the_rollback(stack: Stack, tmp_path: Path, family: str, sig: signal.Signals) -> None:
    fault = FAULTS[family]
    journal, out = interrupt_run(_experiment(tmp_path, fault), tmp_path / "j.json", sig,
                                 ready=lambda: fault.active() and markers.list_markers(family=family),
                                 what=f"the {family} fault to be active and recorded")
    wait_until(f"the {family} fault to be undone; chaos said: {out[-1500:]}", fault.restored, timeout=30)
    assert markers.list_markers(family=family) == []
    assert_rollbacks_succeeded(journal)


@pytest.mark.parametrize("family", sorted(FAULTS))
def test_sigkill_mid_fault_then_cleanup_removes_it(stack: Stack, family: str) -> None:
    fault = FAULTS[family]
    sigkilled_after(f"import os, signal, importlib; m = importlib.import_module({fault.module!r}); "
                    f"m.{fault.func}(configuration={LOCAL!r}, **{fault.arguments!r}); os.kill(os.getpid(), signal.SIGKILL)")
    assert fault.active() and len(markers.list_markers(family=family)) == 1
    cleanup_removes(1)
    wait_until(f"the {family} fault to be undone by cleanup", fault.restored, timeout=30)
    assert markers.list_markers(family=family) == []
