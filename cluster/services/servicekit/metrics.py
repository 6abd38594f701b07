"""Prometheus metrics: the HTTP RED metrics every service exports, and the /metrics handler."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)

HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency by route template",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
HTTP_REQUESTS = Counter("http_requests", "HTTP requests by route template", ["route", "method", "status"])

UNMATCHED_ROUTE = "unmatched"


def route_template(request: web.Request) -> str:
    """The route template (e.g. /ledger/{key}), never the raw path, to keep label cardinality bounded."""
    resource = request.match_info.route.resource
    if resource is None:
        return UNMATCHED_ROUTE
    return resource.canonical


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    labels = {"route": route, "method": method, "status": str(status)}
    HTTP_DURATION.labels(**labels).observe(seconds)
    HTTP_REQUESTS.labels(**labels).inc()


async def metrics_handler(request: web.Request) -> web.Response:
    resp = web.Response(body=generate_latest(REGISTRY))
    resp.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return resp
