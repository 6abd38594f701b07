"""Discovery: what ``chaos discover chaosext-backend --no-install`` lists, every activity with its
right type (probes as probes), nothing left out and nothing extra."""

from __future__ import annotations

import importlib
import inspect
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from chaoslib.discovery.discover import discover

from chaosext.discovery import DISTRIBUTION, family_modules, family_packages

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def activities() -> list[dict[str, Any]]:
    """The activities as Chaos Toolkit's own ``chaos discover --no-install`` path finds them."""
    found: list[dict[str, Any]] = discover(DISTRIBUTION, discover_system=False, download_and_install=False)["activities"]
    return found


def _exported(module_name: str) -> list[str]:
    exported: list[str] = list(importlib.import_module(module_name).__all__)
    return exported


def test_every_family_ships_actions_or_probes() -> None:
    expected = {"certificate", "config", "dependency", "dns", "instance", "kafka", "rollout", "slo", "stress", "traffic"}
    assert set(family_packages()) == expected
    assert all(mod.rsplit(".", 1)[1] in ("actions", "probes") for mod in family_modules())


def test_every_exported_function_is_listed_with_its_module_s_type(activities: list[dict[str, Any]]) -> None:
    listed = {(a["mod"], a["name"]): a["type"] for a in activities}
    expected = {
        (mod, name): "probe" if mod.endswith(".probes") else "action"
        for mod in family_modules()
        for name in _exported(mod)
    }
    assert listed == expected


def test_no_activity_is_listed_twice(activities: list[dict[str, Any]]) -> None:
    counts = Counter((a["mod"], a["name"]) for a in activities)
    assert [key for key, n in counts.items() if n > 1] == []


@pytest.mark.parametrize("module_name", family_modules())
def test_all_names_only_functions_of_its_own_module(module_name: str) -> None:
    """``__all__`` is what Chaos Toolkit exports: a name there that is not a function of the module
    is silently dropped, and a public function missing from it is silently not an activity."""
    module = importlib.import_module(module_name)
    exported = _exported(module_name)
    assert exported, f"{module_name}: an empty __all__ would export every imported function"
    not_functions = [n for n in exported if not inspect.isfunction(getattr(module, n, None))]
    assert not_functions == []
    defined_here = {n for n, f in inspect.getmembers(module, inspect.isfunction)
                    if f.__module__ == module_name and not n.startswith("_")}
    assert defined_here - set(exported) == set(), "public functions that are not exported as activities"


def test_every_activity_is_documented_and_takes_configuration_and_secrets(activities: list[dict[str, Any]]) -> None:
    for activity in activities:
        where = f"{activity['mod']}.{activity['name']}"
        assert (activity["doc"] or "").strip(), f"{where} has no docstring"
        names = [arg["name"] for arg in activity["arguments"]]
        assert names[-2:] == ["configuration", "secrets"], f"{where}: {names}"


def test_the_readme_states_the_number_of_activities(activities: list[dict[str, Any]]) -> None:
    stated = re.search(r"lists all (\d+) activities", README.read_text())
    assert stated, "README.md no longer says how many activities `chaos discover` lists"
    assert int(stated.group(1)) == len(activities)


def test_the_package_level_discover_matches(activities: list[dict[str, Any]]) -> None:
    import chaosext

    document = chaosext.discover(discover_system=False)
    assert document["extension"]["name"] == DISTRIBUTION
    assert [(a["mod"], a["name"], a["type"]) for a in document["activities"]] == [
        (a["mod"], a["name"], a["type"]) for a in activities
    ]
