"""A router's chain of steps run in the proxy's own frame, and the parts decided at build.

When every middleware of a router is a `Step`, the proxy runs their *before* parts, forwards,
and puts the *after* parts' fields (known at build: `Step.fields`) into the answer as it makes
it.  What a client and the server see must be what the composed layers give: the order of the
steps, a step that waits (a first bcrypt check, a rateLimit token) and the ones after it, an
answer a step gives instead (the steps before it still act on it), the proxy's own 502, and
the fast stripPrefix cut against the general decision.
"""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from _echo import headers_of, site, with_middlewares
from _sockets import free_port
from routekit import Request
from routekit.config import Headers, loads_config
from routekit.http import Response
from routekit.middleware import (
    Call,
    Chains,
    Fused,
    PathRefused,
    Step,
    build_layer,
    strip_prefix,
    with_fields,
)
from routekit.runtime import RoutingDecision, build
from routekit.testing import FakeClock

pytestmark = pytest.mark.anyio

BCRYPT = "$2y$04$fyGpzFyw9mGxY9rKuTKeKeleaJaotI0GKv6weOsxKIVpr.ZDCIcfO"  # secret
SECRET = [(b"authorization", b"Basic YW5uOnNlY3JldA==")]  # ann:secret

CHAIN = f"""
[http.middlewares.secure.headers]
frameDeny = true
contentTypeNosniff = true
[http.middlewares.secure.headers.customRequestHeaders]
X-Gateway = "routekit"
[http.middlewares.secure.headers.customResponseHeaders]
X-Backend = "gateway"
[http.middlewares.guard.headers]
frameDeny = true
[http.middlewares.auth.basicAuth]
users = ["ann:{BCRYPT}"]
[http.middlewares.limit.rateLimit]
average = 1
burst = 1
[http.middlewares.strip.stripPrefix]
prefixes = ["/api"]
[http.middlewares.squeeze.compress]
encodings = ["gzip"]
"""


@functools.cache
def decision(names: str) -> RoutingDecision:
    """The routing decision of ``GET /api/x`` on a router with the middlewares *names*."""
    runtime = build(loads_config(with_middlewares(CHAIN, names)(free_port())))
    found = runtime.route(Request(method="GET", host="site.test", path="/api/x"), "web")
    assert found is not None, runtime.problems
    return found


async def _no_body() -> AsyncIterator[bytes]:
    return
    yield b""  # an async generator that yields nothing


async def terminal(call: Call) -> Response:
    """The rest of the path: answers at once."""
    return Response(200, [(b"x-backend", b"echo")], b"ok", checked=True)


def test_the_proxy_runs_only_a_chain_of_steps_itself() -> None:
    chains = Chains(terminal)
    steps = decision('["secure", "strip", "auth"]')
    assert type(chains.path(steps)) is Fused
    assert chains.path(steps) is chains.path(steps)  # composed once
    # compress wraps the rest of the path: the chain keeps its coroutines.
    mixed = chains.path(decision('["secure", "squeeze", "strip"]'))
    assert type(mixed) is not Fused and callable(mixed)


@given(
    inner=st.dictionaries(st.sampled_from(["X-A", "X-B", "Vary"]), st.sampled_from(["1", ""])),
    outer=st.dictionaries(st.sampled_from(["X-A", "X-C", "Vary"]), st.sampled_from(["2", ""])),
    sent=st.lists(st.sampled_from([(b"x-a", b"0"), (b"vary", b"x"), (b"x-d", b"4")])),
)
def test_fields_composed_at_build_are_what_the_afters_do(
    inner: dict[str, str], outer: dict[str, str], sent: list[tuple[bytes, bytes]]
) -> None:
    # Two headers middlewares (the outer one first in the chain) on the same answer: the
    # fields worked out at build give the headers their after parts give.
    layers = [
        build_layer(Headers(frame_deny=True, custom_response_headers=custom))
        for custom in (outer, inner)
    ]
    steps = [layer for layer in layers if isinstance(layer, Step)]
    fused = Fused(steps)
    assert fused.fields is not None
    request = Request(method="GET", host="site.test", path="/")
    call = Call(
        method=b"GET",
        path="/",
        query=None,
        headers=[],
        body=_no_body(),
        request=request,
        decision=decision('["secure"]'),
    )
    answered = fused.leave(call, Response(200, list(sent), b""))
    assert with_fields(sent, fused.fields) == list(answered.headers)


