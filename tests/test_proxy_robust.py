"""The proxy against hostile and broken peers, over raw sockets: it answers as Traefik does,
keeps serving, and gives back every socket it opened."""

from __future__ import annotations

import re
import resource
from collections.abc import AsyncIterator, Awaitable, Callable

import anyio
import anyio.abc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _routes import one_route
from _sockets import open_sockets, read_until_closed
from routekit.config import loads_config
from routekit.http import (
    Client,
    EntryPointServer,
    PoolLimits,
    RequestHead,
    Response,
    Timeouts,
)
from routekit.proxy import Proxy
from routekit.runtime import Runtime, build

pytestmark = pytest.mark.anyio
ON_UVLOOP = True  # the data path: asyncio, trio and uvloop

Backend = Callable[[anyio.abc.SocketStream], Awaitable[None]]


def runtime_for(port: int) -> Runtime:
    return build(loads_config(one_route(port)))


async def through_proxy(
    raw_backend: Backend | None,
    talk: Callable[[int], Awaitable[None]],
    *,
    handler_backend: EntryPointServer | None = None,
    read_timeout: float = 5,
) -> Runtime:
    """Run *talk(proxy_port)* against a proxy in front of *raw_backend* (a raw socket server)
    or *handler_backend*; check that every task ends and every file descriptor is given back
    afterwards."""
    before = open_sockets()
    async with anyio.create_task_group() as tg:
        listener = None
        if raw_backend is not None:
            listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
            tg.start_soon(listener.serve, raw_backend)
            port = listener.extra(anyio.abc.SocketAttribute.local_port)
        else:
            assert handler_backend is not None
            await tg.start(handler_backend.serve)
            port = handler_backend.ports[0]
        runtime = runtime_for(port)
        async with Client(PoolLimits(read=read_timeout)) as upstream:
            server = EntryPointServer(
                "127.0.0.1:0",
                Proxy(lambda: runtime, entry_point="web", client=upstream),
                timeouts=Timeouts(read_head=1, read_body=1),
            )
            await tg.start(server.serve)
            await talk(server.ports[0])
            with anyio.fail_after(5):  # a connection's task ends a moment after its socket
                while server.open_connections:
                    await anyio.sleep(0.02)
            server.stop()
        if handler_backend is not None:
            handler_backend.stop()
        tg.cancel_scope.cancel()
    if listener is not None:
        await listener.aclose()
    await anyio.sleep(0.05)
    assert open_sockets() - before == set(), "a socket was left open"
    return runtime


async def ask(port: int, raw: bytes) -> bytes:
    async with await anyio.connect_tcp("127.0.0.1", port) as stream:
        await stream.send(raw)
        return await read_until_closed(stream)


GET = b"GET / HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n"


