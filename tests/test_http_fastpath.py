"""The strict fast path beside h11, checked against h11 itself.

For every generated or mutated head, the fast path either declines it (h11 then reads it, as
before) or reads exactly what h11 reads: method, target, version, fields, framing and the
keep-alive decision.  What it writes (responses, requests) is h11's bytes, byte for byte.  A
`ServerConnection` on the fast path and one on h11 alone see the same byte streams, cut anywhere,
and must give the same events, the same answers and the same end; over real sockets, the same
pipelined requests get the same bytes back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import h11
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routekit.http import (
    Body,
    Client,
    EndOfMessage,
    Limits,
    Origin,
    Refused,
    RequestHead,
    Response,
    ServerConnection,
    UpstreamError,
    serve_connection,
)
from routekit.http._fast import parse_request_head, parse_response_head, request_bytes

Fields = list[tuple[bytes, bytes]]

# --- generated heads --------------------------------------------------------------------------

_METHODS = st.sampled_from(
    [b"GET", b"POST", b"PUT", b"HEAD", b"DELETE", b"OPTIONS", b"CONNECT", b"PATCH", b"G@T", b"get"]
)
_TARGETS = st.sampled_from(
    [
        b"/",
        b"/a/b?x=1&y=%20",
        b"/caf\xc3\xa9",
        b"*",
        b"http://a.example/x",
        b"a.example:443",
        b"/a b",
        b"/a\x7f",
        b"//x",
        b"/" + b"p" * 300,
    ]
)
_VERSIONS = st.sampled_from([b"1.1", b"1.1", b"1.0", b"1.2", b"2.0", b"0.9"])
_NAMES = st.sampled_from(
    [
        b"Host",
        b"host",
        b"HOST",
        b"Content-Length",
        b"content-length",
        b"Transfer-Encoding",
        b"Connection",
        b"connection",
        b"CONNECTION",
        b"Content-Length",
        b"Upgrade",
        b"Expect",
        b"Accept",
        b"X-Forwarded-For",
        b"User-Agent",
        b"X_Under",
        b"Bad Name",
        b"B\xe4d",
        b"",
    ]
)
_VALUES = st.sampled_from(
    [
        b"a.example",
        b"a.example:8080",
        b"0",
        b"5",
        b"05",
        b"5, 5",
        b"5,6",
        b"-1",
        b"99999999999999999999999",
        b"chunked",
        b"gzip, chunked",
        b"close",
        b"Close",
        b"keep-alive, CLOSE",
        b"keep-alive",
        b"Keep-Alive, Close",
        b"upgrade",
        b"100-continue",
        b"websocket",
        b"text/html; q=0.9",
        b"",
        b"a  b",
        b"a\tb",
        b"\xff\xfe",
        b"a\x01b",
        b"a\x00b",
        b"[::1]:80",
        b"user@host",
    ]
)
_SEPARATORS = st.sampled_from([b": ", b":", b":  ", b":\t", b" : ", b": ", b":"])
_TRAILING = st.sampled_from([b"", b"", b"", b" ", b"\t", b"  "])
_EOLS = st.sampled_from([b"\r\n"] * 12 + [b"\n", b"\r", b"\r\r\n"])


@st.composite
def _field_lines(draw: st.DrawFn) -> bytes:
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        name, value = draw(_NAMES), draw(_VALUES)
        line = name + draw(_SEPARATORS) + value + draw(_TRAILING) + draw(_EOLS)
        if draw(st.integers(0, 20)) == 0:
            line += b" folded" + draw(_EOLS)  # obs-fold
        lines.append(line)
    if draw(st.booleans()):  # most requests carry exactly one Host
        lines.insert(draw(st.integers(0, len(lines))), b"Host: a.example\r\n")
    return b"".join(lines)


@st.composite
def request_heads(draw: st.DrawFn) -> bytes:
    """A request head (with its blank line), often plain, often odd somewhere."""
    line = draw(_METHODS) + b" " + draw(_TARGETS) + b" HTTP/" + draw(_VERSIONS) + draw(_EOLS)
    return _mutated(draw, line + draw(_field_lines()) + b"\r\n")


@st.composite
def response_heads(draw: st.DrawFn) -> bytes:
    """A response head (with its blank line)."""
    status = draw(st.sampled_from([b"200", b"204", b"304", b"404", b"101", b"100", b"099"]))
    reason = draw(st.sampled_from([b" OK", b" ", b"", b" Not Found", b" \xe9t\xe9", b"  x"]))
    version = draw(st.sampled_from([b"1.1", b"1.1", b"1.0", b"2.0"]))
    line = b"HTTP/" + version + b" " + status + reason + draw(_EOLS)
    return _mutated(draw, line + draw(_field_lines()) + b"\r\n")


def _mutated(draw: st.DrawFn, head: bytes) -> bytes:
    """*head*, or *head* with one byte changed, inserted or removed (not in its blank line)."""
    kind = draw(st.sampled_from(["none", "none", "replace", "insert", "delete"]))
    if kind == "none" or len(head) < 5:
        return head
    at = draw(st.integers(0, len(head) - 5))
    byte = bytes([draw(st.integers(0, 255))])
    if kind == "replace":
        return head[:at] + byte + head[at + 1 :]
    if kind == "insert":
        return head[:at] + byte + head[at:]
    return head[:at] + head[at + 1 :]


# --- the parsers against h11 --------------------------------------------------------------------

_PIPELINED = b"GET /next HTTP/1.1\r\nHost: b\r\n\r\n"


@settings(max_examples=1500)
@given(request_heads())
def test_a_request_head_the_fast_path_reads_is_what_h11_reads(head: bytes) -> None:
    fast = parse_request_head(head)
    if fast is None:
        return  # declined: h11 reads it, as before
    conn = h11.Connection(h11.SERVER)
    # A request after one that closes the connection is an error to h11 (and to the fast path).
    after = _PIPELINED if fast.keep_alive else b""
    conn.receive_data(head + b"x" * fast.length + after)
    event = conn.next_event()  # h11 must accept what the fast path accepts
    assert isinstance(event, h11.Request)
    assert (event.method, event.target, event.http_version) == (
        fast.event.method,
        fast.event.target,
        fast.event.http_version,
    )
    assert list(event.headers) == list(fast.event.headers)
    assert event.headers.raw_items() == fast.event.headers.raw_items()
    # Framing: h11 reads exactly the body the fast path counts, then pauses before the next.
    got = b""
    while not isinstance(ready := conn.next_event(), h11.EndOfMessage):
        assert isinstance(ready, h11.Data)
        got += ready.data
    assert len(got) == fast.length
    if after:
        assert conn.next_event() is h11.PAUSED and conn.trailing_data[0] == after
    else:
        assert conn.next_event() is h11.NEED_DATA and conn.their_state is h11.MUST_CLOSE
    # Keep-alive: h11 keeps the connection after a plain answer exactly when the fast path does.
    conn.send(h11.Response(status_code=200, headers=[(b"content-length", b"0")]))
    conn.send(h11.EndOfMessage())
    assert (conn.our_state is h11.DONE) == fast.keep_alive


@settings(max_examples=1500)
@given(response_heads(), st.sampled_from([b"GET", b"HEAD", b"POST"]))
def test_a_response_head_the_fast_path_reads_is_what_h11_reads(head: bytes, method: bytes) -> None:
    fast = parse_response_head(head, method)
    if fast is None:
        return
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method=method, target=b"/", headers=[(b"host", b"a")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(head + b"y" * fast.length)
    event = conn.next_event()
    assert isinstance(event, h11.Response)
    assert event.status_code == fast.status
    assert list(event.headers) == fast.headers
    got = b""
    while not isinstance(ready := conn.next_event(), h11.EndOfMessage):
        assert isinstance(ready, h11.Data)
        got += ready.data
    assert len(got) == fast.length
    assert (conn.their_state is h11.DONE) == fast.keep_alive


_REQUEST_FIELDS = st.lists(st.tuples(_NAMES, _VALUES).map(lambda f: (f[0], f[1])), max_size=5).map(
    lambda fields: [(b"host", b"a.example"), *fields]
)


@settings(max_examples=1000)
@given(
    _METHODS,
    _TARGETS,
    st.one_of(_REQUEST_FIELDS, st.lists(st.tuples(_NAMES, _VALUES), max_size=4)),
    st.sampled_from([0, 0, 5]),
    st.booleans(),
)
def test_a_request_the_fast_path_writes_is_what_h11_writes(
    method: bytes, target: bytes, fields: Fields, body: int, checked: bool
) -> None:
    if checked:  # what a caller may pass as checked: names as h11 parsed them
        fields = [(k.lower(), v) for k, v in fields]
    fast = request_bytes(method, target, fields, body, checked=checked)
    if fast is None:
        return
    conn = h11.Connection(h11.CLIENT)
    event = h11.Request(method=method, target=target, headers=fields, _parsed=checked)
    assert conn.send(event) == fast[0]
    if body:
        conn.send(h11.Data(data=b"z" * body))
    conn.send(h11.EndOfMessage())  # h11 raises if the body does not fit its framing
    conn.receive_data(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
    assert isinstance(conn.next_event(), h11.Response)
    assert isinstance(conn.next_event(), h11.EndOfMessage)
    assert (conn.our_state is h11.DONE) == fast[1]


# --- whole connections: the fast path against h11 alone -----------------------------------------

_BODIES = st.sampled_from([b"", b"ok", b"0123456789" * 10])
_RESPONSE_FIELDS = st.lists(
    st.sampled_from(
        [
            (b"content-type", b"text/plain"),
            (b"content-length", b"2"),
            (b"Content-Length", b"2, 2"),
            (b"transfer-encoding", b"chunked"),
            (b"Transfer-Encoding", b"gzip"),
            (b"connection", b"close"),
            (b"Connection", b"keep-alive, x-thing"),
            (b"X-Odd", b"\xff"),
            (b"Bad Name", b"x"),
            (b"host", b"h"),
            (b"set-cookie", b"a=b"),
        ]
    ),
    max_size=4,
)


@st.composite
def exchanges(
    draw: st.DrawFn,
) -> tuple[bytes, list[tuple[int, Fields, bool, bytes, bool]], list[int]]:
    """Pipelined requests (plain, odd, with bodies), the answers, and how the bytes are cut."""
    stream = b""
    answers = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["plain", "plain", "body", "chunked", "generated", "http10"]))
        if kind == "plain":
            stream += b"GET /p HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n"
        elif kind == "body":
            stream += b"POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
        elif kind == "chunked":
            stream += b"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            stream += b"3\r\nabc\r\n0\r\n\r\n"
        elif kind == "http10":
            stream += b"HEAD /h HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n"
        else:
            stream += draw(request_heads())
        status = draw(st.sampled_from([200, 204, 304, 404, 101]))
        answers.append(
            (
                status,
                draw(_RESPONSE_FIELDS),
                draw(st.booleans()),
                draw(_BODIES),
                draw(st.booleans()),
            )
        )
    cuts = sorted(draw(st.lists(st.integers(0, len(stream)), max_size=4)))
    if draw(st.booleans()):
        cuts.append(-1)  # the client closes after sending
    return stream, answers, cuts


def _run(
    conn: ServerConnection,
    stream: bytes,
    answers: list[tuple[int, Fields, bool, bytes, bool]],
    cuts: list[int],
) -> list[object]:
    """Drive *conn* as serve_connection does; everything it says, in order."""
    log: list[object] = []
    pending: list[object] = []
    start = 0
    for cut in [c for c in cuts if c >= 0] + [len(stream)]:
        pending += conn.receive(stream[start:cut]) if cut > start else []
        start = max(start, cut)
    if -1 in cuts:
        pending += conn.receive(b"")
    for status, fields, checked, body, streamed in answers:
        while pending and not isinstance(pending[0], RequestHead | Refused):
            log.append(_seen(pending.pop(0)))  # body events of the request being answered
        if not pending or isinstance(pending[0], Refused):
            log.extend(_seen(e) for e in pending)
            break
        head = pending.pop(0)
        assert isinstance(head, RequestHead)
        log.append(_seen(head))
        while pending and isinstance(pending[0], Body | EndOfMessage):
            log.append(_seen(pending.pop(0)))
        try:
            out = conn.respond(status, fields, checked=checked)
            if streamed:
                out += conn.body(body[:1]) + conn.body(body[1:])
            else:
                out += conn.body(body)
            out += conn.end()
        except h11.LocalProtocolError as exc:
            log.append(("LocalProtocolError", str(exc)))
            break
        log.append(out)
        log.append(("closed", conn.closed))
        pending = conn.next_request() + pending
    log.append(("end", conn.closed))
    return log


def _seen(event: object) -> object:
    if isinstance(event, RequestHead):
        e = event.event
        return ("head", e.method, e.target, e.http_version, list(e.headers))
    return event


@settings(max_examples=600)
@given(exchanges())
def test_a_connection_on_the_fast_path_behaves_as_one_on_h11(
    case: tuple[bytes, list[tuple[int, Fields, bool, bytes, bool]], list[int]],
) -> None:
    stream, answers, cuts = case
    limits = Limits(max_head=400, max_fields=6, max_target=200, max_body=50)
    fast = _run(ServerConnection(limits, fast=True), stream, answers, cuts)
    reference = _run(ServerConnection(limits, fast=False), stream, answers, cuts)
    assert fast == reference


def test_plain_requests_take_the_fast_path_and_others_h11() -> None:
    # The fast path reads plain heads and declines the rest; one connection mixes both.
    assert parse_request_head(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n") is not None
    for declined in (
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
        b"GET / HTTP/1.1\nHost: a\n\n",
        b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
        b"GET / HTTP/1.0\r\n\r\n",
        b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
    ):
        assert parse_request_head(declined) is None, declined
    conn = ServerConnection(fast=True)
    events = conn.receive(
        b"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"
        b"GET /2 HTTP/1.1\r\nHost: a\r\n\r\n"
    )
    assert [type(e) for e in events] == [RequestHead, Body, EndOfMessage]
    out = conn.respond(200, [(b"content-length", b"0")]) + conn.end()
    assert out == b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"
    second = conn.next_request()
    assert isinstance(second[0], RequestHead) and second[0].event.target == b"/2"
    # An answer without a length goes chunked to an HTTP/1.1 client, as h11 writes it.
    conn.respond(200, [])
    assert conn.body(b"x") == b"1\r\nx\r\n" and conn.end() == b"0\r\n\r\n"
    assert not conn.closed


# --- over real sockets --------------------------------------------------------------------------

_RAW = (
    b"GET /one HTTP/1.1\r\nHost: a\r\nUser-Agent: t\r\n\r\n"
    b"POST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody"
    b"POST /three HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nmore\r\n0\r\n\r\n"
    b"HEAD /four HTTP/1.1\r\nHost: a\r\n\r\n"
    b"GET /five HTTP/1.0\r\nHost: a\r\n\r\n"
)


async def _echo(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
    data = b"".join([chunk async for chunk in body])
    text = head.event.method + b" " + head.event.target + b" " + data

    async def chunks() -> AsyncIterator[bytes]:
        yield text

    if head.event.target == b"/three":
        return Response(200, [(b"x-path", b"three")], chunks())
    return Response(200, [(b"content-type", b"text/plain")], text)


async def _served(raw: bytes, *, fast: bool) -> bytes:
    """What a real server on 127.0.0.1 sends back for the pipelined *raw* requests."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    got = b""
    async with anyio.create_task_group() as tg:

        async def serve(stream: anyio.abc.SocketStream) -> None:
            await serve_connection(stream, _echo, fast=fast)

        tg.start_soon(listener.serve, serve)
        async with await anyio.connect_tcp("127.0.0.1", port) as client:
            await client.send(raw)
            with anyio.fail_after(10):
                while True:
                    try:
                        got += await client.receive()
                    except anyio.EndOfStream:
                        break
        tg.cancel_scope.cancel()
    await listener.aclose()
    return got


