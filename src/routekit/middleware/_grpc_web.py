"""grpcWeb: browsers' gRPC-Web requests translated into gRPC, and the answers back.

As Traefik's ``pkg/middlewares/grpcweb``, which wraps the next handler with
``github.com/traefik/grpc-web`` (``WrapHandler``, CORS for every path, the origin allowed when
``allowOrigins`` lists it or ``*``) and ``rs/cors`` v1.7 for the CORS fields:

- a ``POST`` whose ``Content-Type`` starts with ``application/grpc-web`` goes on as gRPC:
  ``application/grpc-web[-text][+proto]`` becomes ``application/grpc[+proto]``, a ``-text``
  body is base64-decoded.  The answer's ``application/grpc`` becomes the request's type again,
  its trailer fields (``grpc-status``, ``grpc-message``…) become the last frame of the body —
  flag ``0x80``, a 4-byte length, then ``name: value\\r\\n`` lines with lower-case names, sorted
  (the gRPC-Web protocol, https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-WEB.md) — and a
  ``-text`` answer is sent base64-encoded, each piece padded (the protocol allows it);
- an ``OPTIONS`` preflight whose ``Access-Control-Request-Headers`` names ``x-grpc-web`` is
  answered here, ``200`` with the CORS fields when its origin is allowed;
- anything else passes as it is.

routekit's client speaks HTTP/1.1, where Traefik sends gRPC over HTTP/2: the translated request
goes to the server as HTTP/1.1 with ``TE: trailers`` and a ``Content-Length`` (the body is read
whole first: gRPC-Web has no client streaming), and the server's trailers are read from its
chunked answer.  A server that speaks only HTTP/2 (every stock gRPC server) cannot answer it.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import AsyncIterator, Iterable
from typing import Final

import attrs

from ..config import GrpcWeb
from ..http import Response
from ..rules import canonical_header_key
from ._call import Call, Layer, Next, get_header, plain, remove_header, set_header
from ._forward_auth import _replay

__all__ = [
    "TRAILER_FLAG",
    "decode_frames",
    "decode_text",
    "encode_frame",
    "grpc_content_type",
    "parse_header_list",
    "parse_trailer_block",
    "trailer_block",
    "trailer_frame",
]

#: The flag of a frame that carries the trailer fields (its most significant bit).
TRAILER_FLAG: Final = 0x80
_GRPC: Final = b"application/grpc"
_WEB: Final = b"application/grpc-web"
_TEXT: Final = b"application/grpc-web-text"
# rs/cors: the simple methods are allowed (OPTIONS always is); preflights are cached 10 minutes
# (grpc-web's corsMaxAge).
_METHODS: Final = frozenset({"GET", "POST", "HEAD", "OPTIONS"})
_MAX_AGE: Final = b"600"
_PADDED: Final = re.compile(rb"(?<==)(?=[^=])")


def encode_frame(payload: bytes, flag: int = 0) -> bytes:
    """One length-prefixed frame: the flag byte, the payload's length (4 bytes, big-endian)."""
    return bytes((flag,)) + len(payload).to_bytes(4, "big") + payload


