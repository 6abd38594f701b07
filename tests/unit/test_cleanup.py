"""``chaosext cleanup`` over markers: a dry run lists, a real run undoes every leftover fault."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from markers_support import make_marker
from recording_undo import calls
from typer.testing import CliRunner

from chaosext import cli
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


def test_a_marker_with_an_unknown_undo_key_is_an_error_naming_the_key_and_the_file(tmp_path: Path) -> None:
    log = tmp_path / "undo.jsonl"
    lost = make_marker(log, "lost", undo="unit.renamed_away")
    known = make_marker(log, "known")
    markers.save(lost)
    markers.save(known)

    for dry_run in (True, False):
        rows = {row["id"]: row for row in cleanup.cleanup_all(dry_run=dry_run, kube=False)}
        assert rows[lost.id]["action"] == "error"
        assert "'unit.renamed_away'" in rows[lost.id]["description"]
        assert str(markers.path_of(lost.id)) in rows[lost.id]["description"]
        assert rows[known.id]["action"] == ("would remove" if dry_run else "removed")
    assert [m.id for m in markers.list_markers()] == [lost.id], "the unknown one is left for a person"
    assert [c["label"] for c in calls(log)] == ["known"]


def test_the_cli_exits_1_and_says_which_marker_it_cannot_undo(tmp_path: Path) -> None:
    lost = make_marker(tmp_path / "undo.jsonl", "lost", undo="chaosext.gone.module:undo")
    markers.save(lost)

    result = CliRunner().invoke(cli.app, ["cleanup", "--no-kube"])

    assert result.exit_code == 1
    said = "".join(result.output.split())  # the console may wrap a long path anywhere
    assert "error:" in said and "'chaosext.gone.module:undo'" in said
    assert "".join(str(markers.path_of(lost.id)).split()) in said
    assert markers.load(lost.id) is not None
