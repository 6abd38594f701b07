"""Guardrails: namespaces, contexts, how many replicas one fault may hit."""

from __future__ import annotations

from typing import Any

import pytest
from chaoslib.exceptions import ActivityFailed

from chaosext.faults import guardrails


@pytest.mark.parametrize("count", [1, 3, 100])
def test_check_count_accepts_whole_numbers_from_one(count: int) -> None:
    assert guardrails.check_count(count) == count


@pytest.mark.parametrize("count", [0, -2, 1.5, "2", True, None])
def test_check_count_refuses_anything_else_naming_count(count: Any) -> None:
    with pytest.raises(ActivityFailed, match="'count' must be a whole number >= 1"):
        guardrails.check_count(count)


def test_kube_system_is_denied_by_default() -> None:
    with pytest.raises(ActivityFailed, match="namespace 'kube-system' is refused.*nothing changed"):
        guardrails.check_namespace("kube-system")
    guardrails.check_namespace("default")


@pytest.mark.parametrize("allowed", ["chaos, staging", ["chaos", "staging"]])
def test_allowed_namespaces_is_a_list_or_a_comma_string(allowed: Any) -> None:
    cfg = {"allowed_namespaces": allowed}
    guardrails.check_namespace("staging", cfg)
    with pytest.raises(ActivityFailed, match=r"namespace 'default' is not in allowed_namespaces=\['chaos', 'staging'\]"):
        guardrails.check_namespace("default", cfg)


def test_denied_namespaces_can_be_replaced_and_deny_wins_over_allow() -> None:
    guardrails.check_namespace("kube-system", {"denied_namespaces": []})
    cfg = {"denied_namespaces": "prod", "allowed_namespaces": "prod,chaos"}
    with pytest.raises(ActivityFailed, match="'prod' is refused"):
        guardrails.check_namespace("prod", cfg)


def test_allowed_contexts() -> None:
    guardrails.check_context("anything")
    guardrails.check_context(None)
    cfg = {"allowed_contexts": "kind-chaos"}
    guardrails.check_context("kind-chaos", cfg)
    for context in ("prod", None):
        with pytest.raises(ActivityFailed, match="not in allowed_contexts=\\['kind-chaos'\\]"):
            guardrails.check_context(context, cfg)


@pytest.mark.parametrize(
    "total, cfg, expected",
    [
        (1, {}, 0),  # never all replicas: a single replica cannot be hit
        (2, {}, 1),
        (3, {}, 1),
        (4, {}, 2),
        (10, {"max_replica_share": 0.3}, 3),
        (3, {"max_replica_share": 1}, 2),
        (3, {"max_replica_share": 1, "allow_all_replicas": True}, 3),
        (1, {"allow_all_replicas": True}, 1),
        (5, {"max_replica_share": 0.01}, 1),  # a share below one replica still allows one
    ],
)
def test_max_victims(total: int, cfg: dict[str, Any], expected: int) -> None:
    assert guardrails.max_victims(total, cfg) == expected


@pytest.mark.parametrize("share", [0, -0.5, 1.5])
def test_max_replica_share_must_be_a_share(share: float) -> None:
    with pytest.raises(ActivityFailed, match="'max_replica_share' must be in \\(0, 1\\]"):
        guardrails.max_victims(4, {"max_replica_share": share})


def test_check_replica_share() -> None:
    guardrails.check_replica_share(1, 3, "payment pods")
    with pytest.raises(ActivityFailed, match="hitting 2 of 3 payment pods is refused.*at most 1"):
        guardrails.check_replica_share(2, 3, "payment pods")
    with pytest.raises(ActivityFailed, match="hitting 1 of 1 brokers"):
        guardrails.check_replica_share(1, 1, "brokers")
    with pytest.raises(ActivityFailed, match="'count' must be at least 1"):
        guardrails.check_replica_share(0, 3, "pods")
    guardrails.check_replica_share(3, 3, "pods", {"max_replica_share": 1, "allow_all_replicas": True})
