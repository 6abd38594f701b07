"""Resource stress on the real local stack: real cgroups, real stress-ng, the real services."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from chaoslib.exceptions import ActivityFailed
from e2e.helpers import checkout, new_order_id, wait_checkout_healthy
from stack_support import Stack, chaosext
from support import wait_until

from chaosext.faults import markers
from chaosext.instance import probes as instance_probes
from chaosext.stress import actions, cgroups, local, probes

pytestmark = pytest.mark.stack
LOCAL: dict[str, Any] = {"target": "local"}


def _pid(instance: str) -> int:
    rows = instance_probes.instances_ready("payment-service", configuration=LOCAL)["instances"]
    return int(next(r["pid"] for r in rows if r["instance"] == instance))


def _cgroup_of(pid: int, controller: str) -> Path:
    return cgroups.cgroup_of(pid, cgroups.hierarchy(controller))


def _nothing_left() -> bool:
    return not local.stress_groups() and not local.stressor_pids() and not markers.list_markers(family="stress")


def test_cpu_stress_throttles_one_replica_inside_its_quota_and_rollback_restores_it(stack: Stack) -> None:
    pid = _pid("payment-service-1")
    home = _cgroup_of(pid, "cpu")
    result = actions.stress_cpu("payment-service", workers=2, load=100, duration=120, cpu_limit="500m",
                                instances=["payment-service-1"], configuration=LOCAL)
    (replica,) = result["changed"]["replicas"]
    assert replica["instance"] == "payment-service-1" and replica["pid"] == pid
    group = _cgroup_of(pid, "cpu")
    assert group.name == f"chaosext-{result['id']}" and group != home
    assert (group / "cpu.cfs_quota_us").read_text().strip() == "50000"
    members = cgroups.members(group)
    assert pid in members and replica["stressor_pid"] in members and len(members) >= 3  # + 2 workers

    stats = wait_until(
        "the replica's quota to throttle it",
        lambda: [r for r in probes.stress_status("payment-service")[0]["replicas"]
                 if r.get("nr_throttled", 0) >= 5],
        timeout=20,
    )
    assert stats[0]["throttled_s"] > 0
    # the starved replica still answers its health check and checkouts still succeed
    wait_checkout_healthy(stack.url("checkout"), in_a_row=5)

    actions.remove_stress("payment-service")
    assert _cgroup_of(pid, "cpu") == home and _cgroup_of(pid, "memory").name != group.name
    wait_until("stress-ng, the cgroups and the marker to be gone", _nothing_left, timeout=10)
    assert _pid("payment-service-1") == pid  # stressed, never restarted


def test_memory_stress_fills_the_replica_group_up_to_its_limit(stack: Stack) -> None:
    result = actions.stress_memory("payment-service", size="96Mi", duration=120, memory_limit="256Mi",
                                   instances=["payment-service-2"], configuration=LOCAL)
    pid = result["changed"]["replicas"][0]["pid"]
    group = _cgroup_of(pid, "memory")
    assert group.name == f"chaosext-{result['id']}"
    assert int((group / "memory.limit_in_bytes").read_text()) == 256 * 2**20
    wait_until(
        "the group to hold the stressor's 96 MiB",
        lambda: probes.stress_status()[0]["replicas"][0].get("memory_bytes", 0) >= 96 * 2**20,
        timeout=20,
    )
    assert checkout(stack.url("checkout"), new_order_id("mem")).status_code // 100 == 2
    actions.remove_stress()
    wait_until("stress-ng, the cgroups and the marker to be gone", _nothing_left, timeout=10)


def test_stress_ends_by_itself_at_its_duration(stack: Stack) -> None:
    result = actions.stress_cpu("payment-service", workers=1, load=20, duration=2, configuration=LOCAL)
    assert markers.load(result["id"]) is not None and local.stressor_pids()
    wait_until("the reaper to undo the expired stress", _nothing_left, timeout=20)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"service": "nope"}, "'service'"),
        ({"service": "payment-service", "workers": 0}, "'workers'"),
        ({"service": "payment-service", "load": 0}, "'load'"),
        ({"service": "payment-service", "cpu_limit": "lots"}, "'cpu_limit'"),
        ({"service": "payment-service", "duration": 0}, "'duration'"),
        ({"service": "payment-service", "count": 2}, "share|all replicas"),
        ({"service": "payment-service", "instances": ["payment-service-9"]}, "'instances'"),
    ],
)
def test_bad_cpu_arguments_change_nothing(stack: Stack, kwargs: dict[str, Any], needle: str) -> None:
    with pytest.raises(ActivityFailed, match=needle):
        actions.stress_cpu(configuration=LOCAL, **kwargs)
    assert _nothing_left()


@pytest.mark.parametrize(("kwargs", "needle"), [({"size": "1k"}, "'size'"), ({"memory_limit": "x"}, "'memory_limit'")])
def test_bad_memory_arguments_change_nothing(stack: Stack, kwargs: dict[str, Any], needle: str) -> None:
    with pytest.raises(ActivityFailed, match=needle):
        actions.stress_memory("payment-service", configuration=LOCAL, **kwargs)
    assert _nothing_left()


def test_cleanup_finds_stress_whose_marker_was_lost(stack: Stack) -> None:
    """Worst case after a SIGKILL: the marker is gone too. `chaosext cleanup` still finds the
    stress cgroup by its name, stops stress-ng and puts the replica back in its parent group."""
    result = actions.stress_cpu("payment-service", workers=1, load=30, duration=120,
                                instances=["payment-service-2"], configuration=LOCAL)
    pid = result["changed"]["replicas"][0]["pid"]
    group = _cgroup_of(pid, "cpu")
    markers.delete(result["id"])
    out = chaosext("cleanup", "--no-kube")
    report = "".join(out.stderr.split())
    assert f"cgroup={group},processes=3,stressors=2" in report, out.stderr  # replica, stress-ng + its worker
    assert _cgroup_of(pid, "cpu") == group.parent
    wait_until("stress-ng and the cgroups to be gone", _nothing_left, timeout=10)
