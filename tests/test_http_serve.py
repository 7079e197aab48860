"""`serve_connection` over real sockets on 127.0.0.1, on asyncio and trio, driven by raw bytes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import anyio
import anyio.abc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _sockets import open_sockets, read_until_closed
from routekit.http import Drain, RequestHead, Response, Timeouts, serve_connection

pytestmark = pytest.mark.anyio
ON_UVLOOP = True  # the data path: asyncio, trio and uvloop


async def echo(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
    data = b"".join([chunk async for chunk in body])
    text = b"%s %s %d" % (head.event.method, head.event.target, len(data))
    return Response(200, [(b"content-type", b"text/plain")], text)


async def streamed(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        for part in (b"a", b"b", b"c"):
            yield part

    return Response(200, [], chunks())


async def broken(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
    raise RuntimeError("a bug in the handler")


async def exchange(
    raw: bytes,
    handler: Callable[[RequestHead, AsyncIterator[bytes]], Awaitable[Response]] = echo,
    *,
    timeouts: Timeouts | None = None,
    pause: float = 0.0,
    half_close: bool = False,
) -> bytes:
    """Send *raw* to a fresh server connection; return everything it answered until it closed.

    Every socket the exchange opened is closed again when it returns (checked).
    """
    sockets = open_sockets()
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    done = anyio.Event()

    async def one(stream: anyio.abc.SocketStream) -> None:
        try:
            await serve_connection(stream, handler, timeouts=timeouts)
        finally:
            done.set()

    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, one)
        async with await anyio.connect_tcp("127.0.0.1", port) as client:
            await client.send(raw)
            if half_close:
                await client.send_eof()
            if pause:
                await anyio.sleep(pause)
            received = await read_until_closed(client)
        with anyio.fail_after(5):
            await done.wait()
        tg.cancel_scope.cancel()
    assert open_sockets() <= sockets, "a socket was left open"
    return received


async def test_a_request_with_a_body_is_answered() -> None:
    out = await exchange(
        b"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
    )
    assert out.startswith(b"HTTP/1.1 200 ")
    assert out.endswith(b"POST /upload 5")


async def test_keep_alive_and_pipelining_answer_in_order() -> None:
    out = await exchange(
        b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
        b"GET /2 HTTP/1.1\r\nHost: a\r\n\r\n"
        b"GET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    )
    assert out.count(b"HTTP/1.1 200 ") == 3
    assert out.index(b"GET /1 0") < out.index(b"GET /2 0") < out.index(b"GET /3 0")


async def test_a_streamed_response_is_chunked() -> None:
    out = await exchange(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", streamed)
    assert b"transfer-encoding: chunked" in out.lower()
    assert out.endswith(b"1\r\na\r\n1\r\nb\r\n1\r\nc\r\n0\r\n\r\n")


async def test_head_and_204_carry_no_body() -> None:
    out = await exchange(b"HEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 ") and out.endswith(b"\r\n\r\n")


async def test_a_smuggling_attempt_is_refused_and_closed() -> None:
    out = await exchange(
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\nGET /admin HTTP/1.1\r\nHost: a\r\n\r\n"
    )
    assert out.startswith(b"HTTP/1.1 400 ")
    assert b"/admin" not in out and out.count(b"HTTP/1.1") == 1


async def test_a_trickled_head_gets_408() -> None:
    out = await exchange(
        b"GET / HTTP/1.1\r\nHo", timeouts=Timeouts(read_head=0.2, idle=5), pause=0.5
    )
    assert out.startswith(b"HTTP/1.1 408 ")


async def test_an_idle_kept_alive_connection_is_closed_quietly() -> None:
    out = await exchange(
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", timeouts=Timeouts(read_head=5, idle=0.2)
    )
    assert out.count(b"HTTP/1.1 ") == 1  # the answer, then a close without a 408


async def test_a_handler_bug_is_a_500_and_the_server_goes_on() -> None:
    out = await exchange(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", broken)
    assert out.startswith(b"HTTP/1.1 500 ")
    assert b"a bug in the handler" not in out  # nothing leaks to the client


async def test_a_client_that_stops_sending_its_body_is_let_go() -> None:
    out = await exchange(
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly some",
        timeouts=Timeouts(read_body=0.2),
    )
    assert out == b""  # no answer is owed to a request never finished; the socket is closed


async def test_a_client_that_leaves_mid_body_ends_the_connection() -> None:
    out = await exchange(
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly some", half_close=True
    )
    assert out == b""


_PIECES = st.sampled_from(
    [
        b"GET / HTTP/1.1\r\n",
        b"POST /x HTTP/1.1\r\n",
        b"Host: a\r\n",
        b"Content-Length: 3\r\n",
        b"Transfer-Encoding: chunked\r\n",
        b"Connection: close\r\n",
        b"\r\n",
        b"abc",
        b"3\r\nabc\r\n0\r\n\r\n",
        b" folded\r\n",
        b"\x00\xff",
    ]
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_PIECES, max_size=10), st.sampled_from(["asyncio", "trio"]))
def test_random_requests_at_a_live_server_are_answered_or_closed(
    pieces: list[bytes], backend: str
) -> None:
    raw = b"".join(pieces)

    async def main() -> bytes:
        return await exchange(raw, timeouts=Timeouts(read_head=0.3, idle=0.3, read_body=0.3))

    out = anyio.run(main, backend=backend)  # serve_connection raising would fail here
    assert out == b"" or out.startswith(b"HTTP/1.1 ")


async def test_a_drain_closes_idle_connections_and_lets_busy_ones_finish() -> None:
    drain = Drain()
    started = anyio.Event()

    async def slow(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        if head.event.target == b"/slow":
            started.set()
            await anyio.sleep(0.3)
        return Response(200, [], b"done " + head.event.target)

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    closed = 0

    async def one(stream: anyio.abc.SocketStream) -> None:
        nonlocal closed
        await serve_connection(stream, slow, drain=drain)
        closed += 1

    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, one)
        idle = await anyio.connect_tcp("127.0.0.1", port)
        busy = await anyio.connect_tcp("127.0.0.1", port)
        await idle.send(b"GET /fast HTTP/1.1\r\nHost: a\r\n\r\n")
        first = b""
        with anyio.fail_after(5):
            while not first.endswith(b"done /fast"):  # head and body may come apart
                first += await idle.receive()
        # Kept alive: it now waits for a next request.
        await busy.send(b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
        await started.wait()
        drain.start()
        assert await read_until_closed(idle) == b""  # closed at once, not after the idle timeout
        answer = await read_until_closed(busy)  # finished its request, then closed
        assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"done /slow")
        assert b"connection: close" in answer.lower()
        await idle.aclose()
        await busy.aclose()
        with anyio.fail_after(5):
            while closed < 2:
                await anyio.sleep(0.01)
        tg.cancel_scope.cancel()


async def ignores_body(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
    return Response(200, [], b"ok")


async def test_a_body_the_handler_ignored_is_read_so_the_next_request_is_served() -> None:
    small = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
    get = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
    close = b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    out = await exchange(get + small + close, ignores_body)
    assert out.count(b"HTTP/1.1 200 ") == 3
    # Past 256 KiB of unread body the connection is closed instead of read to its end.
    big = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % (1 << 20)
    out = await exchange(big + b"x" * (1 << 20) + close, ignores_body)
    assert out.count(b"HTTP/1.1 200 ") == 1
