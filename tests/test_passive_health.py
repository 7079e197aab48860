"""passiveHealthCheck through a real gateway: servers that fail are taken out, and come back.

Traefik v3.6's ``loadBalancer.passiveHealthCheck`` (traefik-semantics §8.2): an answer below
500 from a server that was reached is a success (it clears the failures), anything else a
failure; ``maxFailedAttempts`` failures inside ``failureWindow`` take the server out, and
without an active check it comes back after ``failureWindow``.  The clock the balancers read is
a `FakeClock` where the test counts requests, and the real one where it waits for a return.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest

from _sockets import free_port
from routekit.config import EntryPoint, loads_config
from routekit.http import Client, EntryPointServer, RequestHead, Response
from routekit.proxy import Gateway
from routekit.runtime import build
from routekit.testing import FakeClock

pytestmark = pytest.mark.anyio
ON_UVLOOP = True  # the data path: asyncio, trio and uvloop


class Backend:
    """Answers its name, or 500 while `failing`; counts what it was sent."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.failing = False
        self.hits = 0
        self.server = EntryPointServer("127.0.0.1:0", self.handle)

    async def handle(self, head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        self.hits += 1
        if self.failing:
            return Response(500, [], b"broken")
        return Response(200, [], self.name.encode())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.ports[0]}"


def config(urls: list[str], *, window: str = "10s", attempts: int = 3) -> str:
    servers = "".join(f'[[http.services.pair.loadBalancer.servers]]\nurl = "{u}"\n' for u in urls)
    return f"""
[http.routers.site]
rule = "Host(`site.test`)"
service = "pair"
[http.services.pair.loadBalancer.passiveHealthCheck]
failureWindow = "{window}"
maxFailedAttempts = {attempts}
{servers}"""


class Site:
    """The gateway's entry point, and a client."""

    def __init__(self, client: Client, url: str) -> None:
        self.client = client
        self.url = url

    async def answers(self, count: int) -> Counter[str]:
        """Who answered *count* requests (the status, for an answer that is not a name)."""
        seen: Counter[str] = Counter()
        for _ in range(count):
            response = await self.client.request("GET", self.url, headers=[(b"host", b"site.test")])
            body = await response.read()
            seen[body.decode() if response.status == 200 else str(response.status)] += 1
        return seen


@asynccontextmanager
async def gateway(
    backends: list[Backend],
    clock: FakeClock | None = None,
    *,
    elsewhere: tuple[str, ...] = (),
    window: str = "10s",
    attempts: int = 3,
) -> AsyncIterator[Site]:
    """*backends* serving, and a gateway in front of them (and the servers *elsewhere*)."""
    async with anyio.create_task_group() as tg:
        for backend in backends:
            await tg.start(backend.server.serve)
        urls = [*(b.url for b in backends), *elsewhere]
        dynamic = config(urls, window=window, attempts=attempts)
        runtime = build(loads_config(dynamic), clock=clock)
        points = {"web": EntryPoint(address="127.0.0.1:0")}
        async with Gateway(runtime, points) as gw, Client() as client:
            yield Site(client, gw.url("web") + "/")
        for backend in backends:
            backend.server.stop()


async def test_a_failing_server_leaves_after_max_failed_attempts_and_returns() -> None:
    good, bad = Backend("good"), Backend("bad")
    clock = FakeClock()
    async with gateway([good, bad], clock) as s:
        assert await s.answers(4) == Counter(good=2, bad=2)  # round robin, both in
        bad.failing = True
        # Each failure is the client's answer (passive health does not retry): the first two
        # leave bad in, the third takes it out.
        assert await s.answers(4) == Counter({"good": 2, "500": 2})
        assert await s.answers(2) == Counter({"good": 1, "500": 1})
        hits = bad.hits
        assert await s.answers(10) == Counter(good=10)
        assert bad.hits == hits  # out: not even tried
        bad.failing = False
        clock.advance(9.9)
        assert await s.answers(4) == Counter(good=4)  # still inside the window
        clock.advance(0.2)
        assert await s.answers(4) == Counter(good=2, bad=2)  # back after failureWindow


async def test_only_failures_inside_the_window_count_and_a_success_clears_them() -> None:
    good, flaky = Backend("good"), Backend("flaky")
    clock = FakeClock()
    async with gateway([good, flaky], clock) as s:
        flaky.failing = True
        assert await s.answers(4) == Counter({"good": 2, "500": 2})  # two failures
        clock.advance(10.5)  # ... forgotten: older than failureWindow
        assert await s.answers(4) == Counter({"good": 2, "500": 2})  # two more: still in
        flaky.failing = False
        assert await s.answers(2) == Counter(good=1, flaky=1)  # a success clears them
        flaky.failing = True
        assert await s.answers(4) == Counter({"good": 2, "500": 2})
        assert await s.answers(2) == Counter({"good": 1, "500": 1})  # the third: out
        assert await s.answers(6) == Counter(good=6)


async def test_a_server_that_refuses_connections_leaves_and_another_stays() -> None:
    good = Backend("good")
    refused = f"http://127.0.0.1:{free_port()}"
    # The real clock: a short window, and the test waits for the server's return.
    async with gateway([good], elsewhere=(refused,), window="1s", attempts=1) as s:
        assert await s.answers(2) == Counter({"good": 1, "502": 1})  # one refusal: out at once
        assert await s.answers(6) == Counter(good=6)
        # After the window the server is tried again, refuses, and leaves again.
        with anyio.fail_after(10):
            while "502" not in await s.answers(2):
                await anyio.sleep(0.05)
        assert await s.answers(4) == Counter(good=4)
