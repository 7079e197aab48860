"""circuitBreaker: the expression language, the window, and the states on a fake clock."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from _echo import site, with_middlewares
from routekit.config import (
    BreakerSyntaxError,
    CircuitBreaker,
    parse_breaker_expression,
    reads_config,
)
from routekit.middleware import Breaker, BreakerState, Window
from routekit.testing import FakeClock

pytestmark = pytest.mark.anyio

BREAKER = """
[http.middlewares.cb.circuitBreaker]
expression = "NetworkErrorRatio() > 0.5"
fallbackDuration = "10s"
recoveryDuration = "10s"
"""


async def test_the_circuit_opens_falls_back_and_recovers() -> None:
    clock = FakeClock(1000.0)
    async with site(with_middlewares(BREAKER, '["cb"]'), clock=clock) as s:
        assert (await s.get("/"))[0].status == 200
        clock.advance(0.2)
        assert (await s.get("/status/502"))[0].status == 502
        clock.advance(0.2)
        assert (await s.get("/status/502"))[0].status == 502  # 2 of 3: the circuit opens
        response, body = await s.get("/")
        assert response.status == 503 and body == b"Service Unavailable\n"
        assert (b"x-backend", b"echo") not in response.headers  # the server was not asked
        clock.advance(10)  # recovering: at first almost nothing passes
        assert (await s.get("/"))[0].status == 503
        clock.advance(9.99)
        assert (await s.get("/"))[0].status == 200
        clock.advance(0.02)  # recovered: closed again
        assert [(await s.get("/"))[0].status for _ in range(5)] == [200] * 5


def test_expression_errors_are_located_problems() -> None:
    with pytest.raises(BreakerSyntaxError) as caught:
        parse_breaker_expression("NetworkErrorRatio() > 0.5 && Latency(50) > 3")
    assert caught.value.position == 29
    assert "unknown function 'Latency'" in str(caught.value)
    text = """
[http.routers.r]
rule = "Host(`a`)"
service = "s"
middlewares = ["cb"]
[http.middlewares.cb.circuitBreaker]
expression = "ResponseCodeRatio(500, 600) > 0.5"
[[http.services.s.loadBalancer.servers]]
url = "http://127.0.0.1:1"
"""
    (problem, _) = reads_config(text).problems
    assert problem.path == "http.middlewares.cb.circuitBreaker.expression"
    assert "ResponseCodeRatio takes 4 argument(s), not 2" in problem.message


def test_the_window_and_its_functions() -> None:
    window = Window()
    for second, status, latency in [(0, 200, 0.01), (1, 502, 0.2), (2, 500, 0.03), (3, 200, 0.04)]:
        window.record(100.0 + second, status, latency)
    assert window.network_error_ratio() == 0.25
    assert window.response_code_ratio(500, 600, 0, 600) == 0.5
    assert window.latency_at_quantile_ms(50) == pytest.approx(30.0)
    assert window.latency_at_quantile_ms(100) == pytest.approx(200.0)
    window.advance(111.0)  # ten seconds on: all forgotten
    assert window.network_error_ratio() == 0.0
    expression = parse_breaker_expression(
        "(NetworkErrorRatio() > 0.5 || ResponseCodeRatio(500, 600, 0, 600) >= 0.5) "
        "&& LatencyAtQuantileMS(50.0) != 0"
    )
    window.record(112.0, 500, 0.001)
    assert expression.holds(window)


@given(st.lists(st.tuples(st.sampled_from([200, 404, 500, 502, 504]), st.floats(0, 0.5))))
def test_the_breaker_only_opens_when_the_expression_holds(
    answers: list[tuple[int, float]],
) -> None:
    clock = FakeClock()
    model = CircuitBreaker(expression="NetworkErrorRatio() > 0.3", check_period=0)
    breaker = Breaker(model, parse_breaker_expression(model.expression), clock)
    seen: list[tuple[float, int]] = []
    for status, gap in answers:
        clock.advance(gap)
        assert breaker.allow()  # closed until it opens
        breaker.record(status, 0.01)
        seen.append((clock(), status))
        # The reference: the answers of the ten one-second buckets up to now.
        recent = [s for t, s in seen if math.floor(t) >= math.floor(clock()) - 9]
        ratio = sum(s in (502, 504) for s in recent) / len(recent)
        assert (breaker.state is BreakerState.OPEN) == (ratio > 0.3)
        if breaker.state is BreakerState.OPEN:
            break
