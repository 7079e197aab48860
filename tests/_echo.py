"""An echo backend on a real socket, and a gateway in front of it for end-to-end tests.

The backend answers every request with JSON of what it saw (method, target, headers, body), so
that a test can assert what a middleware changed on the way in and on the way out.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio

from routekit.config import EntryPoint, loads_config
from routekit.http import Client, ClientResponse, EntryPointServer, RequestHead, Response
from routekit.middleware import Context
from routekit.proxy import AccessLog, Exchange, Gateway
from routekit.runtime import build


async def echo(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
    """Answer with what the request was; ``/status/N`` answers status N, ``/sleep/MS`` waits
    MS milliseconds first; ``/big/N`` and ``/stream/N`` answer N bytes of text, whole or in
    pieces."""
    data = b"".join([chunk async for chunk in body])
    target = head.event.target.decode("latin-1")
    if target.startswith("/sleep/"):
        await anyio.sleep(int(target.split("/")[2]) / 1000)
    seen = {
        "method": head.event.method.decode(),
        "target": target,
        "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in head.event.headers],
        "body": data.decode("latin-1"),
    }
    if target.startswith(("/big/", "/stream/")):
        size = int(target.split("/")[2].partition("?")[0])
        kind = [(b"content-type", b"text/plain"), (b"x-backend", b"echo")]
        text = (b"routekit " * (size // 9 + 1))[:size]
        if target.startswith("/big/"):
            return Response(200, kind, text)

        async def pieces() -> AsyncIterator[bytes]:
            for start in range(0, size, 700):
                yield text[start : start + 700]
                await anyio.sleep(0)

        return Response(200, kind, pieces())
    status = int(target.split("/")[2]) if target.startswith("/status/") else 200
    answer = [(b"content-type", b"application/json"), (b"x-backend", b"echo")]
    return Response(status, answer, json.dumps(seen).encode())


def headers_of(seen: dict[str, object]) -> dict[str, list[str]]:
    """The echoed request's headers, name → values."""
    out: dict[str, list[str]] = {}
    for name, value in seen["headers"]:  # type: ignore[attr-defined]
        out.setdefault(name, []).append(value)
    return out


class Site:
    """A gateway at `url` in front of the echo backend, and a client to call it."""

    def __init__(self, url: str, client: Client, seen: list[Exchange]) -> None:
        self.url = url
        self.client = client
        self.exchanges = seen

    async def get(
        self,
        path: str,
        host: str = "site.test",
        headers: list[tuple[bytes, bytes]] | None = None,
        method: str = "GET",
        body: bytes = b"",
    ) -> tuple[ClientResponse, bytes]:
        """Send a request through the gateway; the response and its whole body."""
        sent = [(b"host", host.encode()), *(headers or [])]
        response = await self.client.request(method, self.url + path, headers=sent, body=body)
        return response, await response.read()

    async def echoed(self, path: str, **kwargs: object) -> dict[str, object]:
        """What the backend saw of a request that must reach it."""
        response, data = await self.get(path, **kwargs)  # type: ignore[arg-type]
        assert response.status == 200, (response.status, data)
        assert (b"x-backend", b"echo") in response.headers, response.headers
        seen: dict[str, object] = json.loads(data)
        return seen


@asynccontextmanager
async def site(
    dynamic: Callable[[int], str],
    *,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], object] | None = None,
    entry_point: EntryPoint | None = None,
    access_log: AccessLog | None = None,
) -> AsyncIterator[Site]:
    """The echo backend and a gateway with the configuration ``dynamic(backend_port)``."""
    backend = EntryPointServer("127.0.0.1:0", echo)
    seen: list[Exchange] = []
    context = Context()
    if clock is not None or sleep is not None:
        context = Context(
            clock=clock or context.clock,
            sleep=sleep or context.sleep,  # type: ignore[arg-type]
        )
    async with anyio.create_task_group() as tg:
        await tg.start(backend.serve)
        runtime = build(loads_config(dynamic(backend.ports[0])))
        points = {"web": entry_point or EntryPoint(address="127.0.0.1:0")}
        async with (
            Gateway(
                runtime, points, context=context, observe=seen.append, access_log=access_log
            ) as gateway,
            Client() as client,
        ):
            yield Site(gateway.url("web"), client, seen)
        backend.stop()


def with_middlewares(middlewares: str, names: str) -> Callable[[int], str]:
    """A configuration: router ``site`` (``Host(`site.test`)``) with *names* (TOML list) and
    the middleware definitions *middlewares*, to the echo backend."""

    def dynamic(port: int) -> str:
        return f"""
[http.routers.site]
rule = "Host(`site.test`)"
service = "echo"
middlewares = {names}
{middlewares}
[[http.services.echo.loadBalancer.servers]]
url = "http://127.0.0.1:{port}"
"""

    return dynamic