@pytest.mark.anyio
async def test_pipelined_requests_over_a_socket_get_the_same_bytes_on_both_paths() -> None:
    fast = await _served(_RAW, fast=True)
    reference = await _served(_RAW, fast=False)
    assert fast == reference
    assert fast.count(b"HTTP/1.1 200 ") == 5 and fast.endswith(b"GET /five ")


async def _upstream(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
    data = b"".join([chunk async for chunk in body])
    if head.event.target == b"/chunked":

        async def chunks() -> AsyncIterator[bytes]:
            yield b"in "
            yield b"chunks"

        return Response(200, [], chunks())
    if head.event.target == b"/close":
        return Response(200, [(b"connection", b"close")], b"bye")
    return Response(201, [(b"x-got", b"%d" % len(data))], b"x" * 70000)


@pytest.mark.anyio
async def test_the_client_reads_the_same_answers_on_both_paths() -> None:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    results: dict[bool, list[tuple[int, Fields, bytes, int]]] = {}
    async with anyio.create_task_group() as tg:

        async def serve(stream: anyio.abc.SocketStream) -> None:
            await serve_connection(stream, _upstream, fast=False)

        tg.start_soon(listener.serve, serve)
        for fast in (True, False):
            async with Client(fast=fast) as client:
                seen = []
                for target, body in (
                    ("/a", b""),
                    ("/chunked", b""),
                    ("/b", b"1234"),
                    ("/close", b""),
                ):
                    answer = await client.request(
                        "POST", f"http://127.0.0.1:{port}{target}", body=body
                    )
                    data = await answer.read()
                    seen.append((answer.status, answer.headers, data[:20] + b"%d" % len(data), 0))
                    idle = client.idle_connections(Origin("http", "127.0.0.1", port))
                    seen[-1] = (*seen[-1][:3], idle)
                results[fast] = seen
        tg.cancel_scope.cancel()
    await listener.aclose()
    assert results[True] == results[False]
    assert [idle for *_, idle in results[True]] == [1, 1, 1, 0]  # reused, until the close


@st.composite
def answers(draw: st.DrawFn) -> bytes:
    """What a server sends back, then closes: plain or odd heads, bodies that fit or not."""
    body = draw(st.sampled_from([b"", b"hello", b"x" * 300]))
    head = draw(response_heads())
    if draw(st.booleans()):  # a plain head with a length, mostly right
        length = len(body) + draw(st.sampled_from([0, 0, 0, -1, 1]))
        head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nX-A: b\r\n\r\n" % max(length, 0)
    if draw(st.integers(0, 5)) == 0:
        head = b"HTTP/1.1 100 Continue\r\n\r\n" + head
    if draw(st.integers(0, 5)) == 0:  # a chunked body, for h11 to read
        head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        body = b"5\r\nhello\r\n0\r\n\r\n"
    cut = draw(st.integers(0, len(head + body)))
    return (head + body)[: cut if draw(st.integers(0, 6)) == 0 else None]


async def _answered(raw: bytes, method: str, *, fast: bool) -> object:
    """What `Client` makes of *raw* sent by a real server on 127.0.0.1: the answer, or the
    kind of error."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)

    async def serve(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            got = b""
            while b"\r\n\r\n" not in got:
                got += await stream.receive()
            await stream.send(raw)

    async with anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, serve)
        async with Client(fast=fast) as client:
            try:
                with anyio.fail_after(10):
                    answer = await client.request(method, f"http://127.0.0.1:{port}/")
                    result: object = (answer.status, answer.headers, await answer.read())
            except UpstreamError as exc:
                result = type(exc).__name__
        tg.cancel_scope.cancel()
    await listener.aclose()
    return result


@settings(max_examples=80)
@given(answers(), st.sampled_from(["GET", "HEAD"]))
def test_the_client_reads_what_h11_reads_from_real_servers(raw: bytes, method: str) -> None:
    for backend in ("asyncio", "trio"):
        fast = anyio.run(lambda: _answered(raw, method, fast=True), backend=backend)
        reference = anyio.run(lambda: _answered(raw, method, fast=False), backend=backend)
        assert fast == reference, backend
