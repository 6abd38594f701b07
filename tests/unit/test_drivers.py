"""One way to pick a family's driver: ``driver_for`` returns the target's module, and both of a
family's drivers implement every operation of its Protocol (``<family>/driver.py``) under the same
name with the same parameters; the actions never branch on the target themselves."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path
from typing import Any

import pytest
from chaoslib.exceptions import ActivityFailed

import chaosext
from chaosext.discovery import family_packages
from chaosext.target import driver_for

PACKAGE = Path(chaosext.__file__).resolve().parent
DRIVEN = sorted(f for f in family_packages() if (PACKAGE / f / "driver.py").exists())


def _protocol(family: str) -> type[Any]:
    module = importlib.import_module(f"chaosext.{family}.driver")
    [protocol] = [v for k, v in vars(module).items()
                  if k.endswith("Driver") and inspect.isclass(v) and getattr(v, "_is_protocol", False)]
    return protocol  # type: ignore[no-any-return]


def _operations(protocol: type[Any]) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(member) for name, member in vars(protocol).items()
            if inspect.isfunction(member) and not name.startswith("_")}


def test_the_fault_families_have_drivers() -> None:
    assert {"certificate", "config", "dns", "instance", "kafka", "rollout", "stress", "traffic"} <= set(DRIVEN)


@pytest.mark.parametrize("family", DRIVEN)
def test_both_drivers_implement_the_protocol_under_the_same_names(family: str) -> None:
    operations = _operations(_protocol(family))
    assert operations, f"{family}: the driver Protocol declares no operation"
    for target in ("local", "kubernetes"):
        module = importlib.import_module(f"chaosext.{family}.{target}")
        for name, declared in operations.items():
            function = getattr(module, name, None)
            assert callable(function), f"chaosext.{family}.{target} lacks {name}"
            expected = [p for p in declared.parameters if p != "self"]
            assert list(inspect.signature(function).parameters) == expected, f"{family}.{target}.{name}"
            assert name in module.__all__, f"{family}.{target}.{name} is not in __all__"


@pytest.mark.parametrize("family", DRIVEN)
def test_actions_and_probes_do_not_branch_on_the_target(family: str) -> None:
    for leaf in ("actions", "probes"):
        path = PACKAGE / family / f"{leaf}.py"
        if not path.exists():
            continue
        tree = ast.parse(path.read_text())
        branches = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call)
                    and getattr(node.func, "id", None) == "target_of"]
        assert branches == [], f"chaosext/{family}/{leaf}.py:{branches}"


def test_driver_for_picks_the_module_of_the_target(monkeypatch: pytest.MonkeyPatch) -> None:
    assert driver_for(None, "traffic").__name__ == "chaosext.traffic.local"
    assert driver_for({"target": "kubernetes"}, "traffic").__name__ == "chaosext.traffic.kubernetes"
    monkeypatch.setenv("CHAOSEXT_TARGET", "kubernetes")
    assert driver_for({}, "dns").__name__ == "chaosext.dns.kubernetes"
    with pytest.raises(ActivityFailed, match="'target' must be one of"):
        driver_for({"target": "mars"}, "dns")
