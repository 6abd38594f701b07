"""JSON error responses ({"error": ..., "detail": ...}) and request-body helpers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web


class ApiError(Exception):
    """Raised by handlers; the middleware turns it into a JSON error response."""

    def __init__(
        self, status: int, error: str, detail: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {error}: {detail}")
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = dict(headers or {})


def json_error(
    status: int, error: str, detail: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> web.Response:
    body: dict[str, Any] = {"error": error, "detail": detail, **extra}
    return web.json_response(body, status=status, headers=headers)


def bad_request(detail: str, error: str = "invalid_request") -> ApiError:
    return ApiError(400, error, detail)


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or ApiError(400)."""
    raw = await request.read()
    if not raw:
        raise bad_request("request body is empty; expected a JSON object", "invalid_json")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad_request(f"request body is not valid JSON: {exc}", "invalid_json") from None
    if not isinstance(body, dict):
        raise bad_request(f"request body must be a JSON object, got {type(body).__name__}", "invalid_json")
    return body


def require_str(body: Mapping[str, Any], field: str, max_len: int = 128) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"field '{field}' must be a non-empty string")
    if len(value) > max_len or not value.isprintable():
        raise bad_request(f"field '{field}' must be at most {max_len} printable characters")
    return value


def require_amount(body: Mapping[str, Any], field: str = "amount") -> float:
    value = body.get(field)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad_request(f"field '{field}' must be a number")
    if not value > 0 or value != value or value == float("inf"):
        raise bad_request(f"field '{field}' must be a finite number greater than 0, got {value}")
    return float(value)


def require_currency(body: Mapping[str, Any], field: str = "currency") -> str:
    value = body.get(field)
    if not isinstance(value, str) or len(value) != 3 or not value.isascii() or not value.isalpha():
        raise bad_request(f"field '{field}' must be a 3-letter currency code, got {value!r}")
    return value.upper()
