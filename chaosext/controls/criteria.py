"""Abort criteria: "this figure <operator> threshold, held for N seconds".

A criterion is JSON in the experiment::

    {"name": "checkout-p99", "query": "histogram_quantile(0.99, ...) * 1000",
     "operator": ">", "threshold": 2000, "for_seconds": 60}

or, instead of ``query``, a built-in probe and its arguments::

    {"name": "checkout-p99", "probe": "latency_quantile_ms",
     "arguments": {"quantile": 0.99, "window": "30s"}, "operator": ">", "threshold": 2000, "for_seconds": 60}

``probe`` is a function name of chaosext.slo.probes or chaosext.traffic.probes, or ``module:function``.
"""

from __future__ import annotations

import importlib
import operator as op
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chaoslib.exceptions import InvalidActivity

__all__ = ["OPERATORS", "BreachTracker", "Criterion", "parse_criteria"]

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">": op.gt,
    ">=": op.ge,
    "<": op.lt,
    "<=": op.le,
    "==": op.eq,
    "!=": op.ne,
}
PROBE_MODULES = ("chaosext.slo.probes", "chaosext.traffic.probes")
_KEYS = {"name", "query", "probe", "arguments", "operator", "threshold", "for_seconds", "description"}


def _is_var(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("${")


def resolve_probe(ref: str, where: str) -> Callable[..., Any]:
    if ":" in ref:
        module_name, _, func_name = ref.partition(":")
        candidates = [module_name]
    else:
        func_name, candidates = ref, list(PROBE_MODULES)
    for module_name in candidates:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        func = getattr(module, func_name, None)
        if callable(func) and (":" in ref or func_name in getattr(module, "__all__", [])):
            return func
    raise InvalidActivity(f"{where}: 'probe' {ref!r} is not a probe of {' or '.join(candidates)}")


@dataclass
class Criterion:
    name: str
    operator: str
    threshold: float
    for_seconds: float
    query: str | None = None
    probe: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def holds(self, value: float) -> bool:
        return OPERATORS[self.operator](value, self.threshold)

    def evaluate(self, configuration: dict[str, Any] | None) -> float | None:
        """The criterion's figure now; None when there is no data (the condition is then not true)."""
        if self.query is not None:
            from chaosext.slo.prom import PrometheusClient, prometheus_url, scalar

            return scalar(PrometheusClient(prometheus_url(configuration), timeout=3).query(self.query))
        assert self.probe is not None
        value = resolve_probe(self.probe, self.name)(**self.arguments, configuration=configuration)
        if isinstance(value, bool):
            return float(value)
        return None if value is None else float(value)

    def text(self) -> str:
        what = self.description or self.name
        return f"{what} {self.operator} {self.threshold:g} for {self.for_seconds:g}s"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "operator": self.operator,
            "threshold": self.threshold,
            "for_seconds": self.for_seconds,
        }
        if self.query is not None:
            out["query"] = self.query
        else:
            out["probe"], out["arguments"] = self.probe, self.arguments
        if self.description:
            out["description"] = self.description
        return out


def _number(raw: dict[str, Any], key: str, where: str, minimum: float | None = None) -> float:
    value: Any = raw.get(key)
    if isinstance(value, bool):
        value = None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidActivity(f"{where}: '{key}' must be a number, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise InvalidActivity(f"{where}: '{key}' must be at least {minimum:g}, got {value!r}")
    return number


def parse_criterion(raw: Any, index: int, lenient: bool = False) -> Criterion | None:
    """One criterion from JSON. ``lenient``: values still holding ``${var}`` are not checked (None)."""
    where = f"abort criterion #{index + 1}"
    if not isinstance(raw, dict):
        raise InvalidActivity(f"{where} must be an object, got {raw!r}")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidActivity(f"{where}: 'name' must be a non-empty string, got {name!r}")
    where = f"abort criterion {name!r}"
    unknown = set(raw) - _KEYS
    if unknown:
        raise InvalidActivity(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(_KEYS))}"
        )
    if lenient and any(_is_var(v) for v in raw.values()):
        return None
    query, probe = raw.get("query"), raw.get("probe")
    if (query is None) == (probe is None):
        raise InvalidActivity(f"{where}: give exactly one of 'query' (PromQL) or 'probe' (a built-in probe)")
    if query is not None and (not isinstance(query, str) or not query.strip()):
        raise InvalidActivity(f"{where}: 'query' must be a PromQL expression, got {query!r}")
    arguments = raw.get("arguments") or {}
    if not isinstance(arguments, dict):
        raise InvalidActivity(f"{where}: 'arguments' must be an object, got {arguments!r}")
    if probe is not None:
        if not isinstance(probe, str) or not probe:
            raise InvalidActivity(f"{where}: 'probe' must be a probe name, got {probe!r}")
        resolve_probe(probe, where)
    oper = raw.get("operator", ">")
    if oper not in OPERATORS:
        raise InvalidActivity(f"{where}: 'operator' must be one of {' '.join(OPERATORS)}, got {oper!r}")
    return Criterion(
        name=name,
        operator=oper,
        threshold=_number(raw, "threshold", where),
        for_seconds=_number(raw, "for_seconds", where, minimum=0),
        query=query,
        probe=probe,
        arguments=dict(arguments),
        description=str(raw.get("description") or ""),
    )


def parse_criteria(raw: Any, lenient: bool = False) -> list[Criterion]:
    if _is_var(raw) and lenient:
        return []
    if not isinstance(raw, list) or not raw:
        raise InvalidActivity(f"abort control: 'criteria' must be a non-empty list of criteria, got {raw!r}")
    parsed = [parse_criterion(item, i, lenient) for i, item in enumerate(raw)]
    names = [c.name for c in parsed if c is not None]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise InvalidActivity(
            f"abort control: criterion names must be unique, repeated: {', '.join(sorted(dupes))}"
        )
    return [c for c in parsed if c is not None]


class BreachTracker:
    """Tracks how long a criterion's condition has held. No data resets it; an evaluation error
    leaves it as it was (a Prometheus hiccup neither starts nor ends a breach)."""

    def __init__(self, criterion: Criterion) -> None:
        self.criterion = criterion
        self.since: float | None = None
        self.last_value: float | None = None
        self.last_error: str | None = None
        self.samples: list[list[float | None]] = []

    def update(self, value: float | None, now: float) -> bool:
        """Record one evaluation; True when the condition has now held for ``for_seconds``."""
        self.last_value, self.last_error = value, None
        self.samples.append([round(now, 3), value])
        del self.samples[:-600]
        if value is None or not self.criterion.holds(value):
            self.since = None
            return False
        if self.since is None:
            self.since = now
        return now - self.since >= self.criterion.for_seconds

    def failed(self, error: str, now: float) -> None:
        self.last_error = error
        self.samples.append([round(now, 3), None])
        del self.samples[:-600]
