"""Several `routekit serve` gateways following one etcd: they converge, outlive it, catch up.

The set-up of docs/scaling.md: stateless gateways on different ports (in production, different
machines behind a TCP load balancer or DNS), each with the etcd provider and the same endpoints.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import anyio
import anyio.to_thread
import pytest

from _backends import backends, names, until
from _etcd import etcd, service
from _process import finish, spawn
from _sockets import free_port
from routekit.http import Client

pytestmark = pytest.mark.anyio
THROTTLE = 0.5  # providersThrottleDuration of each gateway, in seconds


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def gateway(port: int, endpoints: list[str]) -> subprocess.Popen[str]:
    """``routekit serve`` on 127.0.0.1:*port*, configured by flags alone."""
    proc, _ = spawn(
        "serve", f"--entryPoints.web.address=127.0.0.1:{port}",
        f"--providers.etcd.endpoints={','.join(endpoints)}",
        f"--providers.providersThrottleDuration={int(THROTTLE * 1000)}ms", "--log.level=INFO",
        ready=lambda line: "routekit serve: web on" in line,
    )  # fmt: skip
    return proc


async def test_gateways_sharing_one_etcd(tmp_path: Path) -> None:
    ports = [free_port() for _ in range(3)]
    urls = [f"http://127.0.0.1:{p}/" for p in ports]
    host = b"hello.test"
    with etcd(tmp_path) as store:
        async with backends("a", "b", "c") as backend, Client() as client:
            a, b, c = (f"http://127.0.0.1:{backend[n]}" for n in "abc")
            for key, value in service("hello", a).items():
                store.put(key, value)
            procs = [gateway(p, store.endpoints) for p in ports]
            try:
                for url in urls:
                    await until(client, url, host, {"a"})

                # One change converges on every gateway within a second plus the throttle.
                key = "traefik/http/services/hello/loadbalancer/servers/0/url"
                store.put(key, b)
                start = time.monotonic()
                for url in urls:
                    await until(client, url, host, {"b"})
                converged = time.monotonic() - start
                assert converged <= 1 + THROTTLE, converged

                # etcd gone: every gateway keeps serving what it had.
                store.members[0].kill()
                await anyio.sleep(1)
                for url in urls:
                    assert set(await names(client, url, host, 3)) == {"b"}

                # etcd back: every gateway follows it again.
                await anyio.to_thread.run_sync(store.restart, store.members[0])
                for k, v in service("second", c).items():
                    store.put(k, v)
                for url in urls:
                    await until(client, url, b"second.test", {"c"}, within=20)

                # A gateway killed (no clean stop) and started again catches up from the store.
                procs[2].send_signal(signal.SIGKILL)
                procs[2].wait(timeout=30)
                assert procs[2].stderr is not None
                procs[2].stderr.close()
                store.put(key, a)
                procs[2] = gateway(ports[2], store.endpoints)
                for url in urls:
                    await until(client, url, host, {"a"})
            finally:
                for proc in procs:
                    if proc.poll() is None:
                        assert proc.stderr is not None
                        finish(proc, proc.stderr)


async def test_gateways_follow_the_quorum_of_a_three_member_cluster(tmp_path: Path) -> None:
    ports = [free_port() for _ in range(2)]
    urls = [f"http://127.0.0.1:{p}/" for p in ports]
    host = b"hello.test"
    with etcd(tmp_path, size=3) as cluster:
        async with backends("a", "b") as backend, Client() as client:
            a, b = (f"http://127.0.0.1:{backend[n]}" for n in "ab")
            for key, value in service("hello", a).items():
                cluster.put(key, value)
            procs = [gateway(p, cluster.endpoints) for p in ports]
            try:
                for url in urls:
                    await until(client, url, host, {"a"})
                # The member every gateway reads from first dies; the other two keep a quorum.
                cluster.members[0].kill()
                key = "traefik/http/services/hello/loadbalancer/servers/0/url"
                await anyio.to_thread.run_sync(cluster.put, key, b)
                for url in urls:
                    await until(client, url, host, {"b"}, within=20)
            finally:
                for proc in procs:
                    assert proc.stderr is not None
                    rest = finish(proc, proc.stderr)
                    assert "etcd: cannot read" in rest, rest  # the dead member, reported
