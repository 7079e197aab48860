"""Mirroring services through the gateway: copies reach the mirrors, answers come from main."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest

from routekit.config import EntryPoint, loads_config
from routekit.http import Client, EntryPointServer, RequestHead, Response
from routekit.proxy import Gateway
from routekit.runtime import build

pytestmark = pytest.mark.anyio

WEB = {"web": EntryPoint(address="127.0.0.1:0")}


def recorder(name: bytes, seen: list[tuple[bytes, bytes, bytes]]) -> EntryPointServer:
    async def handler(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        data = b"".join([chunk async for chunk in body])
        seen.append((name, head.event.target, data))
        return Response(200, [], name)

    return EntryPointServer("127.0.0.1:0", handler)


def config(main: int, mirror: int, options: str = "") -> str:
    return f"""
[http.routers.r]
rule = "Host(`app.test`)"
service = "mirrored"
[http.services.mirrored.mirroring]
service = "main"
{options}
[[http.services.mirrored.mirroring.mirrors]]
name = "shadow"
percent = 100
[[http.services.main.loadBalancer.servers]]
url = "http://127.0.0.1:{main}"
[[http.services.shadow.loadBalancer.servers]]
url = "http://127.0.0.1:{mirror}"
"""


async def post_through(options: str, bodies: list[bytes]) -> list[tuple[bytes, bytes, bytes]]:
    seen: list[tuple[bytes, bytes, bytes]] = []
    main, shadow = recorder(b"main", seen), recorder(b"shadow", seen)
    async with anyio.create_task_group() as tg:
        await tg.start(main.serve)
        await tg.start(shadow.serve)
        runtime = build(loads_config(config(main.ports[0], shadow.ports[0], options)))
        async with Gateway(runtime, WEB) as gateway, Client() as browser:
            for body in bodies:
                r = await browser.request(
                    "POST", gateway.url("web") + "/x", headers=[(b"host", b"app.test")], body=body
                )
                assert r.status == 200 and await r.read() == b"main"  # the answer is main's
            with anyio.fail_after(5):
                while sum(1 for name, _, _ in seen if name == b"main") < len(bodies):
                    await anyio.sleep(0.02)
            await anyio.sleep(0.2)  # mirrors are sent after the main answer
        main.stop()
        shadow.stop()
    return seen


async def test_mirrors_get_the_same_request_and_body() -> None:
    seen = await post_through("", [b"hello", b""])
    assert sorted(seen) == sorted(
        [
            (b"main", b"/x", b"hello"),
            (b"shadow", b"/x", b"hello"),
            (b"main", b"/x", b""),
            (b"shadow", b"/x", b""),
        ]
    )


async def test_a_body_over_max_body_size_is_not_mirrored() -> None:
    seen = await post_through("maxBodySize = 4", [b"too long for it", b"ok"])
    assert sorted(seen) == sorted(
        [(b"main", b"/x", b"too long for it"), (b"main", b"/x", b"ok"), (b"shadow", b"/x", b"ok")]
    )


async def test_mirror_body_false_sends_the_mirrors_no_body() -> None:
    seen = await post_through("mirrorBody = false", [b"secret"])
    assert sorted(seen) == [(b"main", b"/x", b"secret"), (b"shadow", b"/x", b"")]
