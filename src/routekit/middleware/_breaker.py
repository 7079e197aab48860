"""circuitBreaker: stop sending requests to a service whose answers say it is failing.

As Traefik's circuit breaker (``vulcand/oxy`` ``cbreaker``): the answers of the last ten seconds
are measured (a rolling window of one-second buckets: counts by status, 502/504 as network
errors, latencies); every ``checkPeriod`` the expression is evaluated on them.  When it holds
the circuit opens: every request gets ``responseCode`` (503) for ``fallbackDuration``; then it
recovers, letting through a share of the requests that grows from 0 to all over
``recoveryDuration`` (the expression still watched: holding again opens it again); then it is
closed.  The state machine is pure (`Breaker`, with the clock given); the layer only feeds it.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable

from ..config import BreakerExpression, CircuitBreaker, parse_breaker_expression
from ..http import Response
from ._call import Call, Layer, Next, plain

__all__ = ["Breaker", "BreakerState", "Window"]

_BUCKETS = 10  # seconds of memory, one bucket each
_SAMPLES = 512  # latencies kept per bucket (an even spread when more come)


class BreakerState(enum.Enum):
    """Where a circuit is: closed (traffic flows), open (fallback), recovering."""

    CLOSED = "closed"
    OPEN = "open"
    RECOVERING = "recovering"


class _Bucket:
    __slots__ = ("codes", "latencies", "network", "second", "seen", "total")

    def __init__(self, second: int) -> None:
        self.second = second
        self.total = 0
        self.network = 0
        self.codes: dict[int, int] = {}
        self.latencies: list[float] = []
        self.seen = 0


class Window:
    """The answers of the last ten seconds, as the expression's functions read them."""

    def __init__(self) -> None:
        self._buckets: list[_Bucket] = []
        self._now = 0

    def record(self, now: float, status: int, latency: float) -> None:
        """Count one answer with *status* that took *latency* seconds, at time *now*."""
        second = math.floor(now)
        self._now = second
        if not self._buckets or self._buckets[-1].second != second:
            self._buckets.append(_Bucket(second))
            self._trim()
        bucket = self._buckets[-1]
        bucket.total += 1
        if status in (502, 504):  # oxy counts these two as network errors
            bucket.network += 1
        bucket.codes[status] = bucket.codes.get(status, 0) + 1
        bucket.seen += 1
        if len(bucket.latencies) < _SAMPLES:
            bucket.latencies.append(latency)
        else:  # keep a fair sample of a busy second (a fixed stride, deterministic)
            bucket.latencies[bucket.seen % _SAMPLES] = latency

    def advance(self, now: float) -> None:
        """Forget what is older than the window at time *now*."""
        self._now = math.floor(now)
        self._trim()

    def _trim(self) -> None:
        oldest = self._now - _BUCKETS + 1
        while self._buckets and self._buckets[0].second < oldest:
            self._buckets.pop(0)

    def reset(self) -> None:
        """Forget everything."""
        self._buckets.clear()

    def network_error_ratio(self) -> float:
        """Network errors per request."""
        total = sum(b.total for b in self._buckets)
        return sum(b.network for b in self._buckets) / total if total else 0.0

    def response_code_ratio(self, low: int, high: int, div_low: int, div_high: int) -> float:
        """Answers with a code in [low, high) per answer with a code in [div_low, div_high)."""
        top = bottom = 0
        for bucket in self._buckets:
            for code, count in bucket.codes.items():
                if low <= code < high:
                    top += count
                if div_low <= code < div_high:
                    bottom += count
        return top / bottom if bottom else 0.0

    def latency_at_quantile_ms(self, quantile: float) -> float:
        """The latency (ms) under which *quantile* percent of the sampled answers came."""
        samples = sorted(x for b in self._buckets for x in b.latencies)
        if not samples:
            return 0.0
        rank = max(0, min(len(samples) - 1, math.ceil(quantile / 100 * len(samples)) - 1))
        return samples[rank] * 1000.0


class Breaker:
    """One circuit: `allow` before a request, `record` after its answer."""

    def __init__(
        self, model: CircuitBreaker, expression: BreakerExpression, clock: Callable[[], float]
    ) -> None:
        self._model = model
        self._expression = expression
        self._clock = clock
        self.window = Window()
        self.state = BreakerState.CLOSED
        self._until = 0.0
        self._recovery_start = 0.0
        self._checked = -math.inf
        self._let = 0
        self._asked = 0

    def allow(self) -> bool:
        """Whether the request may go to the service (``False``: answer the fallback)."""
        now = self._clock()
        if self.state is BreakerState.OPEN:
            if now < self._until:
                return False
            self.state = BreakerState.RECOVERING
            self._recovery_start = now
            self._let = self._asked = 0
        if self.state is BreakerState.RECOVERING:
            share = (now - self._recovery_start) / (self._model.recovery_duration or 1e-9)
            if share >= 1:
                self.state = BreakerState.CLOSED
                self.window.reset()
            else:
                self._asked += 1
                if self._let >= share * self._asked:
                    return False
                self._let += 1
        return True

    def record(self, status: int, latency: float) -> None:
        """Measure one answer, and check the expression when its period has passed."""
        now = self._clock()
        self.window.record(now, status, latency)
        if now - self._checked < self._model.check_period:
            return
        self._checked = now
        if self._expression.holds(self.window):
            self.state = BreakerState.OPEN
            self._until = now + self._model.fallback_duration
            self.window.reset()


def build_circuit_breaker(model: CircuitBreaker, clock: Callable[[], float]) -> Layer:
    """The circuitBreaker layer."""
    breaker = Breaker(model, parse_breaker_expression(model.expression), clock)
    fallback = plain(model.response_code, "Service Unavailable")

    def layer(next_: Next) -> Next:
        async def handle(call: Call) -> Response:
            if not breaker.allow():
                return fallback
            started = clock()
            response = await next_(call)
            breaker.record(response.status, clock() - started)
            return response

        return handle

    return layer
