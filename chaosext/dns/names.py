"""Validation of the DNS names (or ``*.zone`` globs) a DNS fault or probe is aimed at."""

from __future__ import annotations

import re

from chaoslib.exceptions import ActivityFailed

__all__ = ["check_name", "normalize"]

_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")


def normalize(name: str) -> str:
    """A DNS name as the server keys it: no surrounding blanks, no trailing dot, lower case."""
    return name.strip().rstrip(".").lower()


def check_name(name: object, argument: str = "name", allow_glob: bool = True) -> str:
    """The normalised name (lower case, no trailing dot); ActivityFailed naming ``argument`` if bad."""
    if not isinstance(name, str) or not name.strip():
        raise ActivityFailed(f"'{argument}' must be a non-empty DNS name, got {name!r}")
    value = normalize(name)
    labels = value.split(".")
    if allow_glob and labels[0] == "*" and len(labels) > 1:
        labels = labels[1:]
    if len(value) > 253 or not all(_LABEL.match(label) for label in labels):
        hint = " (a glob may only be '*.' in front of a name)" if "*" in value else ""
        raise ActivityFailed(f"'{argument}' {name!r} is not a valid DNS name{hint}")
    return value
