"""chaosext: a Chaos Toolkit extension for backend chaos engineering.

Fault families live in one sub-package each (``chaosext/<family>/actions.py`` and
``probes.py``); :func:`discover` lists every activity for ``chaos discover``.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

try:
    # pyproject.toml is the one place the version is written; this is what was installed from it
    __version__ = metadata.version("chaosext-backend")
except metadata.PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"
__all__ = ["__version__", "discover"]


def discover(discover_system: bool = True) -> dict[str, Any]:
    """Describe this extension and every activity it provides, for ``chaos discover``."""
    from chaosext.discovery import discover_extension

    return discover_extension(discover_system=discover_system)
