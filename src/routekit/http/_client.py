"""The HTTP/1.1 client: a pool of kept-alive connections per origin, on h11 and anyio.

One client serves the proxy and the providers alike.  Connections to an origin (scheme, host,
port — or a unix socket) are reused while h11 says they can be, up to `PoolLimits.per_origin`
at once and for `PoolLimits.idle` seconds of rest.  A request sent on a reused connection that
the server had closed before answering anything is sent again on a fresh one, when it can be
(no body, or a body given as bytes); otherwise the error names the origin.  Bodies stream both
ways: the response body is an async iterator, read as it arrives.

A plain exchange — a request with its body as bytes, answered by a final response framed by
``Content-Length`` — takes the strict fast path of `_fast` (the request written as bytes, the
response head read by one regular expression); any other request, and any response head the
fast path declines, is an exchange of a fresh h11 connection, which at a request boundary is
in the same state as a kept-alive one.
"""

from __future__ import annotations

import ssl
import time
import urllib.parse
from collections import deque
from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import Final, NamedTuple, final

import anyio
import h11

from ._fast import BLANK_LINE, FAST_PATH, FastResponse, parse_response_head, request_bytes
from ._serve import NO_BODY
from ._upstream import (
    ClientResponse,
    Connection,
    Held,
    Origin,
    PoolFull,
    PoolLimits,
    Slots,
    Stale,
    Upgraded,
    UpstreamError,
    UpstreamTimeout,
    closed_error,
    connect,
    nothing,
    one,
)
from ._wire import GONE, Wire

__all__ = [
    "Client",
    "ClientResponse",
    "Origin",
    "PoolFull",
    "PoolLimits",
    "UpstreamError",
    "UpstreamTimeout",
    "Upgraded",
]

_MAX_HEAD: Final = 16 * 1024  # h11's max_incomplete_event_size, past which it refuses


