"""The proxy end to end: a client, routekit, real backends, all over sockets on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import anyio
import pytest

from _routes import one_route
from routekit.config import loads_config
from routekit.http import Client, EntryPointServer, RequestHead, Response
from routekit.proxy import Proxy
from routekit.runtime import build

pytestmark = pytest.mark.anyio
ON_UVLOOP = True  # the data path: asyncio, trio and uvloop


def backend(name: bytes) -> EntryPointServer:
    async def handler(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        data = b"".join([chunk async for chunk in body])
        seen = dict(head.event.headers)
        text = b"%s %s %s xff=%s host=%s len=%d" % (
            name,
            head.event.method,
            head.event.target,
            seen.get(b"x-forwarded-for", b"-"),
            seen.get(b"host", b"-"),
            len(data),
        )
        return Response(200, [(b"x-backend", name), (b"keep-alive", b"timeout=5")], text)

    return EntryPointServer("127.0.0.1:0", handler)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_requests_are_routed_and_spread_over_the_servers() -> None:
    one, two = backend(b"one"), backend(b"two")
    async with anyio.create_task_group() as tg:
        await tg.start(one.serve)
        await tg.start(two.serve)
        dead = free_port()
        config = loads_config(f"""
[http.routers.hello]
rule = "Host(`hello.docker`)"
service = "hello"
[http.routers.down]
rule = "Host(`down.docker`)"
service = "down"
[[http.services.hello.loadBalancer.servers]]
url = "http://127.0.0.1:{one.ports[0]}"
[[http.services.hello.loadBalancer.servers]]
url = "http://127.0.0.1:{two.ports[0]}"
[[http.services.down.loadBalancer.servers]]
url = "http://127.0.0.1:{dead}"
""")
        runtime = build(config)
        async with Client() as upstream, Client() as browser:
            proxy = Proxy(lambda: runtime, entry_point="web", client=upstream)
            gateway = EntryPointServer("127.0.0.1:0", proxy)
            await tg.start(gateway.serve)
            base = f"http://127.0.0.1:{gateway.ports[0]}"

            names = []
            for _ in range(4):
                r = await browser.request(
                    "POST", base + "/api?x=1", headers=[(b"host", b"hello.docker")], body=b"hi"
                )
                assert r.status == 200
                text = await r.read()
                assert b"POST /api?x=1 xff=127.0.0.1 host=hello.docker len=2" in text
                assert not [v for k, v in r.headers if k == b"keep-alive"]  # hop-by-hop dropped
                names.append(text.split()[0])
            assert sorted(names) == [b"one", b"one", b"two", b"two"]  # round robin

            missing = await browser.request("GET", base + "/", headers=[(b"host", b"nope")])
            assert missing.status == 404 and await missing.read() == b"404 page not found\n"
            down = await browser.request("GET", base + "/", headers=[(b"host", b"down.docker")])
            assert down.status == 502 and b"127.0.0.1" not in await down.read()
            gateway.stop()
        one.stop()
        two.stop()


async def test_a_service_without_servers_is_503() -> None:
    config = loads_config("""
[http.routers.empty]
rule = "Host(`empty.docker`)"
service = "empty"
[http.services.empty.loadBalancer]
servers = []
""")
    runtime = build(config)
    async with anyio.create_task_group() as tg, Client() as upstream, Client() as browser:
        gateway = EntryPointServer(
            "127.0.0.1:0", Proxy(lambda: runtime, entry_point="web", client=upstream)
        )
        await tg.start(gateway.serve)
        r = await browser.request(
            "GET", f"http://127.0.0.1:{gateway.ports[0]}/", headers=[(b"host", b"empty.docker")]
        )
        assert r.status == 503 and await r.read() == b"503 Service Unavailable\n"
        gateway.stop()


async def test_pass_host_header_false_sends_the_servers_own_host() -> None:
    one = backend(b"one")
    async with anyio.create_task_group() as tg:
        await tg.start(one.serve)
        port = one.ports[0]
        config = loads_config(f"""
[http.routers.r]
rule = "Host(`hello.docker`)"
service = "s"
[http.services.s.loadBalancer]
passHostHeader = false
servers = [{{url = "http://127.0.0.1:{port}"}}]
""")
        runtime = build(config)
        async with Client() as upstream, Client() as browser:
            gateway = EntryPointServer(
                "127.0.0.1:0", Proxy(lambda: runtime, entry_point="web", client=upstream)
            )
            await tg.start(gateway.serve)
            r = await browser.request(
                "GET", f"http://127.0.0.1:{gateway.ports[0]}/", headers=[(b"host", b"hello.docker")]
            )
            assert f"host=127.0.0.1:{port}".encode() in await r.read()
            gateway.stop()
        one.stop()


async def test_a_head_request_releases_its_lease_and_its_upstream_connection() -> None:
    one = backend(b"one")
    async with anyio.create_task_group() as tg:
        await tg.start(one.serve)
        runtime = build(loads_config(one_route(one.ports[0], "hello.docker")))
        async with Client() as upstream, Client() as browser:
            gateway = EntryPointServer(
                "127.0.0.1:0", Proxy(lambda: runtime, entry_point="web", client=upstream)
            )
            await tg.start(gateway.serve)
            url = f"http://127.0.0.1:{gateway.ports[0]}/"
            r = await browser.request("HEAD", url, headers=[(b"host", b"hello.docker")])
            assert r.status == 200 and await r.read() == b""
            await anyio.sleep(0.05)
            (child,) = runtime.services["app"].statistics().children
            assert child.inflight == 0  # the bodiless answer still ended the lease
            gateway.stop()
        one.stop()
