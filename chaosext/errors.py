"""Errors the CLI turns into a clear message and an exit code instead of a traceback."""

from __future__ import annotations

__all__ = ["ChaosextError", "ComponentError", "UsageError"]


class ChaosextError(Exception):
    """Base error: the message is shown to the user as is."""

    exit_code = 1


class UsageError(ChaosextError):
    """A bad argument: the message names it. Nothing was changed."""

    exit_code = 2


class ComponentError(ChaosextError):
    """A component of the stack or control plane is missing or failed; the message names the fix."""

    exit_code = 3
