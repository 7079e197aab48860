"""Servers transports (TLS to upstreams, verification, CAs, server name) and pool bounds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
import trustme

from routekit.config import loads_config
from routekit.http import (
    Certificates,
    Client,
    EntryPointServer,
    Origin,
    PoolFull,
    PoolLimits,
    RequestHead,
    Response,
)
from routekit.proxy import Proxy
from routekit.runtime import build

pytestmark = pytest.mark.anyio
ON_UVLOOP = True  # the data path: asyncio, trio and uvloop


async def hello(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
    return Response(200, [], b"secure hello" if head.tls else b"plain hello")


def tls_backend(ca: trustme.CA, tmp_path: Path, *names: str) -> EntryPointServer:
    issued = ca.issue_cert(*names)
    cert, key = tmp_path / "backend.crt", tmp_path / "backend.key"
    cert.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    key.write_bytes(issued.private_key_pem.bytes())
    certificates = Certificates([(str(cert), str(key))])
    return EntryPointServer("127.0.0.1:0", hello, certificates=lambda: certificates, tls_only=True)


def config(port: int, transport: str) -> str:
    return f"""
[http.routers.r]
rule = "Host(`app.test`)"
service = "s"
[http.services.s.loadBalancer]
serversTransport = "t"
servers = [{{url = "https://127.0.0.1:{port}"}}]
[http.serversTransports.t]
{transport}
"""


async def status_through(port: int, transport: str) -> tuple[int, bytes]:
    runtime = build(loads_config(config(port, transport)))
    assert not [p for p in runtime.problems if p.severity == "error"], runtime.problems
    async with anyio.create_task_group() as tg, Client() as upstream, Client() as browser:
        proxy = Proxy(lambda: runtime, entry_point="web", client=upstream)
        server = EntryPointServer("127.0.0.1:0", proxy)
        await tg.start(server.serve)
        r = await browser.request(
            "GET", f"http://127.0.0.1:{server.ports[0]}/", headers=[(b"host", b"app.test")]
        )
        answer = (r.status, await r.read())
        server.stop()
        await proxy.aclose()
    return answer


async def test_tls_to_upstreams_verifies_with_the_transports_cas(tmp_path: Path) -> None:
    ca = trustme.CA()
    backend = tls_backend(ca, tmp_path, "127.0.0.1", "backend.test")
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(ca.cert_pem.bytes())
    async with anyio.create_task_group() as tg:
        await tg.start(backend.serve)
        port = backend.ports[0]
        assert await status_through(port, f'rootCAs = ["{ca_file}"]') == (200, b"secure hello")
        # An unknown CA fails verification: a bad gateway, not a silent insecure link.
        assert (await status_through(port, 'serverName = ""'))[0] == 502
        assert await status_through(port, "insecureSkipVerify = true") == (200, b"secure hello")
        named = f'rootCAs = ["{ca_file}"]\nserverName = "backend.test"'
        assert await status_through(port, named) == (200, b"secure hello")
        wrong = f'rootCAs = ["{ca_file}"]\nserverName = "other.test"'
        assert (await status_through(port, wrong))[0] == 502
        backend.stop()


def test_an_unknown_servers_transport_leaves_the_router_out() -> None:
    runtime = build(
        loads_config(
            config(1, "insecureSkipVerify = true").replace('serversTransport = "t"', "")
            + '[http.services.s2.loadBalancer]\nserversTransport = "nope"\n'
            'servers = [{url = "http://127.0.0.1:1"}]\n'
            '[http.routers.r2]\nrule = "Host(`b.test`)"\nservice = "s2"\n'
        )
    )
    assert "r2" not in {r.name for t in runtime.tables.values() for r in t}
    assert any("nope" in p.message for p in runtime.problems)


async def test_the_pool_bounds_connections_per_origin_and_in_total() -> None:
    release = anyio.Event()

    async def slow(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        await release.wait()
        return Response(200, [], b"done")

    one, two = EntryPointServer("127.0.0.1:0", slow), EntryPointServer("127.0.0.1:0", slow)
    async with anyio.create_task_group() as tg:
        await tg.start(one.serve)
        await tg.start(two.serve)
        async with Client(PoolLimits(per_origin=1, total=1, pool=0.2)) as client:
            statuses: list[int] = []

            async def first() -> None:
                r = await client.request("GET", f"http://127.0.0.1:{one.ports[0]}/")
                statuses.append(r.status)
                await r.read()

            tg.start_soon(first)
            await anyio.sleep(0.1)
            with pytest.raises(PoolFull, match="no free connection"):
                await client.request("GET", f"http://127.0.0.1:{one.ports[0]}/")
            with pytest.raises(PoolFull):  # another origin, but the total is taken too
                await client.request("GET", f"http://127.0.0.1:{two.ports[0]}/")
            release.set()
            await anyio.sleep(0.1)
            assert statuses == [200]
            r = await client.request("GET", f"http://127.0.0.1:{two.ports[0]}/")
            assert await r.read() == b"done"
            assert client.idle_connections(Origin.from_url(f"http://127.0.0.1:{two.ports[0]}"))
        one.stop()
        two.stop()


async def test_each_leaf_of_a_weighted_service_uses_its_own_transport(tmp_path: Path) -> None:
    ca = trustme.CA()
    secure = tls_backend(ca, tmp_path, "127.0.0.1")
    plain = EntryPointServer("127.0.0.1:0", hello)
    async with anyio.create_task_group() as tg:
        await tg.start(secure.serve)
        await tg.start(plain.serve)
        runtime = build(
            loads_config(f"""
[http.routers.r]
rule = "Host(`app.test`)"
service = "both"
[[http.services.both.weighted.services]]
name = "tls"
[[http.services.both.weighted.services]]
name = "clear"
[http.services.tls.loadBalancer]
serversTransport = "skip"
servers = [{{url = "https://127.0.0.1:{secure.ports[0]}"}}]
[http.services.clear.loadBalancer]
servers = [{{url = "http://127.0.0.1:{plain.ports[0]}"}}]
[http.serversTransports.skip]
insecureSkipVerify = true
""")
        )
        async with Client() as upstream, Client() as browser:
            proxy = Proxy(lambda: runtime, entry_point="web", client=upstream)
            server = EntryPointServer("127.0.0.1:0", proxy)
            await tg.start(server.serve)
            answers = set()
            for _ in range(4):
                r = await browser.request(
                    "GET", f"http://127.0.0.1:{server.ports[0]}/", headers=[(b"host", b"app.test")]
                )
                answers.add((r.status, await r.read()))
            assert answers == {(200, b"secure hello"), (200, b"plain hello")}
            server.stop()
            await proxy.aclose()
        secure.stop()
        plain.stop()
