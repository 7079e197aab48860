"""Serve one connection over an anyio byte stream: `ServerConnection` driven with timeouts.

This is the transport for every anyio backend (asyncio and trio).  It reads, feeds the bytes to
`ServerConnection`, hands each request to the handler with its body as an async iterator, and
writes the response the handler returns, streaming its body.  Timeouts follow Traefik's entry
point ``transport.respondingTimeouts`` and Go's ``ReadHeaderTimeout``: a head not complete in
`Timeouts.read_head` is answered 408 (slowloris), and a kept-alive connection idle longer than
`Timeouts.idle` is closed.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Sequence,
)
from typing import Final, final

import anyio
import anyio.abc
import attrs

from ._server import (
    Body,
    EndOfMessage,
    Event,
    Limits,
    Refused,
    RequestHead,
    ServerConnection,
    error_response,
)
from ._wire import GONE, StreamWire, Wire

__all__ = ["Drain", "Handler", "Response", "Timeouts", "Tunnel", "serve_connection"]

_CHUNK: Final = 64 * 1024
_DISCARD_LIMIT: Final = 256 * 1024  # Go's net/http maxPostHandlerReadBytes
_log: Final = logging.getLogger("routekit.http")
_NO_BODY_STATUSES: Final = frozenset({204, 304})


@final
@attrs.frozen(kw_only=True)
class Timeouts:
    """How long a connection may wait on the client, in seconds.

    Attributes:
        read_head: from the first byte of a request (or the connection's start) to the end of
            its head; past it the client is answered 408 and the connection closed.
        idle: how long a kept-alive connection may wait for the next request (Traefik's
            ``idleTimeout``, 180 s by default).
        read_body: the longest wait for the next piece of a request body; past it the
            connection is closed, so that a client that stops sending holds nothing.
    """

    read_head: float = 10.0
    idle: float = 180.0
    read_body: float = 60.0


#: Takes over a connection after ``101``: the client's wire, and the bytes it already sent.
Tunnel = Callable[[Wire, bytes], Awaitable[None]]


@final
@attrs.frozen
class Response:
    """What a handler answers: status, headers, and the body (bytes, or chunks as they come).

    A ``101`` answer to an ``Upgrade`` request carries a *tunnel*: after the head is sent, the
    connection is handed to it (it owns the stream from then on) and serves no more requests.
    """

    status: int
    headers: Sequence[tuple[bytes, bytes]] = ()
    body: bytes | AsyncIterable[bytes] = b""
    tunnel: Tunnel | None = None
    #: The headers are valid already (parsed by h11: a proxied answer's); not checked again.
    checked: bool = False
    #: A proxied answer's trailer fields, filled in once its body has been read whole (for
    #: middlewares that read them: grpcWeb); not sent to the client.
    trailers: Sequence[tuple[bytes, bytes]] = ()


#: Serves one request: its head and its body (an iterator of chunks) give the `Response`.
Handler = Callable[[RequestHead, AsyncIterator[bytes]], Awaitable[Response]]


@final
class Drain:
    """Asks the connections that share it to finish, for a graceful shutdown.

    After `start`, a connection answers the request it is serving with ``Connection: close``
    and closes; one waiting for its next request closes at once.  New requests are not read.
    """

    __slots__ = ("_waiting", "draining")

    def __init__(self) -> None:
        self.draining = False
        self._waiting: set[Wire] = set()

    def start(self) -> None:
        """Begin draining: idle connections close now, busy ones after their response."""
        self.draining = True
        for wire in list(self._waiting):
            wire.interrupt()

    def idle(self, wire: Wire) -> None:
        """Mark a connection idle: `start` interrupts it (at once, if already draining).

        (Methods, not a context manager: each idle connection would hold one more object.)
        """
        if self.draining:
            wire.interrupt()
        self._waiting.add(wire)

    def busy(self, wire: Wire) -> None:
        """The connection is no longer idle."""
        self._waiting.discard(wire)


@final
class _NoBody(AsyncIterator[bytes]):
    """The body of a request that has none: ends at once, holds nothing."""

    __slots__ = ()

    def __aiter__(self) -> _NoBody:
        return self

    async def __anext__(self) -> bytes:
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Nothing to close."""


#: What a handler gets as the body of a request without one (`Client` sends it as ``b""``).
NO_BODY: Final = _NoBody()


class _Closed(Exception):
    """The connection cannot continue (the client left, or a refusal was sent)."""


@final
class _Reader:
    """The events of one connection, read from the stream as they are needed."""

    __slots__ = ("conn", "events", "got_bytes", "wire")

    def __init__(self, wire: Wire, conn: ServerConnection) -> None:
        self.wire = wire
        self.conn = conn
        self.events: list[Event] = []  # few at a time; a list is lighter than a deque
        self.got_bytes = False  # whether the current request has sent anything yet

    async def fill(self, timeout: float) -> None:
        """Read once and queue the events; `_Closed` when the client left, `TimeoutError`."""
        data = await self.wire.receive(timeout)
        if not data:
            self.conn.receive(b"")
            raise _Closed
        self.got_bytes = True
        self.events.extend(self.conn.receive(data))

    async def next(self, timeout: float) -> Event:
        """The next event, reading as much as it takes within *timeout* seconds."""
        if self.events:
            return self.events.pop(0)
        deadline = time.monotonic() + timeout
        while not self.events:
            await self.fill(deadline - time.monotonic())
        return self.events.pop(0)


async def serve_connection(
    stream: anyio.abc.ByteStream | Wire,
    handler: Handler,
    *,
    limits: Limits | None = None,
    timeouts: Timeouts | None = None,
    drain: Drain | None = None,
    fast: bool | None = None,
) -> None:
    """Serve requests on *stream* until the client leaves, a refusal, a timeout or *drain*;
    close it.  *fast*: whether plain requests take the fast path (`ServerConnection`)."""
    wire = stream if isinstance(stream, Wire) else StreamWire(stream)
    conn = ServerConnection(
        limits,
        client_ip=wire.peer,
        tls=wire.tls,
        peer_certificate=wire.peer_certificate,
        fast=fast,
    )
    times = timeouts if timeouts is not None else Timeouts()
    drain = drain if drain is not None else Drain()
    reader = _Reader(wire, conn)
    fresh = True
    try:
        while not conn.closed and not drain.draining:
            head = await _read_head(reader, times, drain, fresh=fresh)
            fresh = False
            if head is None:
                return
            body: AsyncGenerator[bytes, None] | _NoBody
            if reader.events and isinstance(reader.events[0], EndOfMessage):
                # The whole request is here and has no body (a GET, mostly): no generator to
                # run, and a proxied request stays replayable.
                del reader.events[0]
                body = NO_BODY
            else:
                body = _body(reader, times.read_body)
            try:
                response = await handler(head, body)
            except _Closed:
                return  # the client left while the handler read the body
            except Exception:  # a handler's bug must not leave the client hanging
                _log.exception("the request handler failed")
                await _quietly(wire.send(error_response(500)))
                return
            if drain.draining:
                # Shutting down: this is the connection's last answer (as Go's Shutdown does).
                response = attrs.evolve(
                    response, headers=[*response.headers, (b"connection", b"close")]
                )
            if response.tunnel is not None:
                await body.aclose()
                with contextlib.suppress(*GONE):
                    await _switch(wire, conn, response)
                return
            # A client still waiting for 100 Continue will not send the body it announced: the
            # connection cannot be read past it, so it ends with this answer.
            unread = conn.awaiting_continue
            try:
                await _send(wire, conn, head, response)
            except GONE:
                return  # the client left mid-answer
            except Exception:
                # The body failed after its head was sent (an upstream died mid-response):
                # closing without the end of the message is the only signal left to the client.
                _log.debug("response body ended by an error", exc_info=True)
                return
            if unread:
                await body.aclose()
                return
            if not await _discard(body):
                return
            reader.events[:0] = conn.next_request()
            reader.got_bytes = bool(reader.events)
    except _Closed:
        return
    finally:
        await wire.aclose()


async def _read_head(
    reader: _Reader, times: Timeouts, drain: Drain, *, fresh: bool
) -> RequestHead | None:
    """The next request head; ``None`` when the connection is to close (answered if needed)."""
    if not reader.got_bytes:
        # Waiting for a request's first bytes: `idle` on a kept-alive connection, `read_head`
        # on a new one; a drain closes the connection now.
        drain.idle(reader.wire)
        try:
            await reader.fill(times.read_head if fresh else times.idle)
        except TimeoutError:
            return None
        finally:
            drain.busy(reader.wire)
        if not reader.got_bytes:
            return None
    event: Event | None = None
    try:
        event = await reader.next(times.read_head)
    except TimeoutError:
        if reader.got_bytes:  # a head begun and not finished in time (slowloris)
            await _quietly(reader.wire.send(error_response(408)))
        return None
    if isinstance(event, Refused):
        await _quietly(reader.wire.send(event.answer))
        return None
    # Body or end events cannot come before a head: anything else ends the connection.
    return event if isinstance(event, RequestHead) else None


async def _quietly(sending: Awaitable[None]) -> None:
    # An answer to a client that already left is not an error of ours.
    with contextlib.suppress(*GONE):
        await sending


async def _body(reader: _Reader, wait: float) -> AsyncGenerator[bytes, None]:
    """The request body's chunks; a refusal, the client leaving mid-body or a wait longer than
    *wait* for the next piece ends the connection.  A client that sent ``Expect:
    100-continue`` is told to go on when the body is first asked for."""
    go_on = reader.conn.continue_()
    if go_on:
        try:
            await reader.wire.send(go_on)
        except GONE:
            raise _Closed from None
    while True:
        try:
            event = await reader.next(wait)
        except TimeoutError:
            raise _Closed from None
        if isinstance(event, Body):
            yield event.data
        elif isinstance(event, EndOfMessage):
            return
        else:
            raise _Closed


async def _discard(body: AsyncGenerator[bytes, None] | _NoBody) -> bool:
    """Read what the handler left of the request body, so that the connection can serve the
    next request; ``False`` (close) past `_DISCARD_LIMIT` bytes, as Go's server does."""
    if body is NO_BODY:
        return True
    left = _DISCARD_LIMIT
    try:
        async for chunk in body:
            left -= len(chunk)
            if left < 0:
                return False
    except _Closed:
        return False
    finally:
        await body.aclose()
    return True


async def _switch(wire: Wire, conn: ServerConnection, response: Response) -> None:
    """Send the ``101`` and hand the connection to the response's tunnel."""
    assert response.tunnel is not None
    if response.status != 101 or not conn.upgrading:
        # A handler's mistake: only an Upgrade request can be switched, and only with 101.
        await _quietly(wire.send(error_response(500)))
        return
    head, sent = conn.switch(response.headers)
    await wire.send(head)
    await response.tunnel(wire, sent)


async def _send(wire: Wire, conn: ServerConnection, head: RequestHead, response: Response) -> None:
    headers = list(response.headers)
    bodiless = (
        head.event.method == b"HEAD"
        or response.status in _NO_BODY_STATUSES
        or response.status < 200
    )
    if (
        isinstance(response.body, bytes)
        and not bodiless
        and not any(k == b"content-length" for k, _ in headers)
    ):
        headers.append((b"content-length", b"%d" % len(response.body)))
    start = conn.respond(response.status, headers, checked=response.checked)
    if isinstance(response.body, bytes):
        # One write for the whole answer: each send on loopback costs as much as h11's work.
        body = conn.body(response.body) if response.body and not bodiless else b""
        await wire.send(start + body + conn.end())
        return
    await wire.send(start)
    try:
        # A body without bytes to send (HEAD, 204, 304) is still run to its end: what
        # produces it (a proxied upstream) releases its resources there.
        async for chunk in response.body:
            if chunk and not bodiless:
                await wire.send(conn.body(chunk))
    finally:
        closing = getattr(response.body, "aclose", None)
        if closing is not None:
            await closing()  # the client left mid-body: let the producer clean up now
    await wire.send(conn.end())
