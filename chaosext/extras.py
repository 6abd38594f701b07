"""The optional parts of the distribution (pip extras) and the check a command makes before it
uses one: a clear "install chaosext-backend[<extra>]" instead of an ImportError half-way through.
"""

from __future__ import annotations

import importlib.util

from chaosext.errors import MissingExtra

__all__ = ["EXTRAS", "missing_modules", "require"]

DISTRIBUTION = "chaosext-backend"

# extra -> the modules it provides (import names), as declared in pyproject.toml
EXTRAS: dict[str, tuple[str, ...]] = {
    "report": ("matplotlib",),
    "stack": ("supervisor", "dnslib", "aiohttp", "tenacity", "pythonjsonlogger", "redis"),
}


def missing_modules(extra: str) -> list[str]:
    """The modules of ``extra`` this environment cannot import (empty when it is installed)."""
    if extra not in EXTRAS:
        raise ValueError(f"extra: unknown extra {extra!r}; known: {', '.join(sorted(EXTRAS))}")
    return [name for name in EXTRAS[extra] if importlib.util.find_spec(name) is None]


def require(extra: str, what: str) -> None:
    """Raise :class:`MissingExtra` (exit 2) naming the extra when ``what`` cannot run here."""
    missing = missing_modules(extra)
    if missing:
        raise MissingExtra(
            f"{what} needs the [{extra}] extra (missing: {', '.join(missing)}); "
            f"install it with: pip install '{DISTRIBUTION}[{extra}]'"
        )