def decode_frames(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """The complete frames at the start of *data* as ``(flag, payload)``, and the bytes left."""
    frames: list[tuple[int, bytes]] = []
    at = 0
    while len(data) - at >= 5:
        size = int.from_bytes(data[at + 1 : at + 5], "big")
        if len(data) - at - 5 < size:
            break
        frames.append((data[at], data[at + 5 : at + 5 + size]))
        at += 5 + size
    return frames, data[at:]


def _clean(value: bytes) -> bytes:
    # Go's Header.Write: line breaks become spaces, then spaces and tabs are trimmed.
    return value.replace(b"\r", b" ").replace(b"\n", b" ").strip(b" \t")


def trailer_block(trailers: Iterable[tuple[bytes, bytes]]) -> bytes:
    """The trailer fields as a trailer frame's payload: ``name: value\\r\\n``, lower-case names
    sorted (stably: a name's values keep their order), as grpc-web's ``header.Write``."""
    fields = sorted(((name.lower(), value) for name, value in trailers), key=lambda f: f[0])
    return b"".join(b"%s: %s\r\n" % (name, _clean(value)) for name, value in fields)


def trailer_frame(trailers: Iterable[tuple[bytes, bytes]]) -> bytes:
    """The frame that ends a gRPC-Web answer; none (``b""``) when there are no fields."""
    block = trailer_block(trailers)
    return encode_frame(block, TRAILER_FLAG) if block else b""


def parse_trailer_block(block: bytes) -> list[tuple[bytes, bytes]]:
    """The fields of a trailer frame's payload (what a gRPC-Web client reads)."""
    out = []
    for line in block.split(b"\r\n"):
        name, colon, value = line.partition(b":")
        if colon:
            out.append((name.strip().lower(), value.strip(b" \t")))
    return out


def decode_text(data: bytes) -> bytes:
    """A ``-text`` body decoded: base64, possibly several padded parts one after another.

    Raises:
        ValueError: *data* is not such base64.
    """
    try:
        return b"".join(base64.b64decode(part, validate=True) for part in _PADDED.split(data))
    except binascii.Error as exc:
        raise ValueError(f"not base64: {exc}") from None


def grpc_content_type(content_type: bytes) -> tuple[bytes, bool]:
    """The gRPC type of a gRPC-Web request's *content_type*, and whether its body is base64
    (``application/grpc-web-text+proto`` → ``(b"application/grpc+proto", True)``)."""
    text = content_type.startswith(_TEXT)
    return content_type.replace(_TEXT if text else _WEB, _GRPC, 1), text


def parse_header_list(value: str) -> list[str]:
    """The names of an ``Access-Control-Request-Headers`` value, canonical, as rs/cors reads
    them: split at spaces and commas, only letters, digits and ``-_.`` kept."""
    names: list[str] = []
    name: list[str] = []
    upper = True
    for index, char in enumerate(value):
        if char.isascii() and char.isalpha():
            name.append(char.upper() if upper else char.lower())
        elif char in "-_." or (char.isascii() and char.isdigit()):
            name.append(char)
        if char in " ," or index == len(value) - 1:
            if name:
                names.append("".join(name))
                name = []
                upper = True
        else:
            upper = char == "-"
    return names


def _preflight(call: Call, allowed: bool, origin: bytes | None) -> Response:
    """rs/cors' ``handlePreflight``, then ``200`` with no body (its ``Handler``)."""
    headers = [
        (b"vary", b"Origin"),
        (b"vary", b"Access-Control-Request-Method"),
        (b"vary", b"Access-Control-Request-Headers"),
    ]
    method = (get_header(call.headers, b"access-control-request-method") or b"").decode("latin-1")
    if origin and allowed and method.upper() in _METHODS:
        requested = get_header(call.headers, b"access-control-request-headers") or b""
        names = parse_header_list(requested.decode("latin-1"))
        headers.append((b"access-control-allow-origin", origin))
        headers.append((b"access-control-allow-methods", method.upper().encode("latin-1")))
        if names:  # every header is allowed (grpc-web's allowedRequestHeaders is ["*"])
            headers.append((b"access-control-allow-headers", ", ".join(names).encode()))
        headers.append((b"access-control-allow-credentials", b"true"))
        headers.append((b"access-control-max-age", _MAX_AGE))
    return Response(200, headers, b"")


def _answer_headers(
    response: Response, cors: list[tuple[bytes, bytes]], content_type: bytes
) -> list[tuple[bytes, bytes]]:
    """grpc-web's ``prepareHeaders``: the CORS fields, then the server's (``application/grpc``
    turned back into the request's type), all of them exposed to the page's script."""
    out = list(cors)
    for name, value in response.headers:
        if name in (b"trailer", b"content-length"):  # the body gets longer: it streams
            continue
        typed = name == b"content-type"
        out.append((name, value.replace(_GRPC, content_type, 1) if typed else value))
    seen = dict.fromkeys(canonical_header_key(name.decode("latin-1")) for name, _ in out)
    exposed = [*seen, "grpc-status", "grpc-message"]
    out.append((b"access-control-expose-headers", ", ".join(exposed).encode("latin-1")))
    return out


async def _body(response: Response, sent: frozenset[bytes], text: bool) -> AsyncIterator[bytes]:
    """The server's frames as they come, then its trailers as the last frame."""
    body = response.body
    if isinstance(body, bytes):
        if body:
            yield base64.b64encode(body) if text else body
    else:
        complete = False
        try:
            async for piece in body:
                if piece:
                    yield base64.b64encode(piece) if text else piece
            complete = True
        finally:
            closing = getattr(body, "aclose", None)
            if not complete and closing is not None:
                await closing()
    # The fields already sent in the head are not repeated (grpc-web's extractTrailingHeaders).
    frame = trailer_frame((k, v) for k, v in response.trailers if k not in sent)
    if frame:
        yield base64.b64encode(frame) if text else frame


def build_grpc_web(model: GrpcWeb) -> Layer:
    """The grpcWeb layer."""
    origins = frozenset(model.allow_origins)

    def allows(origin: bytes) -> bool:
        # Traefik's origin function: ``*`` or the exact origin (case and all).
        return "*" in origins or origin.decode("latin-1") in origins

    def layer(next_: Next) -> Next:
        async def handle(call: Call) -> Response:
            origin = get_header(call.headers, b"origin")
            if call.method == b"OPTIONS":
                requested = get_header(call.headers, b"access-control-request-headers") or b""
                asked = get_header(call.headers, b"access-control-request-method")
                if b"x-grpc-web" in requested.lower() and asked:
                    return _preflight(call, origin is not None and allows(origin), origin)
                return await next_(call)
            content_type = get_header(call.headers, b"content-type") or b""
            if call.method != b"POST" or not content_type.startswith(_WEB):
                return await next_(call)
            grpc_type, text = grpc_content_type(content_type)
            data = b"".join([chunk async for chunk in call.body])
            if text:
                try:
                    data = decode_text(data)
                except ValueError:
                    return plain(400, "Bad Request")
            set_header(call.headers, b"content-type", grpc_type)
            remove_header(call.headers, b"transfer-encoding")
            set_header(call.headers, b"content-length", b"%d" % len(data))
            # The gRPC protocol asks for it, and the answer's trailers are read (RFC 9110 §10.1.4).
            set_header(call.headers, b"te", b"trailers")
            call.body = _replay(data)
            response = await next_(call)
            if response.tunnel is not None:
                return response
            # rs/cors' handleActualRequest: Vary always, the origin's fields when it is allowed.
            cors = [(b"vary", b"Origin")]
            if origin and allows(origin):
                cors.append((b"access-control-allow-origin", origin))
                cors.append((b"access-control-allow-credentials", b"true"))
            headers = _answer_headers(response, cors, _TEXT if text else _WEB)
            sent = frozenset(name for name, _ in headers)
            return attrs.evolve(
                response, headers=headers, body=_body(response, sent, text), checked=False
            )

        return handle

    return layer
