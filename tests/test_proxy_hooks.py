"""The proxy's hook points: an observer of every exchange, and a middleware chain."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest

from routekit.config import EntryPoint, loads_config
from routekit.http import Client, EntryPointServer, Handler, RequestHead, Response
from routekit.proxy import Exchange, Gateway
from routekit.runtime import RoutingDecision, build

pytestmark = pytest.mark.anyio

WEB = {"web": EntryPoint(address="127.0.0.1:0")}


async def app(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
    if head.event.target == b"/stream":

        async def chunks() -> AsyncIterator[bytes]:
            yield b"a"
            await anyio.sleep(0.05)
            yield b"b"

        return Response(200, [], chunks())
    return Response(201, [], b"made")


def config(port: int) -> str:
    return f"""
[http.routers.app]
rule = "Host(`app.test`)"
service = "app"
[http.routers.guarded]
rule = "Host(`guarded.test`)"
service = "app"
middlewares = ["strip"]
[http.routers.empty]
rule = "Host(`empty.test`)"
service = "empty"
[http.middlewares.strip.stripPrefix]
prefixes = ["/api"]
[[http.services.app.loadBalancer.servers]]
url = "http://127.0.0.1:{port}"
[http.services.empty.loadBalancer]
servers = []
"""


async def test_the_observer_sees_each_exchange_once_with_its_outcome() -> None:
    seen: list[Exchange] = []
    backend = EntryPointServer("127.0.0.1:0", app)
    async with anyio.create_task_group() as tg:
        await tg.start(backend.serve)
        runtime = build(loads_config(config(backend.ports[0])))
        async with Gateway(runtime, WEB, observe=seen.append) as gateway, Client() as browser:
            base = gateway.url("web")
            for host, path in [
                ("app.test", "/"),
                ("app.test", "/stream"),
                ("nobody.test", "/"),
                ("empty.test", "/"),
            ]:
                r = await browser.request("GET", base + path, headers=[(b"host", host.encode())])
                await r.read()
            await anyio.sleep(0.05)
        backend.stop()
    assert sorted((e.router or "-", e.status) for e in seen) == [
        ("-", 404),
        ("app", 200),
        ("app", 201),
        ("empty", 503),
    ]
    streamed = next(e for e in seen if e.status == 200)
    assert streamed.complete and streamed.duration >= 0.05  # measured to the end of the body
    assert streamed.server == f"http://127.0.0.1:{backend.ports[0]}"
    assert all(e.entry_point == "web" and e.method == "GET" for e in seen)


async def test_a_router_with_middlewares_goes_through_the_chain_or_is_refused() -> None:
    backend = EntryPointServer("127.0.0.1:0", app)
    built: list[tuple[str, ...]] = []

    def chain(decision: RoutingDecision, forward: Handler) -> Handler:
        built.append(tuple(type(m).__name__ for m in decision.middlewares))

        async def handler(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
            if dict(head.event.headers).get(b"x-deny"):
                return Response(403, [], b"denied by the chain")
            answer = await forward(head, body)
            return Response(answer.status, [*answer.headers, (b"x-chain", b"yes")], answer.body)

        return handler

    async with anyio.create_task_group() as tg:
        await tg.start(backend.serve)
        runtime = build(loads_config(config(backend.ports[0])))
        async with Client() as browser:
            async with Gateway(runtime, WEB) as plain:
                r = await browser.request(
                    "GET", plain.url("web") + "/", headers=[(b"host", b"guarded.test")]
                )
                assert r.status == 501 and b"middlewares" in await r.read()
            async with Gateway(runtime, WEB, chain=chain) as gateway:
                url = gateway.url("web") + "/"
                r = await browser.request("GET", url, headers=[(b"host", b"guarded.test")])
                assert r.status == 201 and (b"x-chain", b"yes") in r.headers
                assert await r.read() == b"made"
                r = await browser.request(
                    "GET", url, headers=[(b"host", b"guarded.test"), (b"x-deny", b"1")]
                )
                assert r.status == 403 and await r.read() == b"denied by the chain"
                r = await browser.request("GET", url, headers=[(b"host", b"app.test")])
                assert (b"x-chain", b"yes") not in r.headers  # no middlewares: no chain
                await r.read()
        backend.stop()
    assert built and all(names == ("StripPrefix",) for names in built)
