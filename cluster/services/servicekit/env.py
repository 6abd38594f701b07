"""Typed reading of environment variables with clear errors naming the bad variable."""

from __future__ import annotations

import os


class EnvError(ValueError):
    """An environment variable has a value the service cannot use."""


def env_str(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def env_opt(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def env_int(name: str, default: int, *, minimum: int = 0, maximum: int = 65535) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise EnvError(f"{name} must be an integer, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise EnvError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def parse_host_port(name: str, raw: str) -> tuple[str, int]:
    """Parse `host:port` (the value of variable `name`)."""
    host, sep, port_s = raw.rpartition(":")
    if not sep or not host or not port_s.isdigit() or not 0 < int(port_s) < 65536:
        raise EnvError(f"{name} must be host:port, got {raw!r}")
    return host.strip("[]"), int(port_s)


def env_host_port(name: str) -> tuple[str, int] | None:
    raw = env_opt(name)
    return None if raw is None else parse_host_port(name, raw)


def env_bootstrap(name: str, default: str) -> str:
    raw = env_str(name, default)
    for part in raw.split(","):
        parse_host_port(name, part.strip())
    return raw


def env_file(name: str) -> str | None:
    path = env_opt(name)
    if path is not None and not os.path.isfile(path):
        raise EnvError(f"{name} points to {path!r}, which is not a readable file")
    return path
