"""Request heads h11 accepts but a proxy must refuse, parsed from raw bytes by h11 itself."""

from __future__ import annotations

import h11
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routekit.http import filter_trailers, raw_head_problem, request_head_problem


def head(raw: bytes) -> h11.Request:
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(raw)
    event = conn.next_event()
    assert isinstance(event, h11.Request), event
    return event


@pytest.mark.parametrize(
    ("raw", "status", "reason"),
    [
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n",
            400,
            "Content-Length and Transfer-Encoding",
        ),
        (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, "HTTP/2.0"),
        (b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "Host header"),
        (b"GET / HTTP/1.1\r\nHost: a.com:80x\r\n\r\n", 400, "Host header"),
        (b"GET / HTTP/1.1\r\nHost: user@a.com\r\n\r\n", 400, "Host header"),
        (b"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400, "Host header"),
        (b"GET http://a%zz/x HTTP/1.1\r\nHost: a\r\n\r\n", 400, "authority"),
        (b"GET http://u@a.com/x HTTP/1.1\r\nHost: a\r\n\r\n", 400, "authority"),
        (b"GET http://[zz]/x HTTP/1.1\r\nHost: a\r\n\r\n", 400, "authority"),
        (b"CONNECT a.com HTTP/1.1\r\nHost: a.com\r\n\r\n", 400, "CONNECT"),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414, "target"),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\n"
            + b"".join(b"X-%d: 1\r\n" % i for i in range(101))
            + b"\r\n",
            431,
            "header fields",
        ),
    ],
)
def test_heads_a_proxy_refuses(raw: bytes, status: int, reason: str) -> None:
    problem = request_head_problem(head(raw))
    assert problem is not None
    assert problem[0] == status and reason in problem[1]


@pytest.mark.parametrize(
    "raw",
    [
        b"GET / HTTP/1.1\r\nHost: a.com\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a.com:8080\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: 192.0.2.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost:\r\n\r\n",  # empty: a target URI without an authority
        b"GET / HTTP/1.0\r\n\r\n",
        b"GET http://b.com:81/x?y HTTP/1.1\r\nHost: whatever\r\n\r\n",
        b"CONNECT a.com:443 HTTP/1.1\r\nHost: a.com:443\r\n\r\n",
        b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
    ],
)
def test_heads_that_pass(raw: bytes) -> None:
    assert request_head_problem(head(raw)) is None


def test_a_declared_body_is_bounded_before_it_is_read() -> None:
    raw = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048577\r\n\r\n"
    assert request_head_problem(head(raw), max_body=1 << 20) == (
        413,
        "the declared body is larger than 1048576 bytes",
    )
    assert request_head_problem(head(raw)) is None


def test_obsolete_line_folding_is_seen_in_the_raw_head() -> None:
    raw = b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n"
    # h11 unfolds it silently, so the check reads the bytes.
    assert head(raw + b"\r\n").headers[-1] == (b"x-a", b"b c")
    assert raw_head_problem(raw) == (400, "obsolete line folding is not accepted")
    assert raw_head_problem(b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\tc\r\n") is None


def test_trailers_carry_no_framing_routing_or_hop_by_hop_fields() -> None:
    trailers = [
        (b"x-checksum", b"abc"),
        (b"content-length", b"10"),
        (b"transfer-encoding", b"chunked"),
        (b"host", b"evil"),
        (b"connection", b"close"),
        (b"set-cookie", b"a=b"),
        (b"server-timing", b"db;dur=5"),
    ]
    assert filter_trailers(trailers) == [(b"x-checksum", b"abc"), (b"server-timing", b"db;dur=5")]


_PIECES = st.sampled_from(
    [
        b"Host: a\r\n",
        b"Content-Length: 3\r\n",
        b"Transfer-Encoding: chunked\r\n",
        b"X: y\r\n",
        b"Host: [::1]:8\r\n",
        b"Host: a b\r\n",
        b" folded\r\n",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([b"GET / ", b"GET http://a.com/ ", b"CONNECT a:1 ", b"POST /x "]),
    st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0"]),
    st.lists(_PIECES, max_size=6),
)
def test_checks_answer_or_pass_and_never_raise(
    line: bytes, version: bytes, pieces: list[bytes]
) -> None:
    raw = line + version + b"\r\n" + b"".join(pieces)
    folded = raw_head_problem(raw)
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(raw + b"\r\n")
    try:
        event = conn.next_event()
    except h11.RemoteProtocolError:
        return  # h11's own refusal, with its own status
    if isinstance(event, h11.Request):
        problem = request_head_problem(event)
        assert problem is None or problem[0] in (400, 413, 414, 431, 505)
        assert folded is None or b"\n " in raw
