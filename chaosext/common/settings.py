"""Where chaosext keeps its files, and the port offset (docs/architecture.md, "Paths", is the contract).

One rule for every override: an environment variable wins (``~`` expanded, made absolute), then the
XDG base directory, then the default under the home directory.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from chaosext import bundle
from chaosext.errors import UsageError

__all__ = ["MAX_PORT_OFFSET", "cache_root", "port_offset", "repo_root", "state_root", "venv_dir"]

MAX_PORT_OFFSET = 40000  # the highest default port (19194) plus this stays below 65536


def _from_env(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else None


def _xdg(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


def state_root() -> Path:
    """``$CHAOSEXT_STATE_DIR``, else ``$XDG_STATE_HOME/chaosext`` (``~/.local/state/chaosext``)."""
    return _from_env("CHAOSEXT_STATE_DIR") or _xdg("XDG_STATE_HOME", Path.home() / ".local" / "state") / "chaosext"


def cache_root() -> Path:
    """``$CHAOSEXT_CACHE_DIR``, else ``$XDG_CACHE_HOME/chaosext`` (``~/.cache/chaosext``)."""
    return _from_env("CHAOSEXT_CACHE_DIR") or _xdg("XDG_CACHE_HOME", Path.home() / ".cache") / "chaosext"


def repo_root() -> Path:
    """``$CHAOSEXT_HOME``, else the folder laid out like the repository that holds the sample
    services: the checkout (editable install), or the copy packaged in the wheel (:mod:`chaosext.bundle`)."""
    return _from_env("CHAOSEXT_HOME") or bundle.source_root()


def venv_dir() -> Path:
    """``$CHAOSEXT_VENV``, else the Python environment running chaosext (``sys.prefix``): the
    stack's Python programs (supervisord, the DNS server, the services) run from it, so a pip
    install works from any directory."""
    return _from_env("CHAOSEXT_VENV") or Path(sys.prefix)


def port_offset() -> int:
    """``CHAOSEXT_PORT_OFFSET``: a whole number 0..40000 added to every port of the stack and the
    control plane; unset or empty means 0."""
    raw = os.environ.get("CHAOSEXT_PORT_OFFSET", "").strip() or "0"
    try:
        offset = int(raw)
    except ValueError:
        raise UsageError(f"CHAOSEXT_PORT_OFFSET must be a whole number, got {raw!r}") from None
    if not 0 <= offset <= MAX_PORT_OFFSET:
        raise UsageError(f"CHAOSEXT_PORT_OFFSET must be between 0 and {MAX_PORT_OFFSET}, got {offset}")
    return offset
