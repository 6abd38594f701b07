"""Calls payment-service: bulkhead, per-attempt timeout, hedging, total budget, retries with jitter, circuit breaker."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from prometheus_client import Counter
from servicekit.breaker import BreakerOpen, BreakerSettings, RateBreaker
from servicekit.bulkhead import Bulkhead
from servicekit.config import Tunables
from servicekit.dependency import DEP_DURATION, DEP_REQUESTS, classify_error, export_breaker
from servicekit.dns import fresh_connector
from servicekit.logs import CORRELATION_HEADER, correlation_id
from servicekit.tls import ClientTrust
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_any,
    wait_random_exponential,
)
from tenacity.stop import stop_base

log = logging.getLogger("payment-client")
HEDGE_LOST = "hedge_lost"  # the outcome (and cancel message) of a request whose hedge answered first
HEDGES = Counter("dependency_hedges", "Hedged requests started (the first had not answered in time)", ["dependency"])

DEPENDENCY = "payment"
MIN_ATTEMPT_S = 0.05  # do not start an attempt with less budget than this


@dataclass(frozen=True)
class Order:
    order_id: str
    amount: float
    currency: str

    def as_json(self) -> dict[str, Any]:
        return {"order_id": self.order_id, "amount": self.amount, "currency": self.currency}


class PaymentServerError(Exception):
    """payment answered 5xx or an unusable body: retryable."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"payment answered {status}: {detail}")
        self.status = status


class PaymentRejected(Exception):
    """payment answered 4xx: not retryable and not a breaker failure."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"payment rejected the charge with {status}: {body}")
        self.status = status
        self.body = body


class PaymentFailure(Exception):
    """The charge did not happen within the budget; `reason` is the API error code."""

    def __init__(self, reason: str, detail: str, status: int = 503, retry_after: int = 1) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.status = status
        self.retry_after = retry_after


class _BudgetSpent(stop_base):
    """Stop retrying when less than MIN_ATTEMPT_S of the budget is left."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.deadline - asyncio.get_running_loop().time() < MIN_ATTEMPT_S


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, BreakerOpen | PaymentRejected):
        return False
    return isinstance(exc, aiohttp.ClientConnectionError | asyncio.TimeoutError | PaymentServerError)


def _breaker_settings(tunables: Tunables) -> BreakerSettings:
    return BreakerSettings(
        failure_ratio=min(1.0, float(tunables["breaker_failure_ratio"])),
        min_calls=int(tunables["breaker_min_calls"]),
        window_s=float(tunables["breaker_window_s"]),
        reset_s=float(tunables["breaker_reset_s"]),
    )