@final
class Client:
    """A pooled HTTP/1.1 client: ``async with Client() as c: r = await c.request("GET", url)``.

    Args:
        limits: pool sizes and timeouts.
        ssl_context: for ``https`` origins; verification on by default.
        server_name: the TLS server name to send and verify, instead of each origin's host.
        fast: whether plain exchanges take the strict fast path (``False``: every exchange
            through h11; the default is `routekit.http.FAST_PATH`).
    """

    def __init__(
        self,
        limits: PoolLimits | None = None,
        *,
        ssl_context: ssl.SSLContext | None = None,
        server_name: str | None = None,
        fast: bool | None = None,
    ) -> None:
        self.limits = limits if limits is not None else PoolLimits()
        self._fast = FAST_PATH if fast is None else fast
        self._ssl = ssl_context
        self._server_name = server_name
        self._idle: dict[Origin, deque[Connection]] = {}
        self._slots: dict[Origin, Slots] = {}
        self._total = Slots(self.limits.total) if self.limits.total is not None else None

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every idle connection (those in use close when their response is done)."""
        # Shielded: a client closed because its task is cancelled still closes every socket.
        with anyio.CancelScope(shield=True):
            for idle in self._idle.values():
                while idle:
                    await idle.pop().wire.aclose()

    def idle_connections(self, origin: Origin) -> int:
        """How many kept-alive connections to *origin* wait for reuse."""
        return len(self._idle.get(origin, ()))

    async def get(self, url: str, *, headers: Sequence[tuple[bytes, bytes]] = ()) -> ClientResponse:
        """``GET`` *url* (`request` with the method filled in)."""
        return await self.request("GET", url, headers=headers)

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Sequence[tuple[bytes, bytes]] = (),
        body: bytes | AsyncIterator[bytes] = b"",
        origin: Origin | None = None,
        target: str | None = None,
        checked: bool = False,
    ) -> ClientResponse:
        """Send a request and return its response head; read the body before the next call
        that needs the same connection.

        With *origin* and *target* (the path and query) both given, *url* is not parsed and
        *headers* must carry ``Host`` — the proxy's way, which knows both already.  With
        *checked*, the method, target and headers are taken as valid (lower-case names, no
        control characters: what h11 parsed) and not checked again.

        Raises:
            UpstreamError: the origin refused, reset, or answered what is not HTTP/1.1.
            UpstreamTimeout: connecting or waiting for the answer took too long.
        """
        if body is NO_BODY:
            body = b""  # a request the server side got without a body: replayable as such
        all_headers = list(headers)
        if origin is not None and target is not None:
            where = origin  # the caller split the URL already (the proxy, per request)
        else:
            parts = urllib.parse.urlsplit(url)
            where = origin if origin is not None else Origin.from_url(url)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            if not _has(all_headers, b"host"):
                all_headers.insert(0, (b"host", parts.netloc.encode("idna") or b"localhost"))
        if isinstance(body, bytes):
            if body and not _has(all_headers, b"content-length"):
                all_headers.append((b"content-length", b"%d" % len(body)))
        elif not _has(all_headers, b"content-length") and not _has(
            all_headers, b"transfer-encoding"
        ):
            # A streamed body of unknown length goes chunked (RFC 9112 §6.1); a proxied one
            # lost its Transfer-Encoding with the hop-by-hop fields, as in Go's ReverseProxy.
            all_headers.append((b"transfer-encoding", b"chunked"))
        outgoing = _Outgoing(method, target, all_headers, checked=checked)
        if self._fast and isinstance(body, bytes):
            outgoing.fast = request_bytes(
                outgoing.method, outgoing.target, all_headers, len(body), checked=checked
            )
        if outgoing.fast is None:
            outgoing.event()  # h11 checks the request now, before any connection is taken
        slot = self._slots.get(where)
        if slot is None:
            slot = self._slots[where] = Slots(self.limits.per_origin, self._total)
        if not slot.take():  # (the common case takes a place without a coroutine)
            try:
                await slot.acquire(self.limits.pool)
            except TimeoutError:
                raise PoolFull(
                    f"{where}: no free connection in {self.limits.pool} s", sent=False
                ) from None
        try:
            connection = self._kept(where)
            reused = connection is not None
            if connection is None:
                connection, reused = await self._connection(where)
            try:
                return await self._exchange(where, connection, outgoing, body, slot)
            except Stale:
                if not reused or not isinstance(body, bytes):
                    raise closed_error(where, connection.wire) from None
            # A kept-alive connection the server had closed: the request, replayable, is sent
            # once more on a fresh connection.
            connection, _ = await self._connection(where, fresh=True)
            try:
                return await self._exchange(where, connection, outgoing, body, slot)
            except Stale:
                raise closed_error(where, connection.wire) from None
        except BaseException:
            slot.release()
            raise

    def _kept(self, origin: Origin) -> Connection | None:
        """The most recent kept-alive connection to *origin*, if it has not idled too long."""
        idle = self._idle.get(origin)
        if idle and time.monotonic() - idle[-1].idle_since <= self.limits.idle:
            return idle.pop()
        return None

    async def _connection(self, origin: Origin, *, fresh: bool = False) -> tuple[Connection, bool]:
        idle = None if fresh else self._idle.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if now - connection.idle_since <= self.limits.idle:
                return connection, True
            await connection.wire.aclose()
        context = None
        if origin.scheme == "https":
            context = self._ssl if self._ssl is not None else ssl.create_default_context()
        try:
            with anyio.fail_after(self.limits.connect):
                wire = await connect(origin, context, self._server_name)
        except TimeoutError:
            raise UpstreamTimeout(f"{origin}: connecting took too long", sent=False) from None
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise UpstreamError(f"{origin}: cannot connect: {reason}", sent=False) from None
        return Connection(wire), False

    async def _exchange(
        self,
        origin: Origin,
        connection: Connection,
        outgoing: _Outgoing,
        body: bytes | AsyncIterator[bytes],
        slot: Slots,
    ) -> ClientResponse:
        wire = connection.wire
        write = self.limits.write
        answered = False
        try:
            if outgoing.fast is not None:
                assert isinstance(body, bytes)
                head, keep_alive = outgoing.fast
                # The whole request in one write (each send on loopback is costly).
                await wire.send(head + body, write)
                fast, buffer, eof = await self._fast_head(origin, wire, outgoing.method)
                if fast is not None:
                    answered = True
                    return await self._fast_answer(
                        origin, connection, fast, buffer, slot, keep_alive=keep_alive
                    )
                # A response head the fast path leaves to h11: an h11 connection that sent
                # this request reads it from its first byte.
                conn = connection.conn = h11.Connection(h11.CLIENT)
                conn.send(outgoing.event())
                if body:
                    conn.send(h11.Data(data=body))
                conn.send(h11.EndOfMessage())
                conn.receive_data(bytes(buffer))
                if eof:
                    conn.receive_data(b"")
            else:
                conn = connection.conn = h11.Connection(h11.CLIENT)
                await self._send(conn, wire, outgoing.event(), body)
            while True:
                event = await self._next(origin, connection)
                answered = True
                if isinstance(event, h11.Response):
                    break
                if (
                    isinstance(event, h11.InformationalResponse)
                    and event.status_code == 101
                    and conn.their_state is h11.SWITCHED_PROTOCOL
                ):
                    data, _ = conn.trailing_data
                    upgraded = Upgraded(wire, bytes(data), slot)
                    return ClientResponse(101, list(event.headers), nothing(), upgraded=upgraded)
                # Other 1xx informational answers (100 Continue) are skipped here.
        except (*GONE, Stale) as exc:
            await wire.aclose()
            if not answered:
                raise Stale from exc
            raise UpstreamError(f"{origin}: the connection closed mid-answer") from None
        except TimeoutError:
            await wire.aclose()
            raise UpstreamTimeout(f"{origin}: the request was not taken in {write} s") from None
        except h11.LocalProtocolError as exc:
            # The request itself could not be sent as framed (a body shorter than its
            # Content-Length, for one): this connection is spoilt, the request failed.
            await wire.aclose()
            raise UpstreamError(f"{origin}: the request could not be sent: {exc}") from None
        except ssl.SSLError as exc:
            # With TLS 1.3 a server that refuses the client's certificate says so after the
            # handshake, in an alert the first read meets (RFC 8446 §4.4.2.4).
            await wire.aclose()
            raise UpstreamError(f"{origin}: TLS: {exc.reason or exc}") from None
        except BaseException:
            await wire.aclose()
            raise
        headers = list(event.headers)
        # A small answer often arrives whole with its head: then it is handed over as bytes,
        # and the connection goes back to the pool before the caller reads anything.
        early: list[bytes] = []
        try:
            while True:
                ready = conn.next_event()
                if isinstance(ready, h11.Data):
                    early.append(bytes(ready.data))
                elif isinstance(ready, h11.EndOfMessage):
                    complete = b"".join(early)
                    await self._finish(origin, connection, slot)
                    last = list(ready.headers)  # the trailer fields
                    return ClientResponse(
                        event.status_code, headers, one(complete), complete, trailers=last
                    )
                else:
                    break  # NEED_DATA: the rest streams as it comes
        except h11.RemoteProtocolError as exc:
            await wire.aclose()
            slot.release()
            raise UpstreamError(f"{origin}: invalid response: {exc}") from None
        held = Held(connection, slot)
        trailers: list[tuple[bytes, bytes]] = []
        stream = self._body(origin, connection, held, early, trailers)
        return ClientResponse(
            event.status_code, headers, stream, abandon=held.abandon, trailers=trailers
        )

    async def _send(
        self,
        conn: h11.Connection,
        wire: Wire,
        request: h11.Request,
        body: bytes | AsyncIterator[bytes],
    ) -> None:
        """Send a request through h11."""
        write = self.limits.write
        if isinstance(body, bytes):
            # The whole request in one write (each send on loopback is costly).
            whole = conn.send(request)
            if body:
                whole += conn.send(h11.Data(data=body))
            await wire.send(whole + conn.send(h11.EndOfMessage()), write)
            return
        await wire.send(conn.send(request), write)
        async for chunk in body:
            await wire.send(conn.send(h11.Data(data=chunk)), write)
        await wire.send(conn.send(h11.EndOfMessage()), write)

    async def _fast_head(
        self, origin: Origin, wire: Wire, method: bytes
    ) -> tuple[_Answer | None, bytearray, bool]:
        """Read up to the end of a response head: the fast path's reading of it (``None``:
        h11's to read), the bytes read, and whether the server closed after them."""
        buffer = bytearray()
        while True:
            data = await self._receive(origin, wire)
            if not data:
                # Closed before a whole head: as h11's path, a connection the server had
                # closed (the request may be sent again when it can be).
                raise Stale
            buffer += data
            blank = BLANK_LINE.search(buffer)
            if blank is not None:
                end = blank.end()
                fast = parse_response_head(bytes(buffer[:end]), method)
                return (_Answer(fast, end) if fast is not None else None), buffer, False
            if len(buffer) > _MAX_HEAD:
                return None, buffer, False  # h11 says what is wrong

    async def _fast_answer(
        self,
        origin: Origin,
        connection: Connection,
        answer: _Answer,
        buffer: bytearray,
        slot: Slots,
        *,
        keep_alive: bool,
    ) -> ClientResponse:
        """The response the fast path read, its body counted by its ``Content-Length``."""
        head = answer.head
        length = head.length
        early = bytes(buffer[answer.end : answer.end + length])
        # Bytes past the body are not a response to anything: the connection is not reused.
        reusable = keep_alive and head.keep_alive and len(buffer) - answer.end <= length
        if len(early) == length:
            await self._release(origin, connection, slot, reusable=reusable)
            return ClientResponse(head.status, head.headers, one(early), early, trailers=[])
        held = Held(connection, slot)
        stream = self._fast_body(origin, held, early, length, reusable=reusable)
        return ClientResponse(head.status, head.headers, stream, abandon=held.abandon)

    async def _fast_body(
        self, origin: Origin, held: Held, early: bytes, length: int, *, reusable: bool
    ) -> AsyncIterator[bytes]:
        """The rest of a body of *length* bytes, *early* of them read with the head."""
        wire = held.connection.wire
        left = length - len(early)
        try:
            if early:
                yield early
            while left:
                data = await self._receive(origin, wire)
                if not data:
                    # h11's words for a body cut short.
                    raise UpstreamError(
                        f"{origin}: invalid response: peer closed connection without sending "
                        f"complete message body (received {length - left} bytes, "
                        f"expected {length})"
                    )
                if len(data) > left:
                    data, reusable = data[:left], False
                left -= len(data)
                yield data
            held.done = True
            await self._release(origin, held.connection, held.slot, reusable=reusable)
        finally:
            # Given up, or failed mid-body: the connection cannot be reused.
            await held.abandon()

    async def _next(self, origin: Origin, connection: Connection) -> h11.Event:
        conn = connection.conn
        assert conn is not None
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                raise UpstreamError(f"{origin}: invalid response: {exc}") from None
            if event is h11.PAUSED:
                raise UpstreamError(f"{origin}: answered past the end of the response")
            if event is not h11.NEED_DATA:
                if isinstance(event, h11.ConnectionClosed):
                    raise Stale
                return event  # type: ignore[return-value]
            data = await self._receive(origin, connection.wire)
            if not data and conn.their_state is h11.SEND_RESPONSE:
                raise Stale  # closed before the first byte of an answer
            conn.receive_data(data)

    async def _receive(self, origin: Origin, wire: Wire) -> bytes:
        """The server's next bytes; `UpstreamTimeout` past `PoolLimits.read`."""
        try:
            return await wire.receive(self.limits.read)
        except TimeoutError:
            raise UpstreamTimeout(f"{origin}: no answer in {self.limits.read} s") from None

    async def _body(
        self,
        origin: Origin,
        connection: Connection,
        held: Held,
        early: list[bytes],
        trailers: list[tuple[bytes, bytes]],
    ) -> AsyncIterator[bytes]:
        try:
            for chunk in early:
                yield chunk
            while True:
                event = await self._next(origin, connection)
                if isinstance(event, h11.Data):
                    yield bytes(event.data)
                elif isinstance(event, h11.EndOfMessage):
                    trailers.extend(event.headers)
                    break
            held.done = True
            await self._finish(origin, connection, held.slot)
        except Stale:
            raise UpstreamError(f"{origin}: the connection closed mid-body") from None
        finally:
            # Given up, or failed mid-body: the connection cannot be reused.
            await held.abandon()

    async def _finish(self, origin: Origin, connection: Connection, slot: Slots) -> None:
        """An h11 exchange is complete: keep the connection when h11 says it can be, and no
        byte past the response waits in its buffer."""
        conn = connection.conn
        assert conn is not None
        connection.conn = None  # the next exchange starts on the fast path, or a fresh h11
        reusable = (
            conn.our_state is h11.DONE
            and conn.their_state is h11.DONE
            and conn.trailing_data == (b"", False)
        )
        await self._release(origin, connection, slot, reusable=reusable)

    async def _release(
        self, origin: Origin, connection: Connection, slot: Slots, *, reusable: bool
    ) -> None:
        """Give the connection back to the pool (or close it) and free its place."""
        try:
            if reusable:
                connection.idle_since = time.monotonic()
                idle = self._idle.get(origin)
                if idle is None:  # (not setdefault: it would make a deque every time)
                    idle = self._idle[origin] = deque()
                idle.append(connection)
            else:
                await connection.wire.aclose()
        finally:
            slot.release()


