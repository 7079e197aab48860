"""`routekit serve` following each KV store: etcd, Redis and ZooKeeper (real servers) and
Consul KV (the stand-in of tests/_consul.py, as no Consul runs here)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio.to_thread
import pytest

from _backends import backends, until
from _consul import Consul
from _etcd import etcd, service
from _process import finish, spawn
from _redis import redis_server
from _sockets import free_port
from _zookeeper import zookeeper
from routekit.http import Client

pytestmark = pytest.mark.anyio

Writer = Callable[[dict[str, str]], None]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@contextmanager
def store(kind: str, root: Path) -> Iterator[tuple[str, Writer]]:
    """A started server of *kind*: the `serve` flag naming it, and a way to write keys."""
    if kind == "etcd":
        with etcd(root) as cluster:

            def put(keys: dict[str, str]) -> None:
                for key, value in keys.items():
                    cluster.put(key, value)

            yield f"--providers.etcd.endpoints={cluster.endpoint}", put
    elif kind == "consul":
        agent = Consul()
        agent.start()

        def put_kv(keys: dict[str, str]) -> None:
            for key, value in keys.items():
                agent.kv_put(key, value.encode())

        try:
            yield f"--providers.consul.endpoints={agent.address}", put_kv
        finally:
            agent.stop()
    elif kind == "redis":
        with redis_server(root) as server:
            yield f"--providers.redis.endpoints={server.endpoint}", server.set_all
    else:
        with zookeeper(root) as zk:
            yield f"--providers.zooKeeper.endpoints={zk.endpoint}", zk.set_all


@pytest.mark.parametrize("kind", ["etcd", "redis", "zookeeper", "consul"])
async def test_serve_follows_the_store(kind: str, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with store(kind, tmp_path) as (flag, write):
        async with backends("a", "b") as ports, Client() as client:
            a, b = (f"http://127.0.0.1:{ports[n]}" for n in "ab")
            await anyio.to_thread.run_sync(write, service("hello", a))
            proc, head = spawn(
                "serve", f"--entryPoints.web.address=127.0.0.1:{port}", flag,
                "--providers.providersThrottleDuration=0s", "--log.level=INFO",
                ready=lambda line: "routekit serve: web on" in line,
            )  # fmt: skip
            assert proc.stderr is not None
            try:
                await until(client, url, b"hello.test", {"a"})
                key = "traefik/http/services/hello/loadbalancer/servers/0/url"
                await anyio.to_thread.run_sync(write, {key: b})
                await until(client, url, b"hello.test", {"b"})
            finally:
                said = "".join(head) + finish(proc, proc.stderr)
    name = {"zookeeper": "zooKeeper"}.get(kind, kind)
    assert f"providers: {name} (" in said, said
