"""Upgrades through the proxy: a real WebSocket client and server (wsproto) on both ends."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import anyio.abc
import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Message,
    RejectConnection,
    Request,
    TextMessage,
)

from _routes import one_route
from _sockets import read_until_closed
from routekit.config import loads_config
from routekit.http import Client, EntryPointServer
from routekit.proxy import Proxy
from routekit.runtime import build

pytestmark = pytest.mark.anyio
ON_UVLOOP = True  # the data path: asyncio, trio and uvloop


async def ws_echo(stream: anyio.abc.SocketStream) -> None:
    """A WebSocket server that echoes each message, upper-cased, and says hello first."""
    ws = WSConnection(ConnectionType.SERVER)
    async with stream:
        while True:
            try:
                data = await stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                return
            ws.receive_data(data)
            for event in ws.events():
                if isinstance(event, Request):
                    await stream.send(ws.send(AcceptConnection()))
                    await stream.send(ws.send(TextMessage(data="hello")))
                elif isinstance(event, TextMessage):
                    await stream.send(ws.send(TextMessage(data=event.data.upper())))
                elif isinstance(event, BytesMessage):
                    await stream.send(ws.send(BytesMessage(data=bytes(event.data)[::-1])))
                elif isinstance(event, CloseConnection):
                    await stream.send(ws.send(event.response()))
                    return


class WsClient:
    """A wsproto client on a raw socket."""

    def __init__(self, stream: anyio.abc.SocketStream) -> None:
        self.stream = stream
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.pending: list[object] = []

    async def event(self) -> object:
        """The next event from the server, reading as much as it takes."""
        while not self.pending:
            with anyio.fail_after(5):
                data = await self.stream.receive()
            self.ws.receive_data(data)
            self.pending.extend(self.ws.events())
        return self.pending.pop(0)

    async def handshake(self, host: str) -> object:
        await self.stream.send(self.ws.send(Request(host=host, target="/chat")))
        return await self.event()

    async def message(self) -> str | bytes:
        while True:
            event = await self.event()
            if isinstance(event, Message):
                return event.data  # type: ignore[no-any-return]


@pytest.fixture
async def gateway() -> AsyncIterator[tuple[int, Proxy]]:
    backend = await anyio.create_tcp_listener(local_host="127.0.0.1")
    async with backend, anyio.create_task_group() as tg:
        tg.start_soon(backend.serve, ws_echo)
        port = backend.extra(anyio.abc.SocketAttribute.local_port)
        runtime = build(loads_config(one_route(port, "chat.docker")))
        async with Client() as upstream:
            proxy = Proxy(lambda: runtime, entry_point="web", client=upstream, tunnel_idle=0.5)
            server = EntryPointServer("127.0.0.1:0", proxy)
            await tg.start(server.serve)
            yield server.ports[0], proxy
            server.stop()
        tg.cancel_scope.cancel()


async def test_websocket_messages_pass_both_ways_through_the_proxy(
    gateway: tuple[int, Proxy],
) -> None:
    port, _ = gateway
    async with await anyio.connect_tcp("127.0.0.1", port) as stream:
        client = WsClient(stream)
        assert isinstance(await client.handshake("chat.docker"), AcceptConnection)
        assert await client.message() == "hello"  # the server speaks first
        for text in ["one", "two", "three"]:
            await stream.send(client.ws.send(TextMessage(data=text)))
            assert await client.message() == text.upper()
        await stream.send(client.ws.send(BytesMessage(data=b"\x00\x01\x02")))
        assert await client.message() == b"\x02\x01\x00"
        await stream.send(client.ws.send(CloseConnection(code=1000)))
        event = await client.event()
        assert isinstance(event, CloseConnection) and event.code == 1000
        # The server closed its side: the tunnel closes the client's too.
        assert await read_until_closed(stream) == b""


async def test_an_upgrade_to_an_unknown_host_is_404(gateway: tuple[int, Proxy]) -> None:
    port, _ = gateway
    async with await anyio.connect_tcp("127.0.0.1", port) as stream:
        answer = await WsClient(stream).handshake("nobody.docker")
        assert isinstance(answer, RejectConnection) and answer.status_code == 404


async def test_a_quiet_tunnel_is_closed_after_its_idle_time(gateway: tuple[int, Proxy]) -> None:
    port, _ = gateway
    async with await anyio.connect_tcp("127.0.0.1", port) as stream:
        client = WsClient(stream)
        assert isinstance(await client.handshake("chat.docker"), AcceptConnection)
        assert await client.message() == "hello"
        started = anyio.current_time()
        assert await read_until_closed(stream) == b""  # nothing more, then the close
        assert 0.3 < anyio.current_time() - started < 3


async def test_a_server_switching_to_another_protocol_is_502() -> None:
    async def liar(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            await stream.receive()
            await stream.send(
                b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
            )
            await anyio.sleep(5)

    backend = await anyio.create_tcp_listener(local_host="127.0.0.1")
    async with backend, anyio.create_task_group() as tg:
        tg.start_soon(backend.serve, liar)
        port = backend.extra(anyio.abc.SocketAttribute.local_port)
        runtime = build(loads_config(one_route(port, "chat.docker")))
        async with Client() as upstream:
            server = EntryPointServer(
                "127.0.0.1:0", Proxy(lambda: runtime, entry_point="web", client=upstream)
            )
            await tg.start(server.serve)
            async with await anyio.connect_tcp("127.0.0.1", server.ports[0]) as stream:
                answer = await WsClient(stream).handshake("chat.docker")
                assert isinstance(answer, RejectConnection) and answer.status_code == 502
            server.stop()
        tg.cancel_scope.cancel()


async def test_connect_is_not_a_forward_proxy(gateway: tuple[int, Proxy]) -> None:
    port, _ = gateway
    async with await anyio.connect_tcp("127.0.0.1", port) as stream:
        await stream.send(b"CONNECT chat.docker:443 HTTP/1.1\r\nHost: chat.docker:443\r\n\r\n")
        answer = await stream.receive()
        assert answer.startswith(b"HTTP/1.1 501 ")
