"""``routekit demo`` and ``routekit whoami`` as a newcomer runs them: real processes, real HTTP."""

from __future__ import annotations

import json
import re
import signal
import subprocess
from pathlib import Path

import anyio
import pytest

from _process import finish, spawn
from _sockets import free_port
from routekit.http import Client
from routekit.whoami import Whoami, whoami

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def start(*args: str) -> tuple[subprocess.Popen[str], list[str]]:
    ready = ("Ctrl-C", "routekit whoami:")  # the last line each command prints on start
    return spawn(*args, ready=lambda line: line.startswith(ready), stdout=True)


def stop(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    return finish(proc, proc.stdout, signal.SIGINT)


async def names(client: Client, url: str, host: bytes, count: int) -> list[str]:
    out = []
    for _ in range(count):
        r = await client.request("GET", url, headers=[(b"host", host)])
        out.append((await r.read()).split(b"\n", 1)[0].decode())
    return out


async def test_the_demo_routes_balances_and_follows_its_file() -> None:
    proc, banner = start("demo")
    try:
        text = "".join(banner)
        url = re.search(r"gateway on (http://\S+)", text)
        config = re.search(r"follow\): (\S+)", text)
        assert url is not None and config is not None, text
        base = url.group(1)
        async with Client() as client:
            seen = await names(client, base + "/", b"hello.docker", 6)
            assert seen == ["Name: whoami-1", "Name: whoami-2", "Name: whoami-1",
                            "Name: whoami-2", "Name: whoami-1", "Name: whoami-3"]  # fmt: skip
            r = await client.request("GET", base + "/api/users", headers=[(b"host", b"api.docker")])
            body = await r.read()
            assert (b"x-powered-by", b"routekit") in r.headers
            assert b"GET /users HTTP/1.1" in body and b"X-Demo: routekit" in body
            r = await client.request("GET", base + "/", headers=[(b"host", b"nobody.docker")])
            assert r.status == 404
            await r.read()
            path = Path(config.group(1))
            path.write_text(path.read_text().replace("hello.docker", "hi.docker"))
            with anyio.fail_after(10):
                while (await names(client, base + "/", b"hi.docker", 1))[0] == "404 page not found":
                    await anyio.sleep(0.1)
    finally:
        rest = stop(proc)
    assert "configuration reloaded" in rest and rest.rstrip().endswith("routekit demo: stopped")


async def test_whoami_answers_in_text_or_json_and_its_health_can_be_set() -> None:
    async with whoami(name="blue") as server, Client() as client:
        url = f"http://127.0.0.1:{server.ports[0]}"
        r = await client.request("GET", url + "/x?y=1", headers=[(b"x-test", b"1")])
        text = (await r.read()).decode()
        assert text.startswith("Name: blue\nHostname: ") and "GET /x?y=1 HTTP/1.1" in text
        assert "X-Test: 1" in text
        r = await client.request("GET", url + "/", headers=[(b"accept", b"application/json")])
        seen = json.loads(await r.read())
        assert seen["name"] == "blue" and seen["method"] == "GET" and "127.0.0.1" in seen["ip"]
        r = await client.request("POST", url + "/health", body=b"503")
        assert r.status == 503
        await r.read()
        r = await client.request("GET", url + "/health")
        assert r.status == 503 and await r.read() == b"503\n"
        r = await client.request("POST", url + "/health", body=b"nope")
        assert r.status == 400
        await r.read()
    assert Whoami("x").health == 200


async def test_whoami_on_the_command_line() -> None:
    port = free_port()
    proc, lines = start("whoami", "--port", str(port), "--name", "green")
    try:
        assert lines[-1].startswith(f"routekit whoami: green on 127.0.0.1:{port}")
        async with Client() as client:
            r = await client.request("GET", f"http://127.0.0.1:{port}/")
            assert (await r.read()).startswith(b"Name: green\n")
    finally:
        stop(proc)
