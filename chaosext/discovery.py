"""Builds the ``chaos discover`` document: every family's actions as actions, probes as probes."""

from __future__ import annotations

import importlib.util
import pkgutil
from typing import Any

from chaoslib.discovery.discover import discover_actions, discover_probes, initialize_discovery_result

import chaosext

__all__ = ["discover_extension", "family_modules", "family_packages"]

DISTRIBUTION = "chaosext-backend"


def family_packages() -> list[str]:
    """The fault-family sub-packages (those that ship an ``actions`` or ``probes`` module)."""
    return sorted({mod.split(".")[1] for mod in family_modules()})


def family_modules() -> list[str]:
    """Every ``chaosext.<family>.actions`` and ``chaosext.<family>.probes`` module."""
    names: list[str] = []
    for info in sorted(pkgutil.iter_modules(chaosext.__path__), key=lambda i: i.name):
        if not info.ispkg:
            continue
        for leaf in ("actions", "probes"):
            mod = f"chaosext.{info.name}.{leaf}"
            if importlib.util.find_spec(mod) is not None:
                names.append(mod)
    return names


def discover_extension(discover_system: bool = True) -> dict[str, Any]:
    result: dict[str, Any] = initialize_discovery_result(DISTRIBUTION, chaosext.__version__, "backend")
    activities: list[dict[str, Any]] = []
    for mod in family_modules():
        if mod.endswith(".actions"):
            activities.extend(discover_actions(mod))
        else:
            activities.extend(discover_probes(mod))
    result["activities"] = activities
    return result
