"""The downstream capture call (payment-service POST /capture) with timeouts and unbounded retries."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import aiohttp
from servicekit.config import Tunables
from servicekit.dependency import DEP_DURATION, DEP_REQUESTS, classify_error
from servicekit.dns import fresh_connector
from servicekit.logs import CORRELATION_HEADER, correlation_id
from servicekit.tls import ClientTrust
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_never, wait_random_exponential

from .events import OrderEvent

log = logging.getLogger("capture")

DEPENDENCY = "capture"


class CaptureServerError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"capture answered {status}: {detail}")
        self.status = status


class CaptureRejected(Exception):
    """4xx from /capture: retrying the same request cannot help."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"capture rejected with {status}: {body}")
        self.status = status
        self.body = body


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | CaptureServerError)


class CaptureClient:
    def __init__(self, url: str, trust: ClientTrust, dns_server: tuple[str, int] | None,
                 tunables: Tunables) -> None:
        self.url = url
        self.trust = trust
        self.dns_server = dns_server
        self.tunables = tunables
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(connector=fresh_connector(self.dns_server))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def capture(self, event: OrderEvent) -> dict[str, Any]:
        """Capture until it succeeds (transient failures are retried with backoff, never skipped).

        Raises CaptureRejected for a 4xx answer."""

        def log_retry(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning(
                "capture attempt %d for %s failed (%r); retrying in %.2fs",
                state.attempt_number, event.order_id, exc, state.upcoming_sleep,
                extra={"order_id": event.order_id, "attempt": state.attempt_number},
            )

        retrying = AsyncRetrying(
            stop=stop_never,
            wait=wait_random_exponential(
                multiplier=float(self.tunables["capture_backoff_base_s"]),
                max=float(self.tunables["capture_backoff_cap_s"]),
            ),
            retry=retry_if_exception(_retryable),
            before_sleep=log_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._attempt(event)
        raise AssertionError("unreachable: stop_never")

    async def _attempt(self, event: OrderEvent) -> dict[str, Any]:
        assert self._session is not None, "CaptureClient.start() was not awaited"
        headers = {"Idempotency-Key": event.order_id, CORRELATION_HEADER: correlation_id()}
        timeout = aiohttp.ClientTimeout(total=float(self.tunables["capture_timeout_s"]))
        started = time.perf_counter()
        outcome = "ok"
        try:
            async with self._session.post(
                self.url, json=event.capture_body(), headers=headers, ssl=self.trust.context, timeout=timeout
            ) as resp:
                try:
                    body = await resp.json(content_type=None)
                except ValueError:
                    body = None
                if resp.status >= 500 or not isinstance(body, dict):
                    outcome = "server_error"
                    raise CaptureServerError(resp.status, str(body)[:200])
                if resp.status >= 400:
                    outcome = "client_error"
                    raise CaptureRejected(resp.status, body)
                return body
        except (TimeoutError, aiohttp.ClientError) as exc:
            outcome = classify_error(exc)
            raise
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        finally:
            DEP_REQUESTS.labels(dependency=DEPENDENCY, outcome=outcome).inc()
            DEP_DURATION.labels(dependency=DEPENDENCY).observe(time.perf_counter() - started)
