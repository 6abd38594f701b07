"""Sizing a memory stressor for a container's cgroup (chaosext.stress.kubernetes.fit_memory): on
cgroup v2 with memory.oom.group = 1 the stressor is capped under the limit, elsewhere unchanged."""

from __future__ import annotations

import pytest
from chaoslib.exceptions import ActivityFailed

from chaosext.stress.kubernetes import OOM_GROUP_MARGIN, fit_memory
from chaosext.stress.stressor import Stress

MiB = 2**20


def stress(size_mib: int, workers: int = 1) -> Stress:
    return Stress(kind="memory", workers=workers, seconds=60, size_bytes=size_mib * MiB)


def test_cgroup_v1_keeps_the_size() -> None:
    asked = stress(240)
    assert fit_memory(asked, ["v1"]) == (asked, None)


def test_v2_oom_group_caps_under_the_limit() -> None:
    fitted, sizing = fit_memory(stress(240), ["v2", "1", str(256 * MiB), str(60 * MiB)])
    assert sizing is not None and sizing["capped"] is True and sizing["oom_group"] is True
    assert fitted.size_bytes == 256 * MiB - 60 * MiB - OOM_GROUP_MARGIN
    assert fitted.size_bytes + 60 * MiB < 256 * MiB


def test_v2_cap_is_shared_between_workers() -> None:
    fitted, sizing = fit_memory(stress(100, workers=2), ["v2", "1", str(256 * MiB), str(60 * MiB)])
    assert sizing is not None and sizing["capped"] is True
    assert fitted.workers * fitted.size_bytes <= 256 * MiB - 60 * MiB - OOM_GROUP_MARGIN


def test_v2_without_oom_group_or_limit_keeps_the_size() -> None:
    asked = stress(240)
    assert fit_memory(asked, ["v2", "0", str(256 * MiB), str(60 * MiB)])[0] == asked
    assert fit_memory(asked, ["v2", "1", "max", str(60 * MiB)])[0] == asked


def test_v2_no_room_is_refused() -> None:
    with pytest.raises(ActivityFailed, match="no room for a stressor"):
        fit_memory(stress(240), ["v2", "1", str(256 * MiB), str(250 * MiB)])


def test_unexpected_reading_is_refused() -> None:
    with pytest.raises(ActivityFailed, match="unexpected memory cgroup reading"):
        fit_memory(stress(240), ["v2", "1"])
