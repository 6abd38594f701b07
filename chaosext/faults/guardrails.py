"""Guardrails every fault passes before it changes anything.

Configuration keys (experiment ``configuration`` or environment):

- ``allowed_namespaces``: namespaces faults may touch (list or comma string). Default: any but
  the ``denied_namespaces``.
- ``denied_namespaces``: default ``["kube-system"]``.
- ``allowed_contexts``: kube contexts faults may use (also ``CHAOSEXT_ALLOWED_CONTEXTS``, comma
  separated); default: any.
- ``max_replica_share``: the largest share of a workload's replicas one fault may hit, 0..1.
  Default 0.5; whatever the share, a fault never hits *all* replicas unless
  ``allow_all_replicas`` is true.
"""

from __future__ import annotations

import math
from typing import Any

from chaoslib.exceptions import ActivityFailed

from chaosext.common import checks
from chaosext.target import setting

__all__ = ["check_context", "check_count", "check_namespace", "check_replica_share", "max_victims"]

Configuration = dict[str, Any] | None


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


def check_count(count: Any) -> int:
    """How many replicas a fault hits: a whole number >= 1."""
    if isinstance(count, str):  # a count is given as a number, never as text
        raise ActivityFailed(f"'count' must be a whole number >= 1, got {count!r}")
    return checks.positive_int("count", count)


def check_namespace(namespace: str, configuration: Configuration = None) -> None:
    cfg = configuration or {}
    denied = _as_list(cfg.get("denied_namespaces", ["kube-system"]))
    allowed = _as_list(cfg.get("allowed_namespaces"))
    if namespace in denied:
        raise ActivityFailed(
            f"namespace '{namespace}' is refused by the guardrails "
            f"(denied_namespaces={denied}); nothing changed"
        )
    if allowed and namespace not in allowed:
        raise ActivityFailed(
            f"namespace '{namespace}' is not in allowed_namespaces={allowed}; nothing changed"
        )


def check_context(context: str | None, configuration: Configuration = None) -> None:
    # the configuration, else CHAOSEXT_ALLOWED_CONTEXTS: `chaos run --var-file` gives a var file's
    # values only to the keys an experiment declares, and scripts/ci-run-experiments.sh exports
    # the var file's keys to the environment, so a var file's allowed_contexts holds for every
    # experiment run through the workflow
    allowed = _as_list(setting(configuration, "allowed_contexts"))
    if allowed and (context or "") not in allowed:
        raise ActivityFailed(
            f"kube context '{context}' is not in allowed_contexts={allowed}; nothing changed"
        )


def max_victims(total: int, configuration: Configuration = None) -> int:
    """How many of ``total`` replicas one fault may hit."""
    cfg = configuration or {}
    share = float(cfg.get("max_replica_share", 0.5))
    if not 0 < share <= 1:
        raise ActivityFailed(f"'max_replica_share' must be in (0, 1], got {share}")
    limit = max(1, math.floor(total * share + 1e-9))
    if not bool(cfg.get("allow_all_replicas", False)):
        limit = min(limit, total - 1)
    return max(0, limit)


def check_replica_share(count: int, total: int, what: str, configuration: Configuration = None) -> None:
    if count <= 0:
        raise ActivityFailed(f"'count' must be at least 1, got {count}")
    limit = max_victims(total, configuration)
    if count > limit:
        raise ActivityFailed(
            f"hitting {count} of {total} {what} is refused by the guardrails (at most {limit}: "
            f"max_replica_share={((configuration or {}).get('max_replica_share', 0.5))}, never all "
            "unless allow_all_replicas); nothing changed"
        )