class PaymentClient:
    def __init__(self, base_url: str, trust: ClientTrust, dns_server: tuple[str, int] | None,
                 tunables: Tunables) -> None:
        self.url = f"{base_url}/charge"
        self.trust = trust
        self.dns_server = dns_server
        self.tunables = tunables
        self.bulkhead = Bulkhead("payment", lambda: int(tunables["bulkhead_size"]))
        self.breaker = RateBreaker(DEPENDENCY, _breaker_settings(tunables), exclude=(PaymentRejected,))
        export_breaker(DEPENDENCY, self.breaker)
        tunables.on_reload(self._apply_tunables)
        self._session: aiohttp.ClientSession | None = None

    def _apply_tunables(self, tunables: Tunables) -> None:
        # change the breaker in place: its state and window survive the reload
        self.breaker.configure(_breaker_settings(tunables))

    async def start(self) -> None:
        # its own connector: nothing else shares (or can exhaust) the payment connections
        self._session = aiohttp.ClientSession(connector=fresh_connector(self.dns_server))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def charge(self, order: Order, deadline: float) -> tuple[dict[str, Any], bool]:
        """Charge within the budget ending at loop time `deadline`.

        Returns (payment response body, replayed). Raises BulkheadFull or PaymentFailure.
        """
        loop = asyncio.get_running_loop()
        async with self.bulkhead.slot():
            try:
                async with asyncio.timeout_at(deadline):
                    return await self._charge_with_retries(order, deadline)
            except BreakerOpen as exc:
                DEP_REQUESTS.labels(dependency=DEPENDENCY, outcome="circuit_open").inc()
                raise PaymentFailure("circuit_open", str(exc), retry_after=max(1, math.ceil(exc.retry_after_s))) from None
            except PaymentRejected as exc:
                if exc.status == 409:
                    raise PaymentFailure(
                        "idempotency_conflict", "this order_id was already charged with a different body",
                        status=409, retry_after=0,
                    ) from None
                raise PaymentFailure(
                    "payment_rejected", f"payment answered {exc.status}: {exc.body}", status=502, retry_after=0
                ) from None
            except TimeoutError as exc:
                spent = loop.time() - (deadline - float(self.tunables["total_budget_s"]))
                raise PaymentFailure(
                    "payment_timeout", f"no payment answer within the budget ({spent:.2f}s spent): {exc!r}"
                ) from None
            except (aiohttp.ClientError, PaymentServerError) as exc:
                raise PaymentFailure("payment_unavailable", f"{classify_error(exc)}: {exc}") from None

    async def _charge_with_retries(self, order: Order, deadline: float) -> tuple[dict[str, Any], bool]:
        loop = asyncio.get_running_loop()
        base = float(self.tunables["backoff_base_s"])
        cap = float(self.tunables["backoff_cap_s"])
        jitter = wait_random_exponential(multiplier=base, max=cap)

        def wait_within_budget(state: RetryCallState) -> float:
            return max(0.0, min(jitter(state), deadline - loop.time() - MIN_ATTEMPT_S))


        def log_retry(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning(
                "payment attempt %d failed (%r), retrying in %.3fs",
                state.attempt_number, exc, state.upcoming_sleep,
                extra={"order_id": order.order_id, "attempt": state.attempt_number},
            )

        retrying = AsyncRetrying(
            stop=stop_any(stop_after_attempt(int(self.tunables["max_attempts"])), _BudgetSpent(deadline)),
            wait=wait_within_budget,
            retry=retry_if_exception(_retryable),
            before_sleep=log_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self.breaker.call(self._hedged_attempt, order, deadline)
        raise AssertionError("unreachable: tenacity reraises the last error")

    async def _hedged_attempt(self, order: Order, deadline: float) -> tuple[dict[str, Any], bool]:
        """One attempt, hedged: when the first request has not answered after ``hedge_after_s``, a
        second one starts on a new connection and the first answer wins (the other is cancelled).
        A connection routed to a replica that just died hangs without a reset until the attempt
        times out; the hedge usually reaches a live replica instead. Safe because the charge is
        idempotent (the same Idempotency-Key: payment takes the money once and replays the
        answer). The breaker sees one outcome per hedged attempt; a lost race is not a failure."""
        loop = asyncio.get_running_loop()
        hedge_after = float(self.tunables["hedge_after_s"])
        if hedge_after <= 0 or deadline - loop.time() < hedge_after + MIN_ATTEMPT_S:
            return await self._attempt(order, deadline)
        tasks = {asyncio.ensure_future(self._attempt(order, deadline))}
        try:
            done, _ = await asyncio.wait(tasks, timeout=hedge_after)
            if not done:
                HEDGES.labels(dependency=DEPENDENCY).inc()
                tasks.add(asyncio.ensure_future(self._attempt(order, deadline)))
            error: BaseException | None = None
            while tasks:
                done, tasks = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    exc = task.exception()
                    if exc is None:
                        return task.result()
                    if not _retryable(exc):
                        raise exc  # a rejection is the answer, whoever gives it
                    error = exc
            assert error is not None
            raise error
        finally:
            for task in tasks:
                task.cancel(HEDGE_LOST)
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)

    async def _attempt(self, order: Order, deadline: float) -> tuple[dict[str, Any], bool]:
        assert self._session is not None, "PaymentClient.start() was not awaited"
        loop = asyncio.get_running_loop()
        per_attempt = min(float(self.tunables["attempt_timeout_s"]), deadline - loop.time())
        if per_attempt <= 0:
            raise TimeoutError("budget spent before the attempt")
        # aiohttp's connect phase is the TCP connect plus the TLS handshake. When connect_timeout_s
        # is set, a connect not done by then (most likely routed to an address whose replica is
        # gone) fails early and is retried, picking a replica again, instead of holding the
        # attempt for its whole timeout; 0 leaves it to the attempt timeout (see settings.py).
        connect = float(self.tunables["connect_timeout_s"])
        timeout = aiohttp.ClientTimeout(total=per_attempt, sock_connect=min(connect, per_attempt) if connect > 0 else None)
        headers = {"Idempotency-Key": order.order_id, CORRELATION_HEADER: correlation_id()}
        started = time.perf_counter()
        outcome = "ok"
        try:
            async with self._session.post(
                self.url, json=order.as_json(), headers=headers, ssl=self.trust.context,
                timeout=timeout,
            ) as resp:
                try:
                    body = await resp.json(content_type=None)
                except ValueError:
                    body = None
                if resp.status >= 500 or not isinstance(body, dict):
                    outcome = "server_error"
                    raise PaymentServerError(resp.status, str(body)[:200])
                if resp.status >= 400:
                    outcome = "client_error"
                    raise PaymentRejected(resp.status, body)
                if not isinstance(body.get("payment_id"), str):
                    outcome = "server_error"
                    raise PaymentServerError(resp.status, "answer has no payment_id")
                return body, resp.headers.get("Idempotent-Replayed", "").lower() == "true"
        except (TimeoutError, aiohttp.ClientError) as exc:
            outcome = classify_error(exc)
            raise
        except asyncio.CancelledError as exc:
            # a request that lost the race to its hedge is not a failure of payment
            outcome = HEDGE_LOST if exc.args and exc.args[0] == HEDGE_LOST else "cancelled"
            raise
        finally:
            DEP_REQUESTS.labels(dependency=DEPENDENCY, outcome=outcome).inc()
            DEP_DURATION.labels(dependency=DEPENDENCY).observe(time.perf_counter() - started)
