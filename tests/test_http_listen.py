"""Entry points: addresses as Traefik writes them, serving over IPv4 and IPv6, graceful stop."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import anyio.abc
import pytest

from _sockets import read_until_closed
from routekit import ConfigError
from routekit.http import EntryPointServer, RequestHead, Response, parse_address

pytestmark = pytest.mark.anyio
ON_UVLOOP = True  # the data path: asyncio, trio and uvloop


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        (":80", (None, 80)),
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        ("[::1]:8443", ("::1", 8443)),
        (":8000/tcp", (None, 8000)),
        ("localhost:0", ("localhost", 0)),
    ],
)
def test_addresses(address: str, expected: tuple[str | None, int]) -> None:
    assert parse_address(address) == expected


@pytest.mark.parametrize("address", ["80", ":http", ":70000", "::1:80", "[nope]:80", ":53/udp"])
def test_bad_addresses_say_what_is_expected(address: str) -> None:
    with pytest.raises(ConfigError, match="entry point address"):
        parse_address(address)


async def hello(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
    if head.event.target == b"/slow":
        await anyio.sleep(0.3)
    return Response(200, [], b"hello " + head.event.target)


async def get(host: str, port: int, target: bytes = b"/") -> bytes:
    async with await anyio.connect_tcp(host, port) as client:
        await client.send(b"GET %s HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" % target)
        return await read_until_closed(client)


@pytest.mark.parametrize(("address", "host"), [("127.0.0.1:0", "127.0.0.1"), ("[::1]:0", "::1")])
async def test_an_entry_point_serves_ipv4_and_ipv6(address: str, host: str) -> None:
    server = EntryPointServer(address, hello)
    async with anyio.create_task_group() as tg:
        await tg.start(server.serve)
        (port,) = server.ports
        assert (await get(host, port)).endswith(b"hello /")
        server.stop()


async def test_stop_lets_a_request_in_flight_finish_then_refuses_new_ones() -> None:
    server = EntryPointServer("127.0.0.1:0", hello, grace=5)
    async with anyio.create_task_group() as tg:
        await tg.start(server.serve)
        (port,) = server.ports
        answers: list[bytes] = []

        async def slow() -> None:
            answers.append(await get("127.0.0.1", port, b"/slow"))

        tg.start_soon(slow)
        await anyio.sleep(0.1)
        server.stop()
    assert answers and answers[0].endswith(b"hello /slow")
    with pytest.raises(OSError):
        await get("127.0.0.1", port)


async def test_the_grace_period_bounds_a_stop() -> None:
    async def forever(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        await anyio.sleep_forever()
        raise AssertionError

    server = EntryPointServer("127.0.0.1:0", forever, grace=0.2)
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            await tg.start(server.serve)
            (port,) = server.ports
            client = await anyio.connect_tcp("127.0.0.1", port)
            await client.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            await anyio.sleep(0.1)
            server.stop()
        # The stuck request was cancelled after the grace period and its socket closed.
        with pytest.raises((anyio.EndOfStream, anyio.BrokenResourceError)):
            await client.receive()
        await client.aclose()
