"""Parsing and validation of order events from the `orders` topic."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any


class MalformedEvent(Exception):
    """The event cannot be processed, ever: it goes to the dead-letter topic."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class OrderEvent:
    order_id: str
    amount: float
    currency: str
    payment_id: str

    def capture_body(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "amount": self.amount,
            "currency": self.currency,
            "payment_id": self.payment_id,
        }


def _str_field(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > 128:
        raise MalformedEvent("invalid_field", f"field '{name}' must be a non-empty string, got {value!r}")
    return value


def parse_event(raw: bytes | None) -> OrderEvent:
    if raw is None:
        raise MalformedEvent("empty_value", "the message has no value")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedEvent("not_json", f"value is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise MalformedEvent("not_an_object", f"value must be a JSON object, got {type(data).__name__}")
    amount = data.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int | float) or not math.isfinite(amount) or amount <= 0:
        raise MalformedEvent("invalid_field", f"field 'amount' must be a number > 0, got {amount!r}")
    currency = data.get("currency")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isascii() or not currency.isalpha():
        raise MalformedEvent("invalid_field", f"field 'currency' must be a 3-letter code, got {currency!r}")
    return OrderEvent(
        order_id=_str_field(data, "order_id"),
        amount=float(amount),
        currency=currency.upper(),
        payment_id=_str_field(data, "payment_id"),
    )
