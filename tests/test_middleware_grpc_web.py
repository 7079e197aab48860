"""grpcWeb through a real gateway, in front of a server that speaks gRPC framing over HTTP/1.1.

The server is h11 on a socket: it reads length-prefixed messages, answers each reversed in
``application/grpc`` frames, and ends with ``grpc-status``/``grpc-message`` trailers in its
chunked answer — what a gRPC server sends, on HTTP/1.1.  The client is the gateway's client,
sending what a browser's gRPC-Web library sends.
"""

from __future__ import annotations

import base64
import string
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.abc
import h11
import pytest
from hypothesis import given
from hypothesis import strategies as st

from routekit.config import EntryPoint, loads_config
from routekit.errors import ConfigError
from routekit.http import Client, ClientResponse
from routekit.middleware import (
    TRAILER_FLAG,
    decode_frames,
    decode_text,
    encode_frame,
    grpc_content_type,
    parse_header_list,
    parse_trailer_block,
    trailer_block,
    trailer_frame,
)
from routekit.proxy import Gateway
from routekit.runtime import build

# --- the pure pieces ------------------------------------------------------------------------


@given(st.lists(st.tuples(st.sampled_from([0, 1, TRAILER_FLAG]), st.binary(max_size=300))))
def test_frames_round_trip(frames: list[tuple[int, bytes]]) -> None:
    data = b"".join(encode_frame(payload, flag) for flag, payload in frames)
    assert decode_frames(data) == (frames, b"")
    if data:  # a frame cut short is left over, whole
        got, rest = decode_frames(data[:-1])
        assert got == frames[:-1] and rest == encode_frame(frames[-1][1], frames[-1][0])[:-1]


_NAMES = st.text(string.ascii_letters + string.digits + "-", min_size=1, max_size=12)
_VALUES = st.text(string.ascii_letters + string.digits + " -_./", max_size=20)


@given(st.lists(st.tuples(_NAMES, _VALUES), max_size=6))
def test_trailer_frame_carries_every_field_lower_case_sorted(fields: list[tuple[str, str]]) -> None:
    pairs = [(k.encode(), v.encode()) for k, v in fields]
    frame = trailer_frame(pairs)
    if not pairs:
        assert frame == b""
        return
    (flag, payload), *more = decode_frames(frame)[0]
    assert flag == TRAILER_FLAG and not more
    expected = sorted(((k.lower(), v.strip(b" \t")) for k, v in pairs), key=lambda f: f[0])
    assert parse_trailer_block(payload) == expected


def test_trailer_block_is_go_header_write() -> None:
    block = trailer_block([(b"Grpc-Status", b"0"), (b"b", b"two\r\nlines "), (b"b", b"2")])
    assert block == b"b: two  lines\r\nb: 2\r\ngrpc-status: 0\r\n"


@given(st.lists(st.binary(max_size=50), min_size=1, max_size=5))
def test_text_bodies_in_padded_parts(parts: list[bytes]) -> None:
    assert decode_text(b"".join(base64.b64encode(p) for p in parts)) == b"".join(parts)


def test_bad_text_is_refused() -> None:
    for bad in (b"abc", b"!!!!", b"YQ==Y"):
        with pytest.raises(ValueError, match="not base64"):
            decode_text(bad)


def test_content_types() -> None:
    assert grpc_content_type(b"application/grpc-web") == (b"application/grpc", False)
    assert grpc_content_type(b"application/grpc-web+proto") == (b"application/grpc+proto", False)
    assert grpc_content_type(b"application/grpc-web-text") == (b"application/grpc", True)
    assert grpc_content_type(b"application/grpc-web-text+proto") == (
        b"application/grpc+proto",
        True,
    )


def test_request_header_lists_as_rs_cors_reads_them() -> None:
    assert parse_header_list("x-grpc-web, content-type,X-USER-AGENT") == [
        "X-Grpc-Web",
        "Content-Type",
        "X-User-Agent",
    ]
    assert parse_header_list("  ") == [] and parse_header_list("a_b.c") == ["A_b.c"]


@given(st.lists(st.from_regex(r"[A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,8}){0,2}", fullmatch=True)))
def test_header_lists_are_canonical_names(names: list[str]) -> None:
    # Go's CanonicalHeaderKey on each name, whatever the spacing around the commas.
    canonical = ["-".join(p[:1].upper() + p[1:].lower() for p in n.split("-")) for n in names]
    assert parse_header_list(" ,  ".join(names)) == canonical
    assert parse_header_list(",".join(n.lower() for n in names)) == canonical


def test_origins_are_checked_when_the_configuration_loads() -> None:
    with pytest.raises(ConfigError, match=r"grpcWeb\.allowOrigins\[1\]: not an origin"):
        loads_config(_config(1, '["https://app.test", "https://app.test/page"]'))
    with pytest.raises(ConfigError, match=r"allowOrigins\[0\]: not an origin: 'https://\*\.app"):
        loads_config(_config(1, '["https://*.app.test"]'))  # compared exactly: no patterns
    loads_config(_config(1, '["*", "null", "http://127.0.0.1:8080"]'))


