"""Active health checks through a real gateway: servers killed, restarted, and reloads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from routekit.config import EntryPoint, HealthCheck
from routekit.http import Client, EntryPointServer, RequestHead, Response
from routekit.providers import FileProvider
from routekit.proxy import Gateway
from routekit.runtime import Watcher, probe_target

pytestmark = pytest.mark.anyio


def backend(name: bytes, port: int = 0) -> EntryPointServer:
    async def handler(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        return Response(200, [], name)

    return EntryPointServer(f"127.0.0.1:{port}", handler)


def config(a: int, b: int, extra: str = "") -> str:
    return f"""
[http.routers.site]
rule = "Host(`site.test`)"
service = "pair"
{extra}
[http.services.pair.loadBalancer.healthCheck]
path = "/health"
interval = "100ms"
timeout = "1s"
[[http.services.pair.loadBalancer.servers]]
url = "http://127.0.0.1:{a}"
[[http.services.pair.loadBalancer.servers]]
url = "http://127.0.0.1:{b}"
"""


async def names(client: Client, url: str, count: int = 8) -> list[bytes]:
    out = []
    for _ in range(count):
        response = await client.request("GET", url, headers=[(b"host", b"site.test")])
        out.append(await response.read() if response.status == 200 else b"%d" % response.status)
    return out


async def test_a_killed_server_leaves_and_comes_back_across_reloads(tmp_path: Path) -> None:
    a, b = backend(b"a"), backend(b"b")
    dynamic = tmp_path / "dynamic.toml"
    async with anyio.create_task_group() as tg:
        await tg.start(a.serve)
        await tg.start(b.serve)
        port_a, port_b = a.ports[0], b.ports[0]
        dynamic.write_text(config(port_a, port_b))
        watcher = Watcher([FileProvider(dynamic)], throttle=0)
        points = {"web": EntryPoint(address="127.0.0.1:0")}
        async with Gateway(watcher, points) as gateway, Client() as client:
            url = gateway.url("web") + "/"
            assert sorted(set(await names(client, url))) == [b"a", b"b"]
            b.stop()
            await anyio.sleep(0.35)  # three intervals: the check has seen it
            assert set(await names(client, url)) == {b"a"}  # nothing fails: b is out
            assert gateway.health.status[("pair@file", f"http://127.0.0.1:{port_b}")] is False
            # A reload that keeps the servers keeps b out until a check passes.
            dynamic.write_text(config(port_a, port_b, extra="priority = 5"))
            with anyio.fail_after(5):
                while gateway.runtime.config.http.routers["site@file"].priority != 5:
                    await anyio.sleep(0.02)
            assert set(await names(client, url)) == {b"a"}
            b = backend(b"b", port_b)
            await tg.start(b.serve)
            with anyio.fail_after(5):
                while b"b" not in await names(client, url, 4):
                    await anyio.sleep(0.05)
            assert sorted(set(await names(client, url))) == [b"a", b"b"]
            # A server that leaves the configuration has its checker stopped.
            dynamic.write_text(config(port_a, port_a))
            with anyio.fail_after(5):
                while ("pair@file", f"http://127.0.0.1:{port_b}") in gateway.health.status:
                    await anyio.sleep(0.02)
        a.stop()
        b.stop()


def test_probe_target() -> None:
    check = HealthCheck(path="health", port=9000, hostname="check.test", scheme="https")
    assert probe_target("http://10.0.0.1:80/base", check) == (
        "https://10.0.0.1:9000/health",
        "check.test",
    )
    assert probe_target("http://[::1]:81", HealthCheck(path="/h")) == (
        "http://[::1]:81/h",
        "[::1]:81",
    )


async def test_a_server_killed_under_load_leaves_within_an_interval(tmp_path: Path) -> None:
    a, b = backend(b"a"), backend(b"b")
    async with anyio.create_task_group() as tg:
        await tg.start(a.serve)
        await tg.start(b.serve)
        dynamic = tmp_path / "dynamic.toml"
        dynamic.write_text(config(a.ports[0], b.ports[0]))
        watcher = Watcher([FileProvider(dynamic)], throttle=0)
        points = {"web": EntryPoint(address="127.0.0.1:0")}
        async with Gateway(watcher, points) as gateway:
            url = gateway.url("web") + "/"
            outcomes: list[tuple[float, bytes]] = []
            stop = anyio.Event()

            async def load() -> None:
                async with Client() as client:  # a client of its own, kept alive
                    while not stop.is_set():
                        answer = await names(client, url, 1)
                        outcomes.append((anyio.current_time(), answer[0]))

            async with anyio.create_task_group() as clients:
                for _ in range(4):
                    clients.start_soon(load)
                await anyio.sleep(0.3)
                killed = anyio.current_time()
                b.stop()
                await anyio.sleep(1.0)
                stop.set()
        a.stop()
    failures = [t for t, what in outcomes if what != b"a" and what != b"b"]
    # The interval is 0.1 s; half a second leaves room for a loaded machine.
    settled = [what for t, what in outcomes if t > killed + 0.5]
    assert settled and set(settled) == {b"a"}  # b is out: every request is served by a
    assert all(t < killed + 0.5 for t in failures)  # only requests around the kill failed