class _Answer(NamedTuple):
    """A response head the fast path read, and where its body starts in the bytes read."""

    head: FastResponse
    end: int


@final
class _Outgoing:
    """A request on its way: its parts, the fast path's bytes of it (``None``: h11's to send),
    and its h11 event, made when h11 needs it."""

    __slots__ = ("_event", "checked", "fast", "headers", "method", "target")

    def __init__(
        self, method: str, target: str, headers: list[tuple[bytes, bytes]], *, checked: bool
    ) -> None:
        self.method = method.encode("latin-1")
        self.target = target.encode("latin-1")
        self.headers = headers
        self.checked = checked
        self.fast: tuple[bytes, bool] | None = None
        self._event: h11.Request | None = None

    def event(self) -> h11.Request:
        """The request as an h11 event (`h11.LocalProtocolError` for an invalid one)."""
        if self._event is None:
            if self.checked:
                # h11's own flag for events built from what its parser produced: the proxy's
                # request line and fields came out of h11 (or are the proxy's own), so their
                # re-validation (8 µs of a proxied request) is skipped.
                self._event = h11.Request(
                    method=self.method,
                    target=self.target,
                    headers=self.headers,
                    http_version=b"1.1",
                    _parsed=True,
                )
            else:
                self._event = h11.Request(
                    method=self.method, target=self.target, headers=self.headers
                )
        return self._event


def _has(headers: Sequence[tuple[bytes, bytes]], name: bytes) -> bool:
    return any(k.lower() == name for k, _ in headers)