# --- a gRPC server on HTTP/1.1 ----------------------------------------------------------------

pytestmark = pytest.mark.anyio


class GrpcServer:
    """Answers each message reversed; ``/fail`` answers a trailers-only ``NOT_FOUND``."""

    def __init__(self) -> None:
        self.seen: list[tuple[h11.Request, bytes]] = []
        self.port = 0

    async def serve(self, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
        self.port = listener.extra(anyio.abc.SocketAttribute.local_port)
        async with listener:
            task_status.started()
            await listener.serve(self.connection)

    async def connection(self, stream: anyio.abc.SocketStream) -> None:
        conn = h11.Connection(h11.SERVER)
        async with stream:
            while True:
                request, body = await self._read(conn, stream)
                if request is None:
                    return
                self.seen.append((request, body))
                await self._answer(conn, stream, request, body)
                if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    return
                conn.start_next_cycle()

    async def _read(
        self, conn: h11.Connection, stream: anyio.abc.SocketStream
    ) -> tuple[h11.Request | None, bytes]:
        request, body = None, b""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                try:
                    conn.receive_data(await stream.receive())
                except (anyio.EndOfStream, anyio.BrokenResourceError):
                    return None, b""
            elif isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return request, body
            else:
                return None, b""

    async def _answer(
        self,
        conn: h11.Connection,
        stream: anyio.abc.SocketStream,
        request: h11.Request,
        body: bytes,
    ) -> None:
        if request.target == b"/fail":
            head = [(b"content-type", b"application/grpc"), (b"grpc-status", b"5")]
            head.append((b"grpc-message", b"no such thing"))
            await stream.send(conn.send(h11.Response(status_code=200, headers=head)))
            await stream.send(conn.send(h11.EndOfMessage()))
            return
        kind = dict(request.headers).get(b"content-type", b"application/grpc")
        head = [(b"content-type", kind), (b"transfer-encoding", b"chunked")]
        head.append((b"trailer", b"grpc-status, grpc-message"))
        await stream.send(conn.send(h11.Response(status_code=200, headers=head)))
        for _, message in decode_frames(body)[0]:
            await stream.send(conn.send(h11.Data(data=encode_frame(message[::-1]))))
            await anyio.sleep(0.01)  # each message its own chunk, as a stream sends them
        trailers = [(b"grpc-status", b"0"), (b"grpc-message", b"fine")]
        await stream.send(conn.send(h11.EndOfMessage(headers=trailers)))


def _config(port: int, origins: str = '["https://app.test"]') -> str:
    return f"""
[http.routers.api]
rule = "Host(`api.test`)"
service = "grpc"
middlewares = ["web"]
[http.middlewares.web.grpcWeb]
allowOrigins = {origins}
[[http.services.grpc.loadBalancer.servers]]
url = "http://127.0.0.1:{port}"
"""


class Browser:
    """Sends through the gateway what a page's gRPC-Web library sends."""

    def __init__(self, client: Client, url: str) -> None:
        self.client = client
        self.url = url

    async def call(
        self, path: str, body: bytes, *, kind: bytes, origin: bytes = b"https://app.test"
    ) -> tuple[ClientResponse, bytes]:
        headers = [(b"host", b"api.test"), (b"content-type", kind), (b"x-grpc-web", b"1")]
        headers.append((b"origin", origin))
        response = await self.client.request("POST", self.url + path, headers=headers, body=body)
        return response, await response.read()

    async def send(
        self, method: str, path: str, headers: list[tuple[bytes, bytes]]
    ) -> tuple[ClientResponse, bytes]:
        sent = [(b"host", b"api.test"), *headers]
        response = await self.client.request(method, self.url + path, headers=sent)
        return response, await response.read()


@asynccontextmanager
async def gateway(
    origins: str = '["https://app.test"]',
) -> AsyncIterator[tuple[Browser, GrpcServer]]:
    server = GrpcServer()
    async with anyio.create_task_group() as tg:
        await tg.start(server.serve)
        runtime = build(loads_config(_config(server.port, origins)))
        points = {"web": EntryPoint(address="127.0.0.1:0")}
        async with Gateway(runtime, points) as gw, Client() as client:
            yield Browser(client, gw.url("web")), server
        tg.cancel_scope.cancel()


def _fields(response: ClientResponse) -> dict[bytes, list[bytes]]:
    out: dict[bytes, list[bytes]] = {}
    for name, value in response.headers:
        out.setdefault(name, []).append(value)
    return out


async def test_a_binary_call_reaches_the_server_as_grpc_and_its_trailers_come_back() -> None:
    async with gateway() as (browser, server):
        messages = encode_frame(b"hello") + encode_frame(b"world")
        response, body = await browser.call(
            "/pkg.Echo/Reverse", messages, kind=b"application/grpc-web+proto"
        )
        request, sent = server.seen[-1]
        got = dict(request.headers)
        assert got[b"content-type"] == b"application/grpc+proto"
        assert got[b"te"] == b"trailers" and got[b"content-length"] == b"%d" % len(messages)
        assert request.method == b"POST" and request.target == b"/pkg.Echo/Reverse"
        assert sent == messages  # the frames go on as they came

        fields = _fields(response)
        assert response.status == 200
        assert fields[b"content-type"] == [b"application/grpc-web+proto"]
        assert fields[b"access-control-allow-origin"] == [b"https://app.test"]
        assert fields[b"access-control-allow-credentials"] == [b"true"]
        assert b"Origin" in fields[b"vary"]
        exposed = fields[b"access-control-expose-headers"][0].split(b", ")
        assert b"Content-Type" in exposed and exposed[-2:] == [b"grpc-status", b"grpc-message"]
        assert b"trailer" not in fields and b"grpc-status" not in fields
        frames, rest = decode_frames(body)
        assert rest == b"" and frames[:2] == [(0, b"olleh"), (0, b"dlrow")]
        assert frames[2][0] == TRAILER_FLAG
        assert parse_trailer_block(frames[2][1]) == [
            (b"grpc-message", b"fine"),
            (b"grpc-status", b"0"),
        ]


async def test_a_text_call_is_decoded_on_the_way_in_and_encoded_on_the_way_out() -> None:
    async with gateway() as (browser, server):
        message = encode_frame(b"abc\x00\xff")
        response, body = await browser.call(
            "/pkg.Echo/Reverse", base64.b64encode(message), kind=b"application/grpc-web-text"
        )
        request, sent = server.seen[-1]
        assert dict(request.headers)[b"content-type"] == b"application/grpc"
        assert sent == message
        assert response.status == 200
        assert _fields(response)[b"content-type"] == [b"application/grpc-web-text"]
        frames, rest = decode_frames(decode_text(body))  # padded parts, one after another
        assert rest == b"" and frames[0] == (0, b"\xff\x00cba")
        assert frames[1][0] == TRAILER_FLAG
        assert (b"grpc-status", b"0") in parse_trailer_block(frames[1][1])

        before = len(server.seen)
        response, _ = await browser.call("/x", b"not base64!", kind=b"application/grpc-web-text")
        assert response.status == 400 and len(server.seen) == before


async def test_a_trailers_only_answer_keeps_its_status_in_the_head() -> None:
    async with gateway() as (browser, _):
        response, body = await browser.call("/fail", b"", kind=b"application/grpc-web")
        fields = _fields(response)
        assert response.status == 200 and body == b""
        assert fields[b"grpc-status"] == [b"5"] and fields[b"grpc-message"] == [b"no such thing"]
        assert fields[b"content-type"] == [b"application/grpc-web"]


async def test_preflights_are_answered_for_allowed_origins_only() -> None:
    async with gateway() as (browser, server):
        asked = [
            (b"access-control-request-method", b"POST"),
            (b"access-control-request-headers", b"content-type,x-grpc-web,x-user-agent"),
        ]
        response, body = await browser.send(
            "OPTIONS", "/pkg.Echo/Reverse", [(b"origin", b"https://app.test"), *asked]
        )
        fields = _fields(response)
        assert response.status == 200 and body == b""
        assert fields[b"access-control-allow-origin"] == [b"https://app.test"]
        assert fields[b"access-control-allow-methods"] == [b"POST"]
        assert fields[b"access-control-allow-headers"] == [
            b"Content-Type, X-Grpc-Web, X-User-Agent"
        ]
        assert fields[b"access-control-allow-credentials"] == [b"true"]
        assert fields[b"access-control-max-age"] == [b"600"]

        response, _ = await browser.send(
            "OPTIONS", "/pkg.Echo/Reverse", [(b"origin", b"https://evil.test"), *asked]
        )
        fields = _fields(response)
        assert response.status == 200 and b"access-control-allow-origin" not in fields
        assert fields[b"vary"] == [
            b"Origin",
            b"Access-Control-Request-Method",
            b"Access-Control-Request-Headers",
        ]
        assert server.seen == []  # preflights never reach the server

        # A call from an origin not allowed still goes through, without the CORS fields.
        response, _ = await browser.call(
            "/pkg.Echo/Reverse", encode_frame(b"x"), kind=b"application/grpc-web",
            origin=b"https://evil.test",
        )  # fmt: skip
        assert response.status == 200
        assert b"access-control-allow-origin" not in _fields(response)


async def test_a_wildcard_allows_every_origin_and_other_requests_pass_as_they_are() -> None:
    async with gateway('["*"]') as (browser, server):
        response, _ = await browser.send(
            "OPTIONS",
            "/",
            [
                (b"origin", b"https://any.test"),
                (b"access-control-request-method", b"POST"),
                (b"access-control-request-headers", b"x-grpc-web"),
            ],
        )
        assert _fields(response)[b"access-control-allow-origin"] == [b"https://any.test"]
        response, body = await browser.send(
            "POST", "/plain", [(b"content-type", b"application/grpc")]
        )
        request, _ = server.seen[-1]
        assert request.target == b"/plain"
        assert dict(request.headers)[b"content-type"] == b"application/grpc"
        assert b"te" not in dict(request.headers)  # not gRPC-Web: not translated
        assert _fields(response)[b"content-type"] == [b"application/grpc"]
        assert b"access-control-expose-headers" not in _fields(response)
        assert body == b""
