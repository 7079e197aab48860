"""rateLimit and inFlightReq: how many requests a source may make, and at once.

rateLimit is a token bucket per source with Go's ``x/time/rate`` semantics, as Traefik's
in-memory limiter (``master:pkg/middlewares/ratelimiter``): ``average`` tokens per ``period``,
at most ``burst`` saved; a request takes one; when the bucket is empty the request waits for
its token if that is at most half a token's interval away (500 ms below one token a second),
else it is answered 429 with ``Retry-After`` and ``X-Retry-In`` and its token given back.  A
source's bucket is forgotten after a while without requests, and at most `MAX_SOURCES` are
kept, so that a flood of addresses cannot fill the memory.  ``average = 0`` limits nothing.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Final, final

from ..config import InFlightReq, RateLimit
from ..errors import ConfigError
from ..http import Response
from ._call import Call, Layer, Next, Step, after_body, plain
from ._ip import source_of

__all__ = ["MAX_SOURCES", "RateLimiter", "TokenBucket", "go_duration"]

#: The most sources a rate limiter keeps a bucket for at once.
MAX_SOURCES: Final = 65536
_INF: Final = math.inf

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@final
class TokenBucket:
    """Go's ``rate.Limiter``: *rate* tokens a second, *burst* at most, full at first."""

    __slots__ = ("_at", "_tokens", "burst", "expires", "rate")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._at = now
        #: When a `RateLimiter` may forget it (no request from its source since).
        self.expires = now

    def reserve(self, now: float) -> float:
        """Take a token; the seconds to wait until it is really there (0: now)."""
        rate = self.rate
        if rate == _INF:
            return 0.0
        tokens = self._tokens
        if now > self._at:
            tokens += (now - self._at) * rate
            # Capped at the burst (an expression, not min(): this runs on every request).
            tokens = tokens if tokens < self.burst else self.burst
            self._at = now
        self._tokens = tokens = tokens - 1.0
        return 0.0 if tokens >= 0 else -tokens / rate

    def cancel(self) -> None:
        """Give back the token `reserve` took (the request was refused)."""
        self._tokens = min(self.burst, self._tokens + 1.0)


def go_duration(seconds: float) -> str:
    """*seconds* as Go's ``time.Duration.String`` prints it (``1.5s``, ``250ms``, ``1m30s``)."""
    nanos = round(seconds * 1e9)
    if nanos == 0:
        return "0s"
    if nanos < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if nanos >= size:
                return f"{_trim(nanos / size)}{unit}"
    hours, rest = divmod(nanos, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    text = f"{_trim(rest / 1e9)}s"
    if hours or minutes:
        text = f"{minutes}m{text}"
    if hours:
        text = f"{hours}h{text}"
    return text


def _trim(value: float) -> str:
    return f"{value:.9f}".rstrip("0").rstrip(".")


@final
class RateLimiter:
    """The buckets of one rateLimit middleware, by source; pure, with the clock given."""

    __slots__ = ("_buckets", "_clock", "_ttl", "burst", "max_delay", "rate")

    def __init__(self, model: RateLimit, clock: Clock) -> None:
        if model.period < 0:
            raise ConfigError(f"rateLimit: period must not be negative (got {model.period})")
        period = model.period or 1.0
        self.burst = max(model.burst, 1)
        self.rate = math.inf
        self.max_delay = 0.0
        if model.average > 0:
            self.rate = model.average / period
            self.max_delay = 0.5 if self.rate < 1 else 1.0 / (int(self.rate) * 2)
        # Traefik keeps an idle source's bucket for about the time it takes to fill again.
        self._ttl = 2.0 if self.rate >= 1 else 1.0 + int(1 / self.rate)
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def allow(self, source: str) -> tuple[bool, float]:
        """Take a token for *source*: whether the request may go, and the seconds to wait
        for its token (when refused, how long it would have been: the token is given back)."""
        delay = self.take(source)
        return delay >= 0, abs(delay)

    def take(self, source: str) -> float:
        """`allow` in one number: the seconds to wait for the token, or minus how long it
        would have been when refused (always above ``max_delay``, so never ``-0``)."""
        now = self._clock()
        buckets = self._buckets
        bucket = buckets.pop(source, None)
        if bucket is None or bucket.expires < now:
            if len(buckets) >= MAX_SOURCES:
                self._forget(now)
            bucket = TokenBucket(self.rate, self.burst, now)
        bucket.expires = now + self._ttl
        buckets[source] = bucket  # the most recent go last
        delay = bucket.reserve(now)
        if delay > self.max_delay:
            bucket.cancel()
            return -delay
        return delay

    def _forget(self, now: float) -> None:
        for source in [s for s, bucket in self._buckets.items() if bucket.expires < now]:
            del self._buckets[source]
        while len(self._buckets) >= MAX_SOURCES:  # all busy: drop the least recent
            del self._buckets[next(iter(self._buckets))]

    def __len__(self) -> int:
        return len(self._buckets)


def build_rate_limit(model: RateLimit, clock: Clock, sleep: Sleep) -> Layer:
    """The rateLimit layer."""
    limiter = RateLimiter(model, clock)
    source = source_of(model.source_criterion)
    if math.isinf(limiter.rate):  # average = 0: nothing is limited, nothing counted
        return Step()

    async def wait(delay: float) -> None:
        await sleep(delay)

    def later(delay: float) -> Response | Awaitable[None]:
        if delay > 0:
            return wait(delay)
        headers = [
            (b"retry-after", str(math.ceil(-delay)).encode()),
            (b"x-retry-in", go_duration(-delay).encode()),
        ]
        return plain(429, "Too Many Requests", headers)

    take = limiter.take

    def before(call: Call) -> Response | Awaitable[None] | None:
        delay = take(source(call))
        return None if delay == 0.0 else later(delay)

    if model.source_criterion is not None:
        return Step(before)

    def by_peer(call: Call) -> Response | Awaitable[None] | None:
        # `before` with the source read here: the peer's address (Traefik's default).
        delay = take(call.client_ip or "")
        return None if delay == 0.0 else later(delay)

    return Step(by_peer)


def build_in_flight_req(model: InFlightReq) -> Layer:
    """The inFlightReq layer: past ``amount`` requests at once from a source, 429."""
    if model.amount < 1:
        raise ConfigError(f"inFlightReq: amount must be at least 1 (got {model.amount})")
    source = source_of(model.source_criterion, default="host")
    counts: dict[str, int] = {}
    amount = model.amount

    def layer(next_: Next) -> Next:
        async def handle(call: Call) -> Response:
            key = source(call)
            held = counts.get(key, 0)
            if held >= amount:
                return plain(429, f"max connections reached: {key}")
            counts[key] = held + 1

            def release(_complete: bool, _size: int = 0) -> None:
                left = counts[key] - 1
                if left:
                    counts[key] = left
                else:
                    del counts[key]

            try:
                response = await next_(call)
            except BaseException:
                release(False)
                raise
            # Held until the answer's last byte, as Traefik's handler returns only then.
            return after_body(response, release)

        return handle

    return layer
