"""Which system an experiment hits: the local stack (default) or a Kubernetes cluster.

Chosen by ``configuration["target"]`` (``local`` or ``kubernetes``), else the environment
variable ``CHAOSEXT_TARGET``, else ``local``. The same experiment file runs against either.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from chaoslib.exceptions import ActivityFailed

__all__ = ["TARGETS", "driver_for", "setting", "target_of"]

TARGETS = ("local", "kubernetes")


def target_of(configuration: dict[str, Any] | None) -> str:
    value = str((configuration or {}).get("target") or os.environ.get("CHAOSEXT_TARGET") or "local")
    if value not in TARGETS:
        raise ActivityFailed(f"'target' must be one of {', '.join(TARGETS)}, got {value!r}")
    return value


def driver_for(configuration: dict[str, Any] | None, family: str) -> Any:
    """The family's driver for the target: the module ``chaosext.<family>.local`` or
    ``chaosext.<family>.kubernetes``, imported on first use (a local run never loads the
    Kubernetes client). Both implement the family's driver Protocol (``chaosext.<family>.driver``)
    under the same names; annotate the result with it: ``driver: DnsDriver = driver_for(...)``."""
    return importlib.import_module(f"chaosext.{family}.{target_of(configuration)}")


def setting(configuration: dict[str, Any] | None, key: str, default: Any = None) -> Any:
    """A configuration value, else the environment variable ``CHAOSEXT_<KEY>``, else ``default``."""
    cfg = configuration or {}
    if cfg.get(key) not in (None, ""):
        return cfg[key]
    env = os.environ.get(f"CHAOSEXT_{key.upper()}")
    return env if env not in (None, "") else default
