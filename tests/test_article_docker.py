"""The Docker set-up of the Traefik article, with ``routekit serve`` in place of Traefik.

The article's ``traefik.toml`` (examples/docker/traefik.toml) — ``[docker] domain = "docker"``,
``watch = true`` — on a real engine: a container labelled ``traefik.backend=hello`` and
``traefik.frontend.rule=Host:hello.docker`` answers through the gateway, five replicas share
the round robin, stopped ones leave it, and the engine going away leaves the routes serving.
Only the addresses differ from the article: free loopback ports, given as Traefik's flags.
"""

from __future__ import annotations

import time
from collections import Counter
from functools import partial
from pathlib import Path

import anyio
import anyio.to_thread
import pytest

from _dockerd import Dockerd
from _process import finish, serve
from _sockets import free_port
from routekit.http import Client

pytestmark = pytest.mark.anyio

EXAMPLE = Path(__file__).parent.parent / "examples" / "docker" / "traefik.toml"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def hello(docker: Dockerd, n: int) -> None:
    """``docker-compose scale hello=n``'s n-th replica, with the article's labels."""
    port = free_port()
    docker.run(
        f"demo_hello_{n}",
        {
            "com.docker.compose.project": "demo",
            "com.docker.compose.service": "hello",
            "traefik.backend": "hello",
            "traefik.frontend.rule": "Host:hello.docker",
            "traefik.port": str(port),
        },
        port=port,
    )


async def answers(client: Client, url: str, count: int) -> Counter[str]:
    """Which replicas answered *count* requests for ``Host: hello.docker``."""
    seen: Counter[str] = Counter()
    for _ in range(count):
        r = await client.request("GET", url, headers=[(b"host", b"hello.docker")])
        body = (await r.read()).decode().strip()
        seen[body if r.status == 200 else str(r.status)] += 1
    return seen


async def until(client: Client, url: str, want: set[str], within: float = 10) -> float:
    """Seconds until the answers come from exactly *want*."""
    start = time.monotonic()
    with anyio.fail_after(within):
        while set(await answers(client, url, 2 * max(1, len(want)))) != want:
            await anyio.sleep(0.05)
    return time.monotonic() - start


async def test_the_article_docker_setup_end_to_end(docker: Dockerd, tmp_path: Path) -> None:
    static = tmp_path / "traefik.toml"
    text = EXAMPLE.read_text().replace("unix:///var/run/docker.sock", docker.endpoint)
    static.write_text(text)
    http, web = free_port(), free_port()
    await anyio.to_thread.run_sync(hello, docker, 1)
    proc, head = serve(static, http, web)
    assert proc.stderr is not None
    url = f"http://127.0.0.1:{http}/"
    try:
        async with Client() as client:
            await until(client, url, {"demo_hello_1"})
            for n in range(2, 6):  # docker-compose scale hello=5
                await anyio.to_thread.run_sync(hello, docker, n)
            five = {f"demo_hello_{n}" for n in range(1, 6)}
            await until(client, url, five)
            assert set((await answers(client, url, 10)).values()) == {2}  # round robin
            stop = partial(docker.cli, "stop", "-t", "1")
            await anyio.to_thread.run_sync(stop, "demo_hello_1", "demo_hello_2", "demo_hello_3")
            left = await until(client, url, {"demo_hello_4", "demo_hello_5"})
            # The article: gone within two seconds (the last stop waits out the 2 s throttle
            # the first one started, counted from before the CLI returned).
            assert left <= 3.0, left  # 1.9 s measured alone
            await anyio.to_thread.run_sync(docker.stop)
            await anyio.sleep(1)  # the provider notices; the routes stay
            assert set(await answers(client, url, 6)) == {"demo_hello_4", "demo_hello_5"}
            await anyio.to_thread.run_sync(docker.start)
            await anyio.to_thread.run_sync(hello, docker, 6)  # seen once the provider is back
            await until(client, url, {"demo_hello_4", "demo_hello_5", "demo_hello_6"}, 20)
            r = await client.get(f"http://127.0.0.1:{web}/api/http/routers")
            assert r.status == 200 and b"frontend-Host-hello-docker-0@docker" in await r.read()
    finally:
        rest = finish(proc, proc.stderr)
    assert f"docker ({docker.endpoint}, watching)" in "".join(head), head
    assert "docker: cannot read" in rest and "reachable again" in rest
