"""The proxy path of the ASGI face: a scope becomes a request head for `routekit.proxy.Proxy`,
and the `Response` it answers goes back through ASGI ``send``.

There is one forwarding implementation: the proxy's (balancers, the pooled h11 client, the
header rules, middlewares, statuses 404/502/503/504 as Traefik's).  This module only translates.
A WebSocket scope is sent upstream as an ``Upgrade`` request; once the server switches (``101``)
the proxy tunnels bytes, and `WebSocketWire` turns ASGI ``websocket.*`` messages into the
frames a client would send, and the server's frames into messages (RFC 6455, with wsproto).
"""

from __future__ import annotations

import base64
import logging
import os
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Final

import anyio
import h11

from ..errors import BadRequest
from ..http import NO_BODY, RequestHead, Response
from ._types import Message, Receive, Scope, Send

__all__ = [
    "ClientLeft",
    "body_of",
    "chunks",
    "deny_websocket",
    "refuse",
    "request_head",
    "send_response",
]

_log: Final = logging.getLogger("routekit.asgi")
_SECURE: Final = frozenset({"https", "wss"})
# The ASGI server already answered the client's ``Expect: 100-continue`` (it does so on the
# first ``receive``): the server upstream must not wait for a body that is on its way.  An
# ``http`` scope cannot switch protocols (WebSockets come as ``websocket`` scopes), so no other
# upgrade (h2c) is asked of the server upstream.
_DROPPED: Final = frozenset({b"expect", b"upgrade"})
# Extensions (permessage-deflate) are negotiated by the ASGI server with the client; upstream,
# the frames travel plain, so none is offered there (RFC 6455 §9.1).
_WS_DROPPED: Final = frozenset({b"expect", b"sec-websocket-extensions"})


class ClientLeft(Exception):
    """The client disconnected before its request body was complete."""


def _target(scope: Scope) -> bytes:
    raw: bytes | None = scope.get("raw_path")
    if raw:
        raw = raw.partition(b"?")[0]  # some servers put the query in raw_path too
    else:
        raw = urllib.parse.quote(scope.get("path") or "/", safe="/:@!$&'()*+,;=~").encode("ascii")
    query: bytes = scope.get("query_string") or b""
    return raw + b"?" + query if query else raw


def request_head(scope: Scope) -> RequestHead:
    """The h11 request head of an ``http`` or ``websocket`` *scope*.

    Raises:
        BadRequest: the scope holds what HTTP/1.1 cannot carry.
    """
    websocket = scope["type"] == "websocket"
    dropped = _WS_DROPPED if websocket else _DROPPED
    headers = [(k, v) for k, v in scope.get("headers") or () if k.lower() not in dropped]
    names = {k.lower() for k, _ in headers}
    if b"host" not in names:
        # HTTP/1.0 and HTTP/2 clients may send no Host; the server's address stands in.
        server = scope.get("server")
        host = f"{server[0]}:{server[1]}" if server and server[1] is not None else "localhost"
        headers.insert(0, (b"host", host.encode("idna")))
    if websocket:
        # An HTTP/2 WebSocket (RFC 8441) has no upgrade fields: the HTTP/1.1 ones are added.
        if b"upgrade" not in names:
            headers += [(b"upgrade", b"websocket"), (b"connection", b"upgrade")]
        if b"sec-websocket-key" not in names:
            headers.append((b"sec-websocket-key", base64.b64encode(os.urandom(16))))
        if b"sec-websocket-version" not in names:
            headers.append((b"sec-websocket-version", b"13"))
    method = "GET" if websocket else scope.get("method", "GET")
    try:
        event = h11.Request(method=method, target=_target(scope), headers=headers)
    except h11.LocalProtocolError as exc:
        raise BadRequest(f"the request cannot be forwarded: {exc}") from None
    client = scope.get("client")
    return RequestHead(
        event,
        client_ip=client[0] if client else None,
        tls=scope.get("scheme") in _SECURE,
    )


async def chunks(receive: Receive, first: bytes = b"") -> AsyncIterator[bytes]:
    """A request body's chunks from ASGI ``http.request`` messages; `ClientLeft` on a
    disconnect."""
    if first:
        yield first
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientLeft
        chunk: bytes = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def body_of(head: RequestHead, receive: Receive) -> tuple[RequestHead, AsyncIterator[bytes]]:
    """The request body as chunks, and the head with the framing the body needs upstream.

    A body with a ``Content-Length`` or ``Transfer-Encoding`` streams as it is.  Otherwise (an
    HTTP/2 client, or a server that leaves framing out) the first message decides: no body is
    no body, one that came whole gets its length, one still coming streams (the client sends
    it chunked, RFC 9112 §6.1).
    """
    fields = {k for k, _ in head.event.headers}
    if b"content-length" in fields or b"transfer-encoding" in fields:
        return head, chunks(receive)
    message = await receive()
    if message["type"] != "http.request":
        raise ClientLeft
    data: bytes = message.get("body", b"")
    if message.get("more_body", False):
        return head, chunks(receive, data)
    if not data:
        return head, NO_BODY
    event = head.event
    length = (b"content-length", b"%d" % len(data))
    event = h11.Request(method=event.method, target=event.target, headers=[*event.headers, length])
    return RequestHead(event, head.client_ip, head.tls, head.peer_certificate), _once(data)


async def send_response(response: Response, send: Send) -> None:
    """Send *response* on an ASGI ``http`` connection, streaming its body."""
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": [(k, v) for k, v in response.headers],
        }
    )
    body = response.body
    if isinstance(body, bytes):
        await send({"type": "http.response.body", "body": body})
        return
    try:
        async for chunk in body:
            if chunk:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
    finally:
        closing: Callable[[], Awaitable[None]] | None = getattr(body, "aclose", None)
        if closing is not None:
            with anyio.CancelScope(shield=True):
                await closing()  # the client left mid-body: let the producer clean up now
    await send({"type": "http.response.body", "body": b""})


async def deny_websocket(scope: Scope, send: Send, response: Response) -> None:
    """Refuse a WebSocket with *response*: as it is where the server can send an HTTP answer
    (the ``websocket.http.response`` extension), else with a close (the server answers 403)."""
    if "websocket.http.response" in (scope.get("extensions") or {}):
        body = response.body if isinstance(response.body, bytes) else b""
        if not isinstance(response.body, bytes):
            async for chunk in response.body:
                body += chunk
        start: Message = {
            "type": "websocket.http.response.start",
            "status": response.status,
            "headers": [(k, v) for k, v in response.headers],
        }
        await send(start)
        await send({"type": "websocket.http.response.body", "body": body})
        return
    await send({"type": "websocket.close", "code": 1008})


async def refuse(scope: Scope, send: Send, response: Response) -> None:
    """Answer *response* instead of serving: as an HTTP answer, or a WebSocket's refusal."""
    if scope["type"] == "websocket":
        await deny_websocket(scope, send, response)
    else:
        await send_response(response, send)
