"""Errors the CLI turns into a clear message and an exit code instead of a traceback, and the
activity failures that mean "the experiment could not run" rather than "the system breached"."""

from __future__ import annotations

from chaoslib.exceptions import ActivityFailed

__all__ = [
    "ChaosextError",
    "ComponentError",
    "MissingExtra",
    "ToolMissing",
    "ToolUnreachable",
    "ToolingFailure",
    "UsageError",
]


class ChaosextError(Exception):
    """Base error: the message is shown to the user as is."""

    exit_code = 1


class UsageError(ChaosextError):
    """A bad argument: the message names it. Nothing was changed."""

    exit_code = 2


class MissingExtra(ChaosextError):
    """A command needs an optional part of the distribution that is not installed; the message
    names the extra to install. Nothing was changed."""

    exit_code = 2


class ComponentError(ChaosextError):
    """A component of the stack or control plane is missing or failed; the message names the fix."""

    exit_code = 3


class ToolingFailure(ActivityFailed):
    """An activity could not do its job because the experiment's own tooling failed, not the system
    under test. Chaos Toolkit records the class name in the journal (``chaosext.errors.<Name>: ...``),
    and ``chaosext gate`` judges such a run an ERROR (not judged), never an SLO breach."""


class ToolMissing(ToolingFailure):
    """A program the activity runs (vegeta, stress-ng, ...) is not installed."""


class ToolUnreachable(ToolingFailure):
    """A control endpoint the activity drives or reads (Toxiproxy's API, the DNS control API,
    Prometheus) does not answer."""
