"""Where the sample stack's services and the guide's experiments are read from.

From a checkout (the editable dev install) they are the repository's own ``cluster/services`` and
``experiments``; from an installed wheel, the copy the build put under ``chaosext/_bundle`` with
the same layout (setup.py). Either way :func:`source_root` is a folder laid out like the
repository, so callers join the same relative paths.
"""

from __future__ import annotations

import functools
from pathlib import Path

__all__ = ["PACKAGED_ROOT", "checkout_root", "experiments_dir", "services_dir", "source_root"]

_PACKAGE = Path(__file__).resolve().parent
PACKAGED_ROOT = _PACKAGE / "_bundle"


@functools.cache  # the package does not move while it runs; every load of the stack's config asks
def checkout_root() -> Path | None:
    """The repository this package runs from, if it runs from a checkout."""
    root = _PACKAGE.parent
    if (root / "pyproject.toml").is_file() and (root / "experiments").is_dir() and (root / "cluster").is_dir():
        return root
    return None


def source_root() -> Path:
    """The checkout if there is one, else the packaged copy (both laid out like the repository)."""
    return checkout_root() or PACKAGED_ROOT


def services_dir(root: Path | None = None) -> Path:
    """The folder put on the sample services' PYTHONPATH (``checkout_api``, ``servicekit`` ...)."""
    return (root or source_root()) / "cluster" / "services"


def experiments_dir(root: Path | None = None) -> Path:
    """The guide's experiment files."""
    return (root or source_root()) / "experiments"
