"""``chaosext cleanup`` over markers: a dry run lists, a real run undoes every leftover fault."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from markers_support import make_marker
from recording_undo import calls

from chaosext.faults import cleanup, markers


@pytest.fixture(autouse=True)
def markers_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the markers of the test's state dir: the families' own leftover finders look at this
    machine (cgroups) and are not what these tests are about."""

    def no_local_leftovers(dry_run: bool) -> list[dict[str, Any]]:
        return []

    monkeypatch.setattr(cleanup, "_local_leftovers", no_local_leftovers)


def test_a_dry_run_lists_leftovers_and_changes_nothing(tmp_path: Path) -> None:
    log = tmp_path / "undo.jsonl"
    left = [make_marker(log, "one", family="dns"), make_marker(log, "two", family="instance", kind="stop")]
    for marker in left:
        markers.save(marker)

    report = cleanup.cleanup_all(dry_run=True, kube=False)

    assert {(row["id"], row["family"], row["action"]) for row in report} == {
        (left[0].id, "dns", "would remove"), (left[1].id, "instance", "would remove")}
    assert len(markers.list_markers()) == 2 and calls(log) == []


def test_cleanup_undoes_every_marker(tmp_path: Path) -> None:
    log = tmp_path / "undo.jsonl"
    for label in ("one", "two", "three"):
        markers.save(make_marker(log, label))

    report = cleanup.cleanup_all(kube=False)

    assert [row["action"] for row in report] == ["removed"] * 3
    assert markers.list_markers() == []
    assert sorted(c["label"] for c in calls(log)) == ["one", "three", "two"]


def test_no_kube_config_means_no_cluster_check() -> None:
    assert cleanup.kube_reachable() is False, "the unit layer's KUBECONFIG points at nothing"