async def test_a_step_that_waits_and_the_steps_after_it() -> None:
    # basicAuth's first check waits for bcrypt in a thread; stripPrefix comes after it.
    async with site(with_middlewares(CHAIN, '["secure", "auth", "strip"]')) as s:
        for _ in range(2):  # checked, then remembered
            response, body = await s.get("/api/echo", headers=SECRET)
            assert response.status == 200, body
            head = dict(response.headers)
            assert head[b"x-frame-options"] == b"DENY"
            assert head[b"x-content-type-options"] == b"nosniff"
            # The server's field replaced by the middleware's, once.
            assert [v for k, v in response.headers if k == b"x-backend"] == [b"gateway"]
            seen = json.loads(body)
            assert seen["target"] == "/echo"
            sent = headers_of(seen)
            assert sent["x-gateway"] == ["routekit"] and sent["x-forwarded-prefix"] == ["/api"]
        refused, _ = await s.get("/api/echo", headers=[(b"authorization", b"Basic eDp5")])
        assert refused.status == 401  # the wrong password, after a wait for bcrypt
        assert (b"x-frame-options", b"DENY") in refused.headers


async def test_a_rate_limit_wait_then_a_refusal_with_the_fields_of_the_steps_before() -> None:
    clock = FakeClock(100.0)
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)
        clock.advance(seconds)

    dynamic = with_middlewares(CHAIN, '["guard", "limit", "strip"]')
    async with site(dynamic, clock=clock, sleep=sleep) as s:
        assert (await s.echoed("/api/echo"))["target"] == "/echo"
        clock.advance(0.6)  # the next token is 0.4 s away: waited for
        assert (await s.echoed("/api/echo"))["target"] == "/echo"
        assert waited == [pytest.approx(0.4)]
        refused, _ = await s.get("/api/echo")  # a whole second away: refused
        assert refused.status == 429
        head = dict(refused.headers)
        assert head[b"x-frame-options"] == b"DENY" and head[b"retry-after"] == b"1"


async def test_the_proxy_s_own_502_gets_the_chain_s_fields() -> None:
    def dynamic(port: int) -> str:
        return with_middlewares(CHAIN, '["secure", "strip"]')(free_port())

    async with site(dynamic) as s:
        response, body = await s.get("/api/echo")
        assert response.status == 502 and body == b"502 Bad Gateway\n"
        head = dict(response.headers)
        assert head[b"x-frame-options"] == b"DENY" and head[b"x-backend"] == b"gateway"


PATHS = ["/api", "/api/", "/apix", "/api/a%2Fb", "/api//x", "/api/./x", "/api/.well-known",
         "/api/x/../y", "/api/%C3%A9", "/other", "/api/a%zz"]  # fmt: skip


async def test_the_fast_strip_prefix_cut_agrees_with_the_decision() -> None:
    async with site(with_middlewares(CHAIN, '["strip"]')) as s:
        for path in PATHS:
            outcome = strip_prefix(path, ("/api",))
            response, body = await s.get(path)
            if isinstance(outcome, PathRefused):
                assert response.status == outcome.status, (path, body)
                continue
            assert response.status == 200, (path, body)
            seen = await s.echoed(path)
            want = path if outcome is None else outcome[1] or "/"
            assert seen["target"] == want, path
            prefix = headers_of(seen).get("x-forwarded-prefix")
            assert prefix == (None if outcome is None else ["/api"]), path