async def reads_all(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
    """A backend that reads the whole body, then answers ok."""
    async for _ in body:
        pass
    return Response(200, [], b"ok")


async def test_an_upstream_answering_garbage_is_502() -> None:
    async def garbage(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            await stream.receive()
            await stream.send(b"SMTP ready\r\n\r\n")

    async def talk(port: int) -> None:
        assert (await ask(port, GET)).startswith(b"HTTP/1.1 502 ")
        assert (await ask(port, GET)).startswith(b"HTTP/1.1 502 ")  # and it keeps serving

    await through_proxy(garbage, talk)


async def test_an_upstream_with_bad_framing_is_502_never_relayed() -> None:
    async def smuggler(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            await stream.receive()
            await stream.send(
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello"
            )

    async def talk(port: int) -> None:
        answer = await ask(port, GET)
        assert answer.startswith(b"HTTP/1.1 502 ") and b"hello" not in answer

    await through_proxy(smuggler, talk)


async def test_an_upstream_closing_before_answering_is_502() -> None:
    async def rude(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            await stream.receive()

    async def talk(port: int) -> None:
        assert (await ask(port, GET)).startswith(b"HTTP/1.1 502 ")

    await through_proxy(rude, talk)


async def test_an_upstream_that_never_answers_is_504() -> None:
    async def silent(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            await stream.receive()
            await anyio.sleep(30)

    async def talk(port: int) -> None:
        started = anyio.current_time()
        answer = await ask(port, GET)
        assert answer.startswith(b"HTTP/1.1 504 ") and b"Gateway Timeout" in answer
        assert anyio.current_time() - started < 3

    await through_proxy(silent, talk, read_timeout=0.3)


async def test_a_backend_dying_mid_response_cuts_the_client_short() -> None:
    async def dying(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            await stream.receive()
            await stream.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 10)
            await anyio.sleep(0.1)  # then the process "dies": the socket closes

    async def talk(port: int) -> None:
        answer = await ask(port, GET)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 ") and b"content-length: 100000" in head
        assert body == b"x" * 10  # closed short: the client can tell it is incomplete
        assert (await ask(port, GET)).startswith(b"HTTP/1.1 200 ")  # still serving

    runtime = await through_proxy(dying, talk)
    (child,) = runtime.services["app"].statistics().children
    assert child.inflight == 0


async def test_a_client_vanishing_mid_body_frees_the_upstream() -> None:
    seen: list[int] = []

    async def handler(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        total = 0
        try:
            async for chunk in body:
                total += len(chunk)
        finally:
            seen.append(total)
        return Response(200, [], b"ok")

    async def talk(port: int) -> None:
        async with await anyio.connect_tcp("127.0.0.1", port) as stream:
            await stream.send(
                b"POST / HTTP/1.1\r\nHost: app.test\r\nContent-Length: 100000\r\n\r\n" + b"y" * 100
            )
            await anyio.sleep(0.2)
        with anyio.fail_after(5):
            while not seen:
                await anyio.sleep(0.02)
        assert seen == [100]  # the backend saw the body end short, not a hang

    await through_proxy(None, talk, handler_backend=EntryPointServer("127.0.0.1:0", handler))


async def test_a_client_that_stops_sending_its_body_is_cut_off() -> None:
    async def talk(port: int) -> None:
        async with await anyio.connect_tcp("127.0.0.1", port) as stream:
            await stream.send(
                b"POST / HTTP/1.1\r\nHost: app.test\r\nContent-Length: 100\r\n\r\n" + b"y" * 10
            )
            started = anyio.current_time()
            await read_until_closed(stream)  # closed by the 1 s body timeout, not held open
            assert anyio.current_time() - started < 4

    await through_proxy(None, talk, handler_backend=EntryPointServer("127.0.0.1:0", reads_all))


async def test_server_sent_events_are_flushed_as_they_come() -> None:
    async def handler(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        async def events() -> AsyncIterator[bytes]:
            yield b"data: one\n\n"
            await anyio.sleep(0.5)
            yield b"data: two\n\n"

        return Response(200, [(b"content-type", b"text/event-stream")], events())

    async def talk(port: int) -> None:
        async with await anyio.connect_tcp("127.0.0.1", port) as stream:
            await stream.send(GET)
            started = anyio.current_time()
            got = b""
            while b"data: one" not in got:
                got += await stream.receive()
            assert anyio.current_time() - started < 0.4  # before the second event exists
            assert b"data: two" not in got
            rest = await read_until_closed(stream)
            assert b"data: two" in rest

    await through_proxy(None, talk, handler_backend=EntryPointServer("127.0.0.1:0", handler))


async def test_expect_100_continue_is_answered_before_the_body_is_sent() -> None:
    async def handler(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        data = b"".join([chunk async for chunk in body])
        return Response(200, [], b"got " + data)

    async def talk(port: int) -> None:
        async with await anyio.connect_tcp("127.0.0.1", port) as stream:
            await stream.send(
                b"PUT / HTTP/1.1\r\nHost: app.test\r\nContent-Length: 5\r\n"
                b"Expect: 100-continue\r\nConnection: close\r\n\r\n"
            )
            with anyio.fail_after(3):
                first = await stream.receive()
            assert first.startswith(b"HTTP/1.1 100 ")
            await stream.send(b"hello")
            answer = await read_until_closed(stream)
            assert b"HTTP/1.1 200 " in answer and answer.endswith(b"got hello")

    await through_proxy(None, talk, handler_backend=EntryPointServer("127.0.0.1:0", handler))


async def test_a_hundred_megabytes_stream_both_ways_in_flat_memory(anyio_backend: str) -> None:
    size = 100 * 1024 * 1024 if anyio_backend == "asyncio" else 20 * 1024 * 1024
    chunk = b"z" * 65536

    async def handler(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        received = 0
        async for piece in body:
            received += len(piece)

        async def answer() -> AsyncIterator[bytes]:
            for _ in range(received // len(chunk)):
                yield chunk

        return Response(200, [(b"content-length", b"%d" % received)], answer())

    async def talk(port: int) -> None:
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        async with Client() as browser:

            async def upload() -> AsyncIterator[bytes]:
                for _ in range(size // len(chunk)):
                    yield chunk

            r = await browser.request(
                "POST",
                f"http://127.0.0.1:{port}/",
                headers=[(b"host", b"app.test"), (b"content-length", b"%d" % size)],
                body=upload(),
            )
            total = 0
            async for piece in r.iter_bytes():
                total += len(piece)
            assert r.status == 200 and total == size
        grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
        assert grown_kib < 40 * 1024, f"peak memory grew by {grown_kib} KiB"

    await through_proxy(None, talk, handler_backend=EntryPointServer("127.0.0.1:0", handler))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    data=st.one_of(
        st.binary(max_size=300),
        st.builds(
            lambda head, cut, junk: head[:cut] + junk + head[cut:],
            st.sampled_from(
                [
                    GET,
                    b"POST / HTTP/1.1\r\nHost: app.test\r\nContent-Length: 3\r\n\r\nabc",
                    b"GET / HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"0\r\n\r\n",
                ]
            ),
            st.integers(0, 60),
            st.binary(min_size=1, max_size=8),
        ),
    )
)
async def test_random_and_mutated_bytes_are_answered_or_closed(data: bytes) -> None:
    async def talk(port: int) -> None:
        async with await anyio.connect_tcp("127.0.0.1", port) as stream:
            await stream.send(data)
            with anyio.move_on_after(0.2):  # what does not end a request waits for more
                await read_until_closed(stream, timeout=3)
        assert (await ask(port, GET)).startswith(b"HTTP/1.1 200 ")  # still serving

    await through_proxy(None, talk, handler_backend=EntryPointServer("127.0.0.1:0", reads_all))


async def test_targets_reach_the_server_unchanged_and_raw_utf8_is_refused() -> None:
    seen: list[bytes] = []

    async def handler(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        seen.append(head.event.target)
        return Response(200, [], b"ok")

    async def talk(port: int) -> None:
        target = b"/caf%C3%A9/a;b=c?q=%E2%82%AC&x=~!*()'"
        raw = b"GET %s HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n" % target
        assert (await ask(port, raw)).startswith(b"HTTP/1.1 200 ")
        # RFC 3986 has no raw non-ASCII in a target; h11 refuses it, and so does the proxy.
        bad = b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n"
        assert (await ask(port, bad)).startswith(b"HTTP/1.1 400 ")

    await through_proxy(None, talk, handler_backend=EntryPointServer("127.0.0.1:0", handler))
    assert seen == [b"/caf%C3%A9/a;b=c?q=%E2%82%AC&x=~!*()'"]


async def test_an_http_1_0_client_is_served_and_never_gets_chunks() -> None:
    async def handler(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        async def parts() -> AsyncIterator[bytes]:
            yield b"one,"
            await anyio.sleep(0.01)
            yield b"two"

        return Response(200, [], parts())  # chunked towards the proxy

    async def talk(port: int) -> None:
        answer = await ask(port, b"GET /x HTTP/1.0\r\nHost: app.test\r\n\r\n")
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 ") and b"chunked" not in head.lower()
        assert body == b"one,two"  # delimited by the close, as HTTP/1.0 reads it
        no_host = await ask(port, b"GET / HTTP/1.0\r\n\r\n")
        assert no_host.startswith(b"HTTP/1.1 404 ")  # no Host: no Host rule matches

    await through_proxy(None, talk, handler_backend=EntryPointServer("127.0.0.1:0", handler))


async def test_a_get_on_a_kept_alive_connection_the_server_closed_is_sent_again() -> None:
    async def one_then_close(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            await stream.receive()
            await stream.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await anyio.sleep(0.05)  # then the server closes its idle connection

    async def talk(port: int) -> None:
        assert (await ask(port, GET)).startswith(b"HTTP/1.1 200 ")
        await anyio.sleep(0.3)  # the pooled upstream connection is closed by now
        # The proxy's pool still holds it; the bodiless GET is replayed on a fresh one.
        assert (await ask(port, GET)).startswith(b"HTTP/1.1 200 ")

    await through_proxy(one_then_close, talk)


async def test_a_client_leaving_mid_response_frees_the_upstream_and_the_lease() -> None:
    async def endless(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            while True:
                yield b"x" * 65536
                await anyio.sleep(0.001)

        return Response(200, [], chunks())

    async def talk(port: int) -> None:
        async with await anyio.connect_tcp("127.0.0.1", port) as stream:
            await stream.send(GET)
            got = 0
            while got < 500_000:
                got += len(await stream.receive())
        # The client is gone: the proxy stops reading the server, closes its connection.

    runtime = await through_proxy(
        None, talk, handler_backend=EntryPointServer("127.0.0.1:0", endless)
    )
    (child,) = runtime.services["app"].statistics().children
    assert child.inflight == 0


async def test_one_upstream_connection_serves_requests_in_turn_and_pipelined() -> None:
    accepted: list[int] = []

    async def counting(stream: anyio.abc.SocketStream) -> None:
        accepted.append(1)
        async with stream:
            pending = b""
            while True:
                try:
                    pending += await stream.receive()
                except (anyio.EndOfStream, anyio.BrokenResourceError):
                    return
                while b"\r\n\r\n" in pending:
                    request, _, pending = pending.partition(b"\r\n\r\n")
                    if b" /empty " in request:
                        await stream.send(b"HTTP/1.1 204 No Content\r\n\r\n")
                    elif request.startswith(b"HEAD "):  # the length, and no body
                        await stream.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n")
                    else:
                        await stream.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")

    async def talk(port: int) -> None:
        for _ in range(5):
            assert (await ask(port, GET)).endswith(b"hi")
        # Three pipelined requests on one client connection, answered in order.
        pipelined = (
            b"GET /a HTTP/1.1\r\nHost: app.test\r\n\r\n"
            b"GET /empty HTTP/1.1\r\nHost: app.test\r\n\r\n"
            b"HEAD /c HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n"
        )
        answer = await ask(port, pipelined)
        assert re.findall(rb"HTTP/1\.1 (\d{3}) ", answer) == [b"200", b"204", b"200"]
        assert answer.count(b"hi") == 1  # the 204 and the HEAD answer carry no body
        assert answer.endswith(b"Connection: close\r\n\r\n")

    await through_proxy(counting, talk)
    assert len(accepted) == 1  # every request went over the one kept-alive connection
