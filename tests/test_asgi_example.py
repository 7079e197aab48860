"""examples/asgi_app.py runs as a user runs it: uvicorn serves it, and it answers as it says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _backends import names
from _process import finish, spawn
from _sockets import free_port
from routekit.http import Client

pytestmark = pytest.mark.anyio

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "asgi_app.py"


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_asgi_example_serves_two_apps_and_a_balanced_api() -> None:
    port = free_port()
    proc, _ = spawn(
        "--port", str(port),
        python=(str(EXAMPLE),),
        stdout=True,
        ready=lambda line: "Uvicorn running on" in line,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        url = f"http://127.0.0.1:{port}"
        async with Client() as client:
            r = await client.request("GET", url + "/", headers=[(b"host", b"www.localhost")])
            assert r.status == 200
            assert await r.read() == b"www: routed by www (Host(`www.localhost`))\n"
            r = await client.request(
                "GET", url + "/items/3", headers=[(b"host", b"shop.localhost")]
            )
            assert r.status == 200
            assert json.loads(await r.read()) == {
                "item": 3,
                "url": "http://shop.localhost/items/3",
            }
            # /api goes to the example's own pool of two whoami servers, in turn.
            assert await names(client, url + "/api/who", b"example.test", 4) == {
                "one": 2,
                "two": 2,
            }
            r = await client.request("GET", url + "/", headers=[(b"host", b"other.localhost")])
            assert r.status == 404
    finally:
        out = finish(proc, proc.stdout)
    assert "Finished server process" in out
