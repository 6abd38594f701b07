"""The sample services' replicas that faults ask supervisord about are the programs the stack runs;
without a running stack an instance fault says so and changes nothing."""

from __future__ import annotations

import pytest
from chaoslib.exceptions import ActivityFailed

from chaosext.instance import actions
from chaosext.stack.config import SERVICE_REPLICAS, load_config
from chaosext.stack.programs import programs


def test_the_service_replicas_are_the_stacks_service_programs() -> None:
    running = sorted(p.name for p in programs(load_config()) if p.group == "service")
    assert sorted(name for names in SERVICE_REPLICAS.values() for name in names) == running
    for service, names in SERVICE_REPLICAS.items():
        assert all(n == service or n.startswith(f"{service}-") for n in names)


@pytest.mark.parametrize("service", ["payment-service", "kafka"])
def test_without_a_running_stack_an_instance_fault_says_so(service: str) -> None:
    with pytest.raises(ActivityFailed, match="the local stack is not running"):
        actions.kill_instances(service, count=1, configuration={"target": "local"})
