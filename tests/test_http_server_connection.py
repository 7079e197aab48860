"""`ServerConnection`: one connection's HTTP/1.1 state, driven with raw bytes as a socket would."""

from __future__ import annotations

import h11
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routekit.http import (
    Body,
    EndOfMessage,
    Limits,
    Refused,
    RequestHead,
    ServerConnection,
)


def client_reads(data: bytes) -> list[object]:
    """What an h11 client makes of the bytes the server sent."""
    client = h11.Connection(h11.CLIENT)
    client.send(h11.Request(method="GET", target="/", headers=[("Host", "a")]))
    client.send(h11.EndOfMessage())
    client.receive_data(data)
    out: list[object] = []
    while True:
        event = client.next_event()
        if event is h11.NEED_DATA or isinstance(event, h11.ConnectionClosed):
            return out
        out.append(event)
        if isinstance(event, h11.EndOfMessage):
            return out


def test_a_request_arriving_byte_by_byte_then_a_response() -> None:
    conn = ServerConnection()
    raw = b"POST /api HTTP/1.1\r\nHost: a.com\r\nContent-Length: 5\r\n\r\nhello"
    events = [e for i in range(len(raw)) for e in conn.receive(raw[i : i + 1])]
    head = events[0]
    assert isinstance(head, RequestHead) and head.event.target == b"/api"
    assert b"".join(e.data for e in events if isinstance(e, Body)) == b"hello"
    assert isinstance(events[-1], EndOfMessage)
    out = conn.respond(200, [(b"content-length", b"2")]) + conn.body(b"ok") + conn.end()
    response, data, _ = client_reads(out)
    assert isinstance(response, h11.Response) and response.status_code == 200
    assert isinstance(data, h11.Data) and data.data == b"ok"
    assert not conn.closed and conn.next_request() == []


def test_pipelined_requests_are_answered_in_order() -> None:
    conn = ServerConnection()
    events = conn.receive(b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n")
    assert [type(e) for e in events] == [RequestHead, EndOfMessage]  # /2 waits its turn
    assert isinstance(events[0], RequestHead) and events[0].event.target == b"/1"
    conn.respond(204, [])
    conn.end()
    second = conn.next_request()
    assert isinstance(second[0], RequestHead) and second[0].event.target == b"/2"


def test_a_chunked_body_with_trailers() -> None:
    conn = ServerConnection()
    events = conn.receive(
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n"
    )
    assert [e.data for e in events if isinstance(e, Body)] == [b"abc"]
    end = events[-1]
    assert isinstance(end, EndOfMessage) and list(end.trailers) == [(b"x-sum", b"1")]


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n",
            400,
        ),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
        (b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        (b"GET / HTTP/1.1\r\n\r\n", 400),  # no Host (h11's own refusal)
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"x" * 20000 + b"\r\n\r\n", 431),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n", 413),
    ],
)
def test_bad_heads_are_refused_with_a_closing_answer(raw: bytes, status: int) -> None:
    conn = ServerConnection(Limits(max_body=1000))
    events = conn.receive(raw)
    (refused,) = [e for e in events if isinstance(e, Refused)]
    assert refused.status == status
    assert not any(isinstance(e, RequestHead) for e in events)  # never routed, never forwarded
    (response, _, _) = client_reads(refused.answer)
    assert isinstance(response, h11.Response) and response.status_code == status
    assert (b"connection", b"close") in response.headers
    assert conn.closed and conn.receive(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n") == []


def test_an_http_1_0_client_is_served_and_the_connection_closes() -> None:
    conn = ServerConnection()
    (head, _) = conn.receive(b"GET / HTTP/1.0\r\n\r\n")
    assert isinstance(head, RequestHead) and head.event.http_version == b"1.0"
    out = conn.respond(200, [(b"content-length", b"1")]) + conn.body(b"x") + conn.end()
    assert out.startswith(b"HTTP/1.1 200")
    assert conn.closed  # 1.0 without keep-alive: the server closes after the response


def test_a_client_that_closes_between_requests() -> None:
    conn = ServerConnection()
    assert conn.receive(b"") == []
    assert conn.closed


@settings(max_examples=500, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=8))
def test_any_bytes_give_events_or_a_refusal_never_an_exception(chunks: list[bytes]) -> None:
    conn = ServerConnection()
    for chunk in chunks:
        for event in conn.receive(chunk):
            assert isinstance(event, RequestHead | Body | EndOfMessage | Refused)
            if isinstance(event, Refused):
                assert event.answer.startswith(b"HTTP/1.1 %d " % event.status)


_PIECES = st.sampled_from(
    [
        b"GET / HTTP/1.1\r\n",
        b"POST /x HTTP/1.1\r\n",
        b"Host: a\r\n",
        b"Content-Length: 3\r\n",
        b"Transfer-Encoding: chunked\r\n",
        b"\r\n",
        b"abc",
        b"3\r\nabc\r\n0\r\n\r\n",
        b" fold\r\n",
        b"X-A: b\r\n",
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_PIECES, max_size=12), st.integers(1, 7))
def test_mutated_requests_fed_in_pieces(pieces: list[bytes], step: int) -> None:
    data = b"".join(pieces)
    conn = ServerConnection()
    for i in range(0, len(data), step):
        for event in conn.receive(data[i : i + step]):
            if isinstance(event, EndOfMessage):
                conn.respond(200, [(b"content-length", b"0")])
                conn.end()
                conn.next_request()
