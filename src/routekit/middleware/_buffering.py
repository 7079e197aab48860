"""buffering and contentType: whole bodies held before they go on, and a guessed type.

buffering, as Traefik's (``vulcand/oxy`` ``buffer``): the request body is read whole before
the request is forwarded — in memory up to ``memRequestBodyBytes``, on disk past it — and sent
with a ``Content-Length``; past ``maxRequestBodyBytes`` the client gets 413.  The answer is read
whole the same way (``memResponseBodyBytes``, ``maxResponseBodyBytes``: past it, 500).  With a
``retryExpression`` (``IsNetworkError() && Attempts() < 2``) an attempt the expression holds for
is made again, the held body replayed.

contentType, as Traefik's: a response without ``Content-Type`` gets none by default (Go's
sniffing is off); with ``autoDetect`` the first bytes decide it, as Go's
``http.DetectContentType`` would (the common signatures of the WHATWG sniffing algorithm).
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterable, AsyncIterator
from typing import IO, Final

import attrs

from ..config import Buffering, ContentType, parse_retry_expression
from ..http import NO_BODY, Response
from ._call import Call, Layer, Next, get_header, plain, remove_header, set_header

__all__ = ["sniff_content_type"]

_CHUNK: Final = 64 * 1024


class _TooLarge(Exception):
    pass


async def _spool(chunks: AsyncIterable[bytes], memory: int, limit: int) -> IO[bytes]:
    """The chunks in a spooled file (memory up to *memory* bytes); `_TooLarge` past *limit*."""
    spool = tempfile.SpooledTemporaryFile(max_size=memory or 1)  # noqa: SIM115 - returned
    size = 0
    try:
        async for chunk in chunks:
            size += len(chunk)
            if limit and size > limit:
                raise _TooLarge
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def _size(spool: IO[bytes]) -> int:
    here = spool.tell()
    end = spool.seek(0, 2)
    spool.seek(here)
    return end


async def _replay(spool: IO[bytes]) -> AsyncIterator[bytes]:
    spool.seek(0)
    while chunk := spool.read(_CHUNK):
        yield chunk


async def _drain(spool: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        async for chunk in _replay(spool):
            yield chunk
    finally:
        spool.close()


@attrs.frozen
class _Attempt:
    """What a retryExpression reads of one attempt."""

    network: bool
    count: int
    code: int

    def is_network_error(self) -> bool:
        return self.network

    def attempts(self) -> int:
        return self.count

    def response_code(self) -> int:
        return self.code


def build_buffering(model: Buffering) -> Layer:
    """The buffering layer."""
    retry = parse_retry_expression(model.retry_expression) if model.retry_expression else None

    def layer(next_: Next) -> Next:
        async def handle(call: Call) -> Response:
            spool: IO[bytes] | None = None
            if call.body is not NO_BODY:
                try:
                    spool = await _spool(
                        call.body, model.mem_request_body_bytes, model.max_request_body_bytes
                    )
                except _TooLarge:
                    return plain(413, "Request Entity Too Large")
                remove_header(call.headers, b"transfer-encoding")
                set_header(call.headers, b"content-length", b"%d" % _size(spool))
            try:
                attempt = 0
                while True:
                    attempt += 1
                    call.upstream_error = None
                    if spool is not None:
                        call.body = _replay(spool)
                    response = await next_(call)
                    if retry is None:
                        break
                    outcome = _Attempt(call.upstream_error is not None, attempt, response.status)
                    if not retry.holds(outcome):
                        break
                    closing = getattr(response.body, "aclose", None)
                    if closing is not None:
                        await closing()
            finally:
                if spool is not None:
                    spool.close()
            return await _hold(response, model)

        return handle

    return layer


async def _hold(response: Response, model: Buffering) -> Response:
    """The answer with its body read whole (500 past ``maxResponseBodyBytes``)."""
    if isinstance(response.body, bytes):
        if model.max_response_body_bytes and len(response.body) > model.max_response_body_bytes:
            return plain(500, "Internal Server Error")
        return response
    try:
        spool = await _spool(
            response.body, model.mem_response_body_bytes, model.max_response_body_bytes
        )
    except _TooLarge:
        return plain(500, "Internal Server Error")
    finally:
        closing = getattr(response.body, "aclose", None)
        if closing is not None:
            await closing()
    headers = list(response.headers)
    remove_header(headers, b"transfer-encoding")
    set_header(headers, b"content-length", b"%d" % _size(spool))
    return attrs.evolve(response, headers=headers, body=_drain(spool), checked=False)


# --- contentType ----------------------------------------------------------------------------

_SIGNATURES: Final = (
    (b"%PDF-", "application/pdf"),
    (b"%!PS-Adobe-", "application/postscript"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"BM", "image/bmp"),
    (b"\x00\x00\x01\x00", "image/x-icon"),
    (b"OggS\x00", "application/ogg"),
    (b"ID3", "audio/mpeg"),
    (b"\x1f\x8b\x08", "application/x-gzip"),
    (b"PK\x03\x04", "application/zip"),
    (b"Rar!\x1a\x07", "application/x-rar-compressed"),
    (b"\x00asm", "application/wasm"),
    (b"wOFF", "font/woff"),
    (b"wOF2", "font/woff2"),
    (b"\xef\xbb\xbf", "text/plain; charset=utf-8"),
)
_HTML: Final = (
    b"<!doctype html", b"<html", b"<head", b"<script", b"<iframe", b"<h1", b"<div", b"<font",
    b"<table", b"<a", b"<style", b"<title", b"<b", b"<body", b"<br", b"<p", b"<!--",
)  # fmt: skip
_BINARY: Final = frozenset([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x1B), *range(0x1C, 0x20)])


def sniff_content_type(data: bytes) -> str:
    """The type Go's ``http.DetectContentType`` gives the first bytes of a body."""
    head = data[:512]
    text = head.lstrip(b"\t\n\x0c\r ")
    lowered = text[:16].lower()
    for tag in _HTML:
        after = text[len(tag) : len(tag) + 1]
        if lowered.startswith(tag) and (after in (b" ", b">") or tag == b"<!--"):
            return "text/html; charset=utf-8"
    if lowered.startswith(b"<?xml"):
        return "text/xml; charset=utf-8"
    for magic, kind in _SIGNATURES:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wave"
    if any(byte in _BINARY for byte in head):
        return "application/octet-stream"
    return "text/plain; charset=utf-8"


def build_content_type(model: ContentType) -> Layer:
    """The contentType layer."""

    def layer(next_: Next) -> Next:
        if not model.auto_detect:
            return next_  # no Content-Type is added: the default, as Traefik's

        async def handle(call: Call) -> Response:
            response = await next_(call)
            if get_header(response.headers, b"content-type") is not None:
                return response
            if response.status in (204, 304) or response.tunnel is not None:
                return response
            body = response.body
            first = b""
            if isinstance(body, bytes):
                first = body
            else:
                stream = body.__aiter__()
                try:
                    first = await stream.__anext__()
                except StopAsyncIteration:
                    body = b""
                else:
                    body = _prefixed(first, stream)
            headers = [*response.headers, (b"content-type", sniff_content_type(first).encode())]
            return attrs.evolve(response, headers=headers, body=body, checked=False)

        return handle

    return layer


async def _prefixed(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    try:
        yield first
        async for chunk in rest:
            yield chunk
    finally:
        closing = getattr(rest, "aclose", None)
        if closing is not None:
            await closing()
