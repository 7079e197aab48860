"""The pooled client against real servers on 127.0.0.1 and a unix socket, on asyncio and trio."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import anyio.abc
import pytest

from routekit.http import (
    Client,
    EntryPointServer,
    Origin,
    PoolLimits,
    RequestHead,
    Response,
    UpstreamError,
    UpstreamTimeout,
    client_context,
    serve_connection,
)

pytestmark = pytest.mark.anyio
ON_UVLOOP = True  # the data path: asyncio, trio and uvloop


async def backend(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
    data = b"".join([chunk async for chunk in body])
    if head.event.target == b"/stream":

        async def chunks() -> AsyncIterator[bytes]:
            for i in range(3):
                await anyio.sleep(0.01)  # apart, so that each one arrives on its own
                yield b"part%d;" % i

        return Response(200, [], chunks())
    return Response(201, [(b"x-seen", b"%d" % len(data))], b"%s %s" % (head.event.method, data))


async def test_requests_reuse_a_kept_alive_connection() -> None:
    server = EntryPointServer("127.0.0.1:0", backend)
    async with anyio.create_task_group() as tg:
        await tg.start(server.serve)
        url = f"http://127.0.0.1:{server.ports[0]}"
        async with Client() as client:
            first = await client.request("POST", url + "/x", body=b"hello")
            assert first.status == 201 and (b"x-seen", b"5") in first.headers
            # A small answer comes whole with its head: its connection is free at once.
            origin = Origin.from_url(url)
            assert first.complete == b"POST hello" and client.idle_connections(origin) == 1
            assert await first.read() == b"POST hello"
            second = await client.get(url + "/y")
            assert await second.read() == b"GET "
            assert client.idle_connections(origin) == 1  # the same connection, back again
            streamed = await client.request("GET", url + "/stream")
            assert streamed.complete is None
            assert [c async for c in streamed.iter_bytes()] == [b"part0;", b"part1;", b"part2;"]
        server.stop()


async def test_a_stale_kept_alive_connection_is_replaced_once() -> None:
    server = EntryPointServer("127.0.0.1:0", backend)
    async with anyio.create_task_group() as tg:
        await tg.start(server.serve)
        port = server.ports[0]
        async with Client() as client:
            await (await client.request("GET", f"http://127.0.0.1:{port}/a")).read()
            server.stop()  # the server closes its idle connections
            await anyio.sleep(0.1)
            replacement = EntryPointServer(f"127.0.0.1:{port}", backend)
            await tg.start(replacement.serve)
            again = await client.request("GET", f"http://127.0.0.1:{port}/b")
            assert await again.read() == b"GET "  # sent again on a fresh connection
            replacement.stop()


async def test_an_unreachable_origin_is_an_upstream_error_naming_it() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with Client() as client:
        with pytest.raises(UpstreamError, match=f"http://127.0.0.1:{port}: cannot connect"):
            await client.request("GET", f"http://127.0.0.1:{port}/")


async def raw_server(answer: bytes, task_status: anyio.abc.TaskStatus[int]) -> None:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)

    async def one(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            await stream.receive()
            if answer:
                await stream.send(answer)
                await stream.send_eof()
            else:
                await anyio.sleep_forever()

    async with listener:
        task_status.started(listener.extra(anyio.abc.SocketAttribute.local_port))
        await listener.serve(one)


async def test_garbage_from_the_upstream_is_an_upstream_error() -> None:
    async with anyio.create_task_group() as tg:
        port = await tg.start(raw_server, b"NOT HTTP AT ALL\r\n\r\n")
        async with Client() as client:
            with pytest.raises(UpstreamError, match="invalid response"):
                await client.request("GET", f"http://127.0.0.1:{port}/")
        tg.cancel_scope.cancel()


async def test_an_upstream_that_never_answers_times_out() -> None:
    async with anyio.create_task_group() as tg:
        port = await tg.start(raw_server, b"")
        async with Client(PoolLimits(read=0.2)) as client:
            with pytest.raises(UpstreamTimeout, match="no answer"):
                await client.request("GET", f"http://127.0.0.1:{port}/")
        tg.cancel_scope.cancel()


async def test_a_unix_socket_origin(tmp_path: Path) -> None:
    path = str(tmp_path / "api.sock")
    listener = await anyio.create_unix_listener(path)

    async def one(stream: anyio.abc.SocketStream) -> None:
        await serve_connection(stream, backend)

    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, one)
        async with Client() as client:
            # Connection: close lets the server end the connection itself: cancelling anyio's
            # unix-socket receive while the socket turns readable trips an anyio race (a
            # reader callback on a cancelled future) that has nothing to do with the client.
            response = await client.request(
                "GET",
                "http://localhost/version",
                headers=[(b"connection", b"close")],
                origin=Origin.from_url(f"unix://{path}"),
            )
            assert response.status == 201 and await response.read() == b"GET "
        tg.cancel_scope.cancel()


async def test_a_body_given_up_over_tls_closes_at_once(tmp_path: Path) -> None:
    """A streamed answer abandoned mid-body (a watch, an event stream) is dropped without
    waiting for the server's close_notify, which a server busy writing may never send."""
    from _certs import make_tls

    tls = make_tls(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(tls / "server.pem"), str(tls / "server-key.pem"))
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    done = threading.Event()

    def serve() -> None:
        raw, _ = listener.accept()
        with context.wrap_socket(raw, server_side=True) as conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
            done.wait(10)  # writes nothing more, reads nothing: no close_notify answered

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        async with Client(ssl_context=client_context(root_cas=[str(tls / "ca.pem")])) as client:
            response = await client.request("GET", f"https://127.0.0.1:{port}/watch")
            chunks = response.iter_bytes()
            assert await chunks.__anext__() == b"first"
            started = anyio.current_time()
            await response.aclose()
            assert anyio.current_time() - started < 1
    finally:
        done.set()
        thread.join()
        listener.close()
