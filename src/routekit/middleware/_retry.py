"""retry: send a request again when its server could not be reached, or answered a status.

As Traefik's ``master:pkg/middlewares/retry/retry.go``: up to ``attempts`` sends in all; a
network failure is retried only when the request never reached a server (the connection could
not be made: nothing was written, so any method is safe), unless
``disableRetryOnNetworkError``; a ``status`` in the configured ranges is retried for idempotent
methods (all of them with ``retryNonIdempotentMethod``), the body kept in memory up to
``maxRequestBodyBytes`` for the replay (past it, no status retries).  As soon as a server's
answer is kept, retrying stops.  The waits grow exponentially from ``initialInterval`` to twice
it over the attempts, with ±50 % jitter (``cenkalti/backoff``'s defaults); none when it is 0.
``timeout`` bounds the whole: past it, the answer in hand is the answer.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Final

from ..config import Retry, status_ranges
from ..errors import ConfigError
from ..http import NO_BODY, Response
from ._call import Call, Layer, Next
from ._limits import Clock, Sleep

__all__ = ["backoff_delays"]

_NOT_IDEMPOTENT: Final = frozenset({b"POST", b"PATCH", b"LOCK"})


def backoff_delays(initial: float, attempts: int, rng: random.Random | None = None) -> list[float]:
    """The waits before the 2nd … last attempt: exponential from *initial*, doubling over the
    attempts, each jittered by ±50 %."""
    if attempts < 2 or initial <= 0:
        return [0.0] * max(attempts - 1, 0)
    multiplier = 2 ** (1 / (attempts - 1))
    pick = (rng or random).uniform
    out = []
    interval = initial
    for _ in range(attempts - 1):
        out.append(pick(interval * 0.5, interval * 1.5))
        interval *= multiplier
    return out


async def _replay(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def _then(first: list[bytes], rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in first:
        yield chunk
    async for chunk in rest:
        yield chunk


async def _buffer(body: AsyncIterator[bytes], limit: int) -> tuple[list[bytes], bool]:
    """Read *body* up to *limit* bytes: the chunks read, and whether that was all of it."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in body:
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return chunks, False
    return chunks, True


async def _discard(response: Response) -> None:
    closing = getattr(response.body, "aclose", None)
    if closing is not None:
        await closing()  # a proxied body: its upstream connection closes now


def build_retry(model: Retry, clock: Clock, sleep: Sleep) -> Layer:
    """The retry layer."""
    if model.attempts < 1:
        raise ConfigError(f"retry: attempts must be at least 1 (got {model.attempts})")
    if not model.status and model.disable_retry_on_network_error:
        raise ConfigError("retry: needs status codes, or retries on network errors")
    ranges = status_ranges(model.status)
    attempts = model.attempts
    network = not model.disable_retry_on_network_error

    def layer(next_: Next) -> Next:
        if attempts == 1:
            return next_

        async def handle(call: Call) -> Response:
            codes = ranges
            if call.method in _NOT_IDEMPOTENT and not model.retry_non_idempotent_method:
                codes = ()
            kept: list[bytes] | None = None
            if codes and call.body is not NO_BODY:
                chunks, whole = await _buffer(call.body, model.max_request_body_bytes)
                if whole:
                    kept = chunks
                else:  # too large to keep: sent once, as it comes, without status retries
                    call.body = _then(chunks, call.body)
                    codes = ()
            started = clock()
            delays = backoff_delays(model.initial_interval, attempts)
            for attempt in range(1, attempts + 1):
                call.upstream_error = None
                if kept is not None:
                    call.body = _replay(kept)
                response = await next_(call)
                if attempt == attempts or (model.timeout and clock() - started >= model.timeout):
                    return response
                error = call.upstream_error
                if error is not None:
                    again = network and not error.sent
                else:
                    again = any(low <= response.status <= high for low, high in codes)
                if not again:
                    return response
                await _discard(response)
                if delays[attempt - 1]:
                    await sleep(delays[attempt - 1])
            raise AssertionError("unreachable: the last attempt returns")  # pragma: no cover

        return handle

    return layer
