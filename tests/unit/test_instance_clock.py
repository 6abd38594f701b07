"""How long a pod's containers have been running, from the pod's status as the API server gives it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from chaoslib.exceptions import ActivityFailed
from kubernetes import client

from chaosext.instance import probes
from chaosext.instance.kubernetes import running_for

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _status(started_s_ago: float | None, restarts: int) -> client.V1ContainerStatus:
    running = client.V1ContainerStateRunning(started_at=NOW - timedelta(seconds=started_s_ago)) \
        if started_s_ago is not None else None
    waiting = None if running else client.V1ContainerStateWaiting(reason="CrashLoopBackOff")
    return client.V1ContainerStatus(name="c", image="i", image_id="", ready=running is not None,
                                    restart_count=restarts, state=client.V1ContainerState(running=running, waiting=waiting))


def _pod(*statuses: client.V1ContainerStatus) -> client.V1Pod:
    return client.V1Pod(status=client.V1PodStatus(container_statuses=list(statuses)))


def test_the_most_recently_started_container_sets_the_clock_and_restarts_add_up() -> None:
    assert running_for(_pod(_status(120, 0), _status(7.34, 2)), NOW) == (7.3, 2)


def test_a_container_not_running_means_no_clock() -> None:
    assert running_for(_pod(_status(120, 0), _status(None, 3)), NOW) == (None, 3)
    assert running_for(client.V1Pod(status=client.V1PodStatus()), NOW) == (None, 0)


@pytest.mark.parametrize("bad", [-1, "soon", [3]])
def test_running_for_s_must_be_seconds(bad: object) -> None:
    with pytest.raises(ActivityFailed, match="'running_for_s'"):
        probes.instances_ready("payment-service", running_for_s=bad, configuration={"target": "local"})  # type: ignore[arg-type]
