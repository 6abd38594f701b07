"""Fault markers on disk and where the state directory is."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from markers_support import make_marker

from chaosext.faults import markers, paths
from chaosext.faults.markers import FaultMarker


def test_save_then_load_round_trips_every_field(tmp_path: Path, state_dir: Path) -> None:
    marker = make_marker(tmp_path / "log", "round-trip", expires_in=30)
    path = markers.save(marker)

    assert path == state_dir / "faults" / f"{marker.id}.json"
    assert json.loads(path.read_text())["undo_args"]["label"] == "round-trip"
    assert markers.load(marker.id) == marker
    assert list(path.parent.glob("*.tmp")) == [], "saved through a temporary file, none left"


def test_load_and_delete_of_a_missing_marker() -> None:
    assert markers.load("unit-missing") is None
    assert markers.delete("unit-missing") is False


def test_delete_removes_the_file(tmp_path: Path) -> None:
    marker = make_marker(tmp_path / "log")
    markers.save(marker)
    assert markers.delete(marker.id) is True
    assert markers.load(marker.id) is None


def test_list_markers_filters_and_skips_unreadable_files(tmp_path: Path, state_dir: Path) -> None:
    wanted = make_marker(tmp_path / "log", "a", family="alpha", kind="latency")
    other_kind = make_marker(tmp_path / "log", "b", family="alpha", kind="down")
    other_family = make_marker(tmp_path / "log", "c", family="beta", kind="latency")
    for marker in (wanted, other_kind, other_family):
        markers.save(marker)
    faults = state_dir / "faults"
    (faults / "broken.json").write_text("{not json")
    (faults / "foreign.json").write_text(json.dumps({"id": "x", "unexpected": 1}))

    assert {m.id for m in markers.list_markers()} == {wanted.id, other_kind.id, other_family.id}
    assert [m.id for m in markers.list_markers(family="alpha", kind="latency")] == [wanted.id]
    assert {m.id for m in markers.list_markers(family="alpha")} == {wanted.id, other_kind.id}
    assert [m.id for m in markers.list_markers(kind="latency", family="beta")] == [other_family.id]


def test_new_ids_name_the_family_and_are_unique() -> None:
    ids = {markers.new_id("dns") for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"dns-[0-9a-f]{12}", fault_id) for fault_id in ids)


def test_a_marker_captures_the_environment_that_locates_the_target(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAOSEXT_PORT_OFFSET", "2000")
    monkeypatch.setenv("KUBERNETES_CONTEXT", "kind-chaos")
    monkeypatch.setenv("UNRELATED_SECRET", "s3cr3t")
    marker = FaultMarker(id="unit-1", family="unit", kind="k", target="t", description="d", undo="m:f")

    assert marker.env["CHAOSEXT_PORT_OFFSET"] == "2000"
    assert marker.env["KUBERNETES_CONTEXT"] == "kind-chaos"
    assert "UNRELATED_SECRET" not in marker.env
    assert all(k.startswith("CHAOSEXT_") or k in markers.ENV_KEYS for k in marker.env)


def test_state_root_follows_chaosext_state_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHAOSEXT_STATE_DIR", str(tmp_path / "elsewhere"))
    assert paths.state_root() == tmp_path / "elsewhere"
    assert paths.faults_dir() == tmp_path / "elsewhere" / "faults" and paths.faults_dir().is_dir()


def test_state_root_falls_back_to_xdg_then_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CHAOSEXT_STATE_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert paths.state_root() == tmp_path / "xdg" / "chaosext"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert paths.state_root() == tmp_path / "home" / ".local" / "state" / "chaosext"
