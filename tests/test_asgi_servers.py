"""routekit.asgi under real ASGI servers on 127.0.0.1: uvicorn (asyncio), hypercorn (asyncio and
trio), with Starlette and FastAPI apps mounted, upstream whoami and echo backends, WebSockets
proxied end to end (wsproto on both ends), lifespan and routes that follow a file.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import hypercorn.asyncio
import hypercorn.config
import hypercorn.trio
import pytest
import sniffio
import uvicorn
from fastapi import FastAPI
from fastapi import Request as FastAPIRequest
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route as StarletteRoute
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from wsproto.events import AcceptConnection, BytesMessage, CloseConnection, TextMessage

from _sockets import free_port
from routekit.asgi import ASGIApp, Router, apps_provider
from routekit.config import loads_config
from routekit.http import Client
from routekit.providers import FileProvider
from routekit.runtime import Watcher
from routekit.whoami import whoami
from test_asgi import LifespanApp, echo_backend, scope_app
from test_proxy_upgrade import WsClient, ws_echo

pytestmark = pytest.mark.anyio

#: (event loop, server): uvicorn runs on asyncio only, hypercorn on both.
SERVERS = pytest.mark.parametrize(
    ("anyio_backend", "server"),
    [("asyncio", "uvicorn"), ("asyncio", "hypercorn"), ("trio", "hypercorn")],
)


@asynccontextmanager
async def serving(app: ASGIApp, server: str) -> AsyncIterator[int]:
    """*app* served by *server* on a free loopback port (lifespan on) while the block runs."""
    port = free_port()
    async with anyio.create_task_group() as tg:
        stop: Callable[[], None]
        if server == "uvicorn":
            config = uvicorn.Config(
                app, host="127.0.0.1", port=port, lifespan="on", ws="wsproto", log_level="warning"
            )
            running = uvicorn.Server(config)
            tg.start_soon(running.serve)

            def stop() -> None:
                running.should_exit = True
        else:
            settings = hypercorn.config.Config()
            settings.bind = [f"127.0.0.1:{port}"]
            settings.loglevel = "WARNING"
            done = anyio.Event()
            trio = sniffio.current_async_library() == "trio"
            serve = hypercorn.trio.serve if trio else hypercorn.asyncio.serve
            tg.start_soon(lambda: serve(app, settings, shutdown_trigger=done.wait))  # type: ignore[arg-type]
            stop = done.set
        with anyio.fail_after(10):
            while True:
                with contextlib.suppress(OSError):
                    await (await anyio.connect_tcp("127.0.0.1", port)).aclose()
                    break
                await anyio.sleep(0.02)
        try:
            yield port
        finally:
            stop()


# -- the apps mounted ------------------------------------------------------------------------


def site_app() -> Starlette:
    """A Starlette site whose lifespan puts a value in the shared state."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        yield {"greeting": "hello from the lifespan"}

    async def page(request: StarletteRequest) -> Response:
        info = request.state.routekit
        url = request.url_for("page", name=request.path_params["name"])
        return PlainTextResponse(f"{request.state.greeting}|{url}|{info.router}")

    async def chat(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(f"hi from {websocket.scope['routekit'].router}")
        async for text in websocket.iter_text():
            await websocket.send_text(text[::-1])

    routes = [
        StarletteRoute("/p/{name}", page, name="page"),
        WebSocketRoute("/chat", chat),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def shop_app() -> FastAPI:
    """A FastAPI shop, mounted under /shop by a stripPrefix middleware."""
    shop = FastAPI()

    @shop.get("/items/{item}", name="item")
    async def item(item: int, request: FastAPIRequest) -> dict[str, Any]:
        return {
            "item": item,
            "url": str(request.url_for("item", item=item)),
            "root_path": request.scope["root_path"],
        }

    return shop


def gateway_config(api: list[int], echo: int, chat: int) -> str:
    """Two mounted apps by host, /api to a balanced pool, /up, /stream and /chat upstream."""
    servers = "".join(
        f'[[http.services.api.loadBalancer.servers]]\nurl = "http://127.0.0.1:{p}"\n' for p in api
    )
    return f"""
[http.routers.site]
rule = "Host(`site.test`)"
service = "site@asgi"
[http.routers.shop]
rule = "Host(`shop.test`) && PathPrefix(`/shop`)"
service = "shop@asgi"
middlewares = ["shop"]
[http.middlewares.shop.stripPrefix]
prefixes = ["/shop"]
[http.routers.api]
rule = "Host(`gw.test`) && PathPrefix(`/api`)"
service = "api"
[http.routers.echo]
rule = "Host(`gw.test`) && (PathPrefix(`/up`) || PathPrefix(`/stream/`))"
service = "echo"
[http.routers.chat]
rule = "Host(`gw.test`) && Path(`/chat`)"
service = "chat"
{servers}
[[http.services.echo.loadBalancer.servers]]
url = "http://127.0.0.1:{echo}"
[[http.services.chat.loadBalancer.servers]]
url = "http://127.0.0.1:{chat}"
"""


@asynccontextmanager
async def upstreams() -> AsyncIterator[tuple[list[int], int, int]]:
    """Two whoami servers, the echo backend and a WebSocket echo server."""
    async with AsyncExitStack() as stack:
        one = await stack.enter_async_context(whoami("one"))
        two = await stack.enter_async_context(whoami("two"))
        echo = await stack.enter_async_context(echo_backend())
        chat = await stack.enter_async_context(
            await anyio.create_tcp_listener(local_host="127.0.0.1")
        )
        tg = await stack.enter_async_context(anyio.create_task_group())
        tg.start_soon(chat.serve, ws_echo)
        chat_port = chat.extra(anyio.abc.SocketAttribute.local_port)
        yield [one.ports[0], two.ports[0]], echo, chat_port
        tg.cancel_scope.cancel()


async def get(client: Client, port: int, host: str, path: str) -> tuple[int, bytes]:
    """GET *path* on the gateway with *host*; status and body."""
    r = await client.request(
        "GET", f"http://127.0.0.1:{port}{path}", headers=[(b"host", host.encode())]
    )
    return r.status, await r.read()


@SERVERS
async def test_the_router_under_a_real_server(server: str) -> None:
    async with upstreams() as (api, echo, chat):
        config = loads_config(gateway_config(api, echo, chat))
        router = Router(config, apps={"site": site_app(), "shop": shop_app()})
        async with serving(router, server) as port, Client() as client:
            # Starlette by host: its lifespan state, url_for and the route in request.state.
            status, body = await get(client, port, "site.test", "/p/a")
            assert status == 200
            assert body == b"hello from the lifespan|http://site.test/p/a|site"
            # FastAPI under a prefix: its routing and url_for see the mount.
            status, body = await get(client, port, "shop.test", "/shop/items/7")
            assert status == 200, body
            assert body == (b'{"item":7,"url":"http://shop.test/shop/items/7","root_path":"/shop"}')
            # /api balanced over both servers, through the proxy.
            names = set()
            for _ in range(4):
                status, body = await get(client, port, "gw.test", "/api/who")
                assert status == 200 and b"GET /api/who HTTP/1.1" in body
                names.add(body.split(b"\n", 1)[0])
            assert names == {b"Name: one", b"Name: two"}
            assert (await get(client, port, "nobody.test", "/"))[0] == 404

            # A streamed upload and a streamed answer.
            async def upload() -> AsyncIterator[bytes]:
                for piece in (b"a" * 10_000, b"b" * 10_000, b"c"):
                    yield piece
                    await anyio.sleep(0.01)

            r = await client.request(
                "POST",
                f"http://127.0.0.1:{port}/up",
                headers=[(b"host", b"gw.test")],
                body=upload(),
            )
            assert r.status == 200
            assert b'"body": "' + b"a" * 10_000 + b"b" * 10_000 + b'c"' in await r.read()
            status, body = await get(client, port, "gw.test", "/stream/100000")
            assert status == 200 and len(body) == 100_000

            # A WebSocket, end to end.
            async with await anyio.connect_tcp("127.0.0.1", port) as stream:
                ws = WsClient(stream)
                assert isinstance(await ws.handshake("gw.test"), AcceptConnection)
                assert await ws.message() == "hello"  # the server upstream speaks first
                for text in ("one", "two"):
                    await stream.send(ws.ws.send(TextMessage(data=text)))
                    assert await ws.message() == text.upper()
                await stream.send(ws.ws.send(BytesMessage(data=b"\x01\x02")))
                assert await ws.message() == b"\x02\x01"
                await stream.send(ws.ws.send(CloseConnection(code=1000)))
                closed = await ws.event()
                assert isinstance(closed, CloseConnection) and closed.code == 1000
            # A WebSocket to the mounted Starlette app, as it is.
            async with await anyio.connect_tcp("127.0.0.1", port) as stream:
                ws = WsClient(stream)
                assert isinstance(await ws.handshake("site.test"), AcceptConnection)
                assert await ws.message() == "hi from site"
                await stream.send(ws.ws.send(TextMessage(data="abc")))
                assert await ws.message() == "cba"
                await stream.send(ws.ws.send(CloseConnection(code=1000)))
        await router.aclose()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_failing_startup_stops_uvicorn_with_the_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log: list[str] = []
    router = Router(
        loads_config('[http.routers.r]\nrule = "Host(`db.test`)"\nservice = "db@asgi"\n'),
        apps={"db": LifespanApp("db", log, fail=True)},
    )
    port = free_port()
    config = uvicorn.Config(router, host="127.0.0.1", port=port, lifespan="on", log_config=None)
    running = uvicorn.Server(config)
    with caplog.at_level(logging.ERROR), anyio.fail_after(10), pytest.raises(SystemExit):
        await running.serve()  # uvicorn exits: the startup failed
    assert not running.started
    assert "mounted app 'db': no database" in caplog.text
    assert log == ["db startup"]


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_a_failing_startup_stops_hypercorn_on_trio() -> None:
    router = Router(
        loads_config('[http.routers.r]\nrule = "Host(`db.test`)"\nservice = "db@asgi"\n'),
        apps={"db": LifespanApp("db", [], fail=True)},
    )
    settings = hypercorn.config.Config()
    settings.bind = [f"127.0.0.1:{free_port()}"]
    with anyio.fail_after(10), pytest.raises(BaseException) as failed:
        await hypercorn.trio.serve(router, settings)  # type: ignore[arg-type]
    # Hypercorn raises its LifespanFailureError (in a nursery's group) with the reason.
    assert "mounted app 'db': no database" in repr(failed.value.exceptions)  # type: ignore[attr-defined]


@SERVERS
async def test_routes_follow_a_file_while_the_server_runs(server: str, tmp_path: Path) -> None:
    path = tmp_path / "dynamic.toml"

    def write(host: str) -> None:
        path.write_text(
            f'[http.routers.r]\nrule = "Host(`{host}`)"\nservice = "site@asgi"\n', "utf-8"
        )

    write("old.test")
    apps = {"site": scope_app}
    watcher = Watcher([FileProvider(path, poll_interval=0.05), apps_provider(apps)], throttle=0)
    router = Router(watcher, apps=apps)
    async with serving(router, server) as port, Client() as client:
        status, body = await get(client, port, "old.test", "/")
        assert status == 200 and b'"router": "r@file"' in body  # ready before serving
        write("new.test")
        with anyio.fail_after(10):
            while (await get(client, port, "new.test", "/"))[0] != 200:
                await anyio.sleep(0.05)
        assert (await get(client, port, "old.test", "/"))[0] == 404
