"""The proxy's hook points: an observer of every exchange, and the middleware chains."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from routekit.config import EntryPoint, loads_config
from routekit.http import Client, EntryPointServer, RequestHead, Response
from routekit.proxy import Exchange, Gateway
from routekit.runtime import build

pytestmark = pytest.mark.anyio
ON_UVLOOP = True  # the data path: asyncio, trio and uvloop

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


async def test_middleware_answers_are_observed_and_a_chain_is_built_at_load(
    tmp_path: Path,
) -> None:
    users = tmp_path / "users"
    users.write_text("ann:{SHA}2PRZAyDhNDqRW2OUFwZQqPNdaSY=\n")
    seen: list[Exchange] = []
    backend = EntryPointServer("127.0.0.1:0", app)
    text = (
        config(0)
        + """
[http.routers.broken]
rule = "Host(`broken.test`)"
service = "app"
middlewares = ["squeeze"]
[http.middlewares.squeeze.basicAuth]
usersFile = "USERS"
[http.routers.closed]
rule = "Host(`closed.test`)"
service = "app"
middlewares = ["nobody"]
[http.middlewares.nobody.ipAllowList]
sourceRange = ["192.0.2.0/24"]
"""
    )
    async with anyio.create_task_group() as tg:
        await tg.start(backend.serve)
        text = text.replace(':0"', f':{backend.ports[0]}"').replace("USERS", str(users))
        runtime = build(loads_config(text))
        users.unlink()  # read when loaded: gone before the router is first used, no matter
        async with Gateway(runtime, WEB, observe=seen.append) as gateway, Client() as browser:
            url = gateway.url("web") + "/api/x"
            r = await browser.request("GET", url, headers=[(b"host", b"guarded.test")])
            assert r.status == 201 and await r.read() == b"made"  # stripPrefix applied
            # Built when the configuration loaded: it still guards the router.
            r = await browser.request("GET", url, headers=[(b"host", b"broken.test")])
            assert r.status == 401
            await r.read()
            r = await browser.request("GET", url, headers=[(b"host", b"closed.test")])
            assert r.status == 403 and await r.read() == b"Forbidden\n"
        backend.stop()
    assert sorted((e.router, e.status, e.server is None) for e in seen) == [
        ("broken", 401, True),
        ("closed", 403, True),
        ("guarded", 201, False),
    ]
