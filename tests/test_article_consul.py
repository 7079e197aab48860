"""The Consul catalog set-up of the Traefik article, with ``routekit serve`` in place of Traefik.

The article's ``traefik.toml`` (examples/consul/traefik.toml): ``[consulCatalog]`` with
``domain = "consul.local"``.  Services are registered as registrator does it (``PUT
/v1/catalog/register``) in the Consul stand-in (tests/_consul.py; no Consul can run here):
``hello`` without tags answers at ``hello.consul.local``, ``hello2`` with the article's tags at
``hello2.particule.io``; both round-robin over two real backends; an instance going critical
leaves the rotation; Consul restarting keeps the last routes.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import anyio
import pytest

from _backends import backends, names, until
from _consul import Consul
from _process import finish, serve
from _sockets import free_port
from routekit.http import Client

pytestmark = pytest.mark.anyio

EXAMPLE = Path(__file__).parent.parent / "examples" / "consul" / "traefik.toml"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def register(consul: Consul, service: str, service_id: str, port: int, tags: list[str]) -> None:
    """What registrator sends for a container it saw start."""
    body = {
        "Node": "docker-host", "Address": "127.0.0.1",
        "Service": {"ID": service_id, "Service": service, "Tags": tags,
                    "Address": "127.0.0.1", "Port": port},
    }  # fmt: skip
    request = urllib.request.Request(
        f"http://{consul.address}/v1/catalog/register", json.dumps(body).encode(), method="PUT"
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.read() == b"true"


async def test_the_article_consul_setup_end_to_end(tmp_path: Path) -> None:
    consul = Consul()
    consul.start()
    static = tmp_path / "traefik.toml"
    static.write_text(EXAMPLE.read_text().replace("172.17.0.1:8500", consul.address))
    http, web = free_port(), free_port()
    async with backends("hello-1", "hello-2", "hello2-1", "hello2-2") as ports:
        for n in (1, 2):
            register(consul, "hello", f"hello-{n}", ports[f"hello-{n}"], [])
            tags = ["traefik.backend=hello2", "traefik.frontend.rule=Host:hello2.particule.io"]
            register(consul, "hello2", f"hello2-{n}", ports[f"hello2-{n}"], tags)
        proc, head = serve(static, http, web)
        assert proc.stderr is not None
        url = f"http://127.0.0.1:{http}/"
        try:
            async with Client() as client:
                await until(client, url, b"hello.consul.local", {"hello-1", "hello-2"})
                await until(client, url, b"hello2.particule.io", {"hello2-1", "hello2-2"})
                seen = await names(client, url, b"hello.consul.local", 10)
                assert set(seen.values()) == {5}  # round robin
                consul.set_status("hello-1", "critical")
                await until(client, url, b"hello.consul.local", {"hello-2"})
                port = consul.port
                consul.stop()
                await anyio.sleep(1)  # the provider notices; the routes stay
                assert set(await names(client, url, b"hello2.particule.io", 4)) == {
                    "hello2-1",
                    "hello2-2",
                }
                consul.start(port)
                consul.set_status("hello-1", "passing")
                await until(client, url, b"hello.consul.local", {"hello-1", "hello-2"})
        finally:
            rest = finish(proc, proc.stderr)
            consul.stop()
    assert f"consulCatalog (http://{consul.address}, watching)" in "".join(head), head
    assert "consulcatalog: cannot read" in rest and "reachable again" in rest
