"""The one aiohttp middleware: correlation id, JSON errors, access log line and HTTP metrics."""

from __future__ import annotations

import logging
import time

from aiohttp import web
from aiohttp.typedefs import Handler

from .errors import ApiError, json_error
from .logs import CORRELATION_HEADER, set_correlation_id
from .metrics import observe_request, route_template

log = logging.getLogger("http")

_QUIET_ROUTES = {"/metrics", "/healthz", "/readyz"}


def _from_http_exception(request: web.Request, exc: web.HTTPException) -> web.StreamResponse:
    if exc.status == 404:
        return json_error(404, "not_found", f"no route for {request.method} {request.path}")
    if exc.status == 405:
        return json_error(405, "method_not_allowed", f"{request.method} is not allowed on {request.path}")
    if exc.status == 413:
        return json_error(413, "body_too_large", exc.reason)
    if exc.status < 400:
        return exc  # redirects and the like pass through
    return json_error(exc.status, exc.reason.lower().replace(" ", "_"), exc.text or exc.reason)


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    cid = set_correlation_id(request.headers.get(CORRELATION_HEADER))
    route = route_template(request)
    started = time.perf_counter()
    response: web.StreamResponse
    try:
        response = await handler(request)
    except ApiError as exc:
        response = json_error(exc.status, exc.error, exc.detail, exc.headers)
    except web.HTTPException as exc:
        response = _from_http_exception(request, exc)
    except Exception:
        log.exception("unhandled error in %s %s", request.method, route)
        response = json_error(500, "internal_error", "unexpected error; see the service log")
    elapsed = time.perf_counter() - started
    response.headers[CORRELATION_HEADER] = cid
    observe_request(route, request.method, response.status, elapsed)
    if route not in _QUIET_ROUTES:
        log.info(
            "%s %s -> %d",
            request.method,
            request.path,
            response.status,
            extra={"route": route, "status": response.status, "duration_s": round(elapsed, 4)},
        )
    return response
