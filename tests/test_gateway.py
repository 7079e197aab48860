"""`Gateway` end to end: a watched file's routes served, reloads under load, a graceful stop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from _routes import one_route
from routekit.config import EntryPoint, loads_config
from routekit.errors import ConfigError
from routekit.http import Client, EntryPointServer, RequestHead, Response
from routekit.providers import FileProvider
from routekit.proxy import Gateway
from routekit.runtime import Watcher, build

pytestmark = pytest.mark.anyio
ON_UVLOOP = True  # the data path: asyncio, trio and uvloop

WEB = {"web": EntryPoint(address="127.0.0.1:0")}


def named(name: bytes, delay: float = 0) -> EntryPointServer:
    async def handler(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        async for _ in body:
            pass
        await anyio.sleep(delay)
        return Response(200, [(b"content-type", b"text/plain")], name)

    return EntryPointServer("127.0.0.1:0", handler)


async def test_a_watched_file_is_served_and_its_edits_apply_without_a_failed_request(
    tmp_path: Path,
) -> None:
    one, two = named(b"one"), named(b"two")
    dynamic = tmp_path / "dynamic.toml"
    async with anyio.create_task_group() as tg:
        await tg.start(one.serve)
        await tg.start(two.serve)
        dynamic.write_text(one_route(one.ports[0], "app.docker"))
        watcher = Watcher([FileProvider(dynamic, poll_interval=0.05)], throttle=0)
        async with Gateway(watcher, WEB) as gateway, Client() as browser:
            url = gateway.url("web") + "/"
            seen: list[bytes] = []
            failures: list[int] = []

            async def load() -> None:
                # Until the edit has been seen, however fast the machine answers in between.
                while b"two" not in seen[-20:]:
                    r = await browser.request("GET", url, headers=[(b"host", b"app.docker")])
                    body = await r.read()
                    if r.status == 200:
                        seen.append(body)
                    else:
                        failures.append(r.status)

            with anyio.fail_after(10):
                async with anyio.create_task_group() as clients:
                    for _ in range(4):
                        clients.start_soon(load)
                    await anyio.sleep(0.1)
                    dynamic.write_text(one_route(two.ports[0], "app.docker"))
            assert not failures
            assert seen[0] == b"one" and seen[-1] == b"two"
            # A file that does not parse is rejected; the last good routes keep serving.
            dynamic.write_text('[http.routers.app\nrule = "Host(`app.docker`)"\n')
            await anyio.sleep(0.3)
            r = await browser.request("GET", url, headers=[(b"host", b"app.docker")])
            assert r.status == 200 and await r.read() == b"two"
        one.stop()
        two.stop()


async def test_leaving_the_block_lets_a_request_in_flight_finish() -> None:
    slow = named(b"slow", delay=0.3)
    async with anyio.create_task_group() as tg:
        await tg.start(slow.serve)
        runtime = build(loads_config(one_route(slow.ports[0], "app.docker")))
        answers: list[tuple[int, bytes]] = []
        async with Client() as browser:
            async with Gateway(runtime, WEB, grace=5) as gateway:
                url = gateway.url("web") + "/"

                async def ask() -> None:
                    r = await browser.request("GET", url, headers=[(b"host", b"app.docker")])
                    answers.append((r.status, await r.read()))

                tg.start_soon(ask)
                await anyio.sleep(0.1)  # the request is at the backend when the block ends
            await anyio.sleep(0.5)
            assert answers == [(200, b"slow")]
            with pytest.raises(OSError):  # the port is closed
                await anyio.connect_tcp("127.0.0.1", int(url.rsplit(":", 1)[1].strip("/")))
        slow.stop()


def test_a_gateway_needs_an_entry_point() -> None:
    with pytest.raises(ConfigError, match="entry point"):
        Gateway(build(loads_config("")), {})


async def test_ipv6_end_to_end() -> None:
    async def whoami(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        return Response(200, [], dict(head.event.headers).get(b"x-forwarded-for", b"-"))

    backend = EntryPointServer("[::1]:0", whoami)
    async with anyio.create_task_group() as tg:
        await tg.start(backend.serve)
        runtime = build(loads_config(one_route(backend.ports[0], "app.docker", ip="[::1]")))
        entry = {"web": EntryPoint(address="[::1]:0")}
        async with Gateway(runtime, entry) as gateway, Client() as browser:
            r = await browser.request(
                "GET",
                f"http://[::1]:{gateway.ports['web'][0]}/",
                headers=[(b"host", b"app.docker")],
            )
            assert r.status == 200 and await r.read() == b"::1"
        backend.stop()


async def test_several_entry_points_serve_their_own_routers() -> None:
    one, two = named(b"public"), named(b"internal")
    async with anyio.create_task_group() as tg:
        await tg.start(one.serve)
        await tg.start(two.serve)
        runtime = build(
            loads_config(f"""
[http.routers.public]
rule = "PathPrefix(`/`)"
entryPoints = ["web"]
service = "public"
[http.routers.internal]
rule = "PathPrefix(`/`)"
entryPoints = ["admin"]
service = "internal"
[[http.services.public.loadBalancer.servers]]
url = "http://127.0.0.1:{one.ports[0]}"
[[http.services.internal.loadBalancer.servers]]
url = "http://127.0.0.1:{two.ports[0]}"
""")
        )
        entries = {
            "web": EntryPoint(address="127.0.0.1:0"),
            "admin": EntryPoint(address="127.0.0.1:0"),
        }
        async with Gateway(runtime, entries) as gateway, Client() as browser:
            for name, want in [("web", b"public"), ("admin", b"internal")]:
                r = await browser.get(gateway.url(name) + "/", headers=[(b"host", b"x")])
                assert await r.read() == want
        one.stop()
        two.stop()
