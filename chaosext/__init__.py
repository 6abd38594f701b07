"""chaosext: a Chaos Toolkit extension for backend chaos engineering.

Fault families live in one sub-package each (``chaosext/<family>/actions.py`` and
``probes.py``); :func:`discover` lists every activity for ``chaos discover``.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "discover"]


def discover(discover_system: bool = True) -> dict[str, Any]:
    """Describe this extension and every activity it provides, for ``chaos discover``."""
    from chaosext.discovery import discover_extension

    return discover_extension(discover_system=discover_system)
