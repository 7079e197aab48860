"""The HTTP/1.1 client: a pool of kept-alive connections per origin, on h11 and anyio.

One client serves the proxy and the providers alike.  Connections to an origin (scheme, host,
port — or a unix socket) are reused while h11 says they can be, up to `PoolLimits.per_origin`
at once and for `PoolLimits.idle` seconds of rest.  A request sent on a reused connection that
the server had closed before answering anything is sent again on a fresh one, when it can be
(no body, or a body given as bytes); otherwise the error names the origin.  Bodies stream both
ways: the response body is an async iterator, read as it arrives.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
import urllib.parse
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from types import TracebackType
from typing import Final, final

import anyio
import anyio.abc
import attrs
import h11

from ..errors import RoutekitError
from ._serve import NO_BODY
from ._wire import GONE, ProtocolWire, StreamWire, Wire, on_asyncio

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

_CHUNK: Final = 64 * 1024


class UpstreamError(RoutekitError):
    """An upstream could not be reached, or answered what is not HTTP/1.1 (a 502).

    Attributes:
        sent: whether any of the request may have reached the server; a request that was
            not sent can be sent elsewhere whatever its method (the retry middleware does).
    """

    status_hint = 502

    def __init__(self, message: str, *, sent: bool = True) -> None:
        super().__init__(message)
        self.sent = sent


class UpstreamTimeout(UpstreamError):
    """An upstream did not answer in time (a 504)."""

    status_hint = 504


class PoolFull(UpstreamError):
    """Every connection the pool may open is in use, past `PoolLimits.pool` (a 503)."""

    status_hint = 503


@final
@attrs.frozen
class Origin:
    """Where requests go: ``http``/``https`` host and port, or a unix socket path."""

    scheme: str
    host: str
    port: int
    unix: str | None = None

    @classmethod
    def from_url(cls, url: str) -> Origin:
        """The origin of ``http://h:p/…``, ``https://…`` or ``unix:///path/to.sock``.

        Raises:
            UpstreamError: not such a URL.
        """
        parts = urllib.parse.urlsplit(url)
        if parts.scheme == "unix":
            return cls("http", "localhost", 80, unix=parts.path)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UpstreamError(f"not an http(s) or unix URL: {url!r}", sent=False)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise UpstreamError(f"bad port in {url!r}", sent=False) from None
        return cls(parts.scheme, parts.hostname, port)

    def __str__(self) -> str:
        return f"unix://{self.unix}" if self.unix else f"{self.scheme}://{self.host}:{self.port}"


@final
@attrs.frozen(kw_only=True)
class PoolLimits:
    """How many connections the client keeps, and for how long.

    Attributes:
        per_origin: open connections to one origin at most (Traefik's
            ``maxIdleConnsPerHost`` bounds the idle ones; this bounds all of them).
        idle: seconds an unused connection is kept before it is closed.
        total: open connections to all origins together at most (``None``: no bound).
        idle: seconds an unused connection is kept before it is closed.
        connect: seconds to open a connection (and its TLS handshake).
        read: seconds to wait for each piece of a response.
        write: seconds a server may take to accept each piece of a request.
        pool: seconds to wait for a free connection when every one is taken.
    """

    per_origin: int = 200
    total: int | None = None
    idle: float = 90.0
    connect: float = 30.0
    read: float = 300.0
    write: float = 60.0
    pool: float = 30.0


@final
class _Connection:
    __slots__ = ("conn", "idle_since", "wire")

    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self.conn = h11.Connection(h11.CLIENT)
        self.idle_since = 0.0


@final
class _Slots:
    """How many connections to one origin may be open; waiting only when all are taken.

    (An ``anyio.Semaphore`` checkpoints on every acquire, a cost paid on each request.)
    """

    __slots__ = ("_free", "_parent", "_waiters")

    def __init__(self, size: int | None, parent: _Slots | None = None) -> None:
        self._free = size if size is not None else 1 << 62
        self._parent = parent  # the client-wide bound, taken with this one
        self._waiters: deque[anyio.Event] = deque()

    async def acquire(self, timeout: float) -> None:
        """Take a place, waiting up to *timeout* seconds; `TimeoutError` past it."""
        if self._free <= 0:
            with anyio.fail_after(timeout):
                while self._free <= 0:
                    event = anyio.Event()
                    self._waiters.append(event)
                    try:
                        await event.wait()
                    finally:
                        if event in self._waiters:
                            self._waiters.remove(event)
        self._free -= 1
        if self._parent is not None:
            try:
                await self._parent.acquire(timeout)
            except BaseException:
                self._free += 1
                self._wake()
                raise

    def release(self) -> None:
        """Give a place back (and this client's share of the total)."""
        self._free += 1
        self._wake()
        if self._parent is not None:
            self._parent.release()

    def _wake(self) -> None:
        if self._waiters:
            self._waiters.popleft().set()


@final
class Upgraded(Wire):
    """The connection after a ``101``: raw bytes both ways; `data` was read past the head.

    Closing it closes the connection and gives its place in the pool back.
    """

    __slots__ = ("_slot", "_wire", "data")

    def __init__(self, wire: Wire, data: bytes, slot: _Slots) -> None:
        super().__init__()
        self._wire = wire
        self.data = data
        self._slot: _Slots | None = slot
        self.peer, self.tls = wire.peer, wire.tls

    async def receive(self, timeout: float) -> bytes:
        """Bytes from the server."""
        return await self._wire.receive(timeout)

    async def send(self, data: bytes, timeout: float | None = None) -> None:
        """Bytes to the server."""
        await self._wire.send(data, timeout)

    def interrupt(self) -> None:
        """Wake a waiting `receive` with ``b""``."""
        self._wire.interrupt()

    async def aclose(self, *, abort: bool = False) -> None:
        """Close the connection (once) and free its place in the pool."""
        await self._wire.aclose(abort=abort)
        if self._slot is not None:
            self._slot.release()
            self._slot = None


@final
class ClientResponse:
    """A response head, and its body as it arrives (`iter_bytes`, or `read` for all of it).

    A ``101 Switching Protocols`` answer has no body; `upgraded` is the connection then.
    """

    def __init__(
        self,
        status: int,
        headers: list[tuple[bytes, bytes]],
        body: AsyncIterator[bytes],
        complete: bytes | None = None,
        upgraded: Upgraded | None = None,
        *,
        abandon: Callable[[], Awaitable[None]] | None = None,
        trailers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        self.status = status
        self.headers = headers
        #: The trailer fields of a chunked body, filled in once the body has been read whole.
        self.trailers: list[tuple[bytes, bytes]] = trailers if trailers is not None else []
        self._body = body
        self._abandon = abandon
        #: The whole body when it came with the head (the connection is already free then).
        self.complete = complete
        self.upgraded = upgraded

    def iter_bytes(self) -> AsyncIterator[bytes]:
        """The body's chunks, read from the connection as they come (once)."""
        return self._body

    async def read(self) -> bytes:
        """The whole body."""
        return b"".join([chunk async for chunk in self._body])

    async def aclose(self) -> None:
        """Give up the rest of the body: the connection is closed, not reused."""
        closing = getattr(self._body, "aclose", None)
        if closing is not None:
            await closing()
        if self._abandon is not None:
            # A body never iterated has not run its clean-up: the connection is closed here.
            await self._abandon()


@final
class Client:
    """A pooled HTTP/1.1 client: ``async with Client() as c: r = await c.request("GET", url)``.

    Args:
        limits: pool sizes and timeouts.
        ssl_context: for ``https`` origins; verification on by default.
        server_name: the TLS server name to send and verify, instead of each origin's host.
    """

    def __init__(
        self,
        limits: PoolLimits | None = None,
        *,
        ssl_context: ssl.SSLContext | None = None,
        server_name: str | None = None,
    ) -> None:
        self.limits = limits if limits is not None else PoolLimits()
        self._ssl = ssl_context
        self._server_name = server_name
        self._idle: dict[Origin, deque[_Connection]] = {}
        self._slots: dict[Origin, _Slots] = {}
        self._total = _Slots(self.limits.total) if self.limits.total is not None else None

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
        if checked:
            # h11's own flag for events built from what its parser produced: the proxy's
            # request line and fields came out of h11 (or are the proxy's own), so their
            # re-validation (8 µs of a proxied request) is skipped.
            request = h11.Request(
                method=method.encode("latin-1"),
                target=target.encode("latin-1"),
                headers=all_headers,
                http_version=b"1.1",
                _parsed=True,
            )
        else:
            request = h11.Request(method=method, target=target, headers=all_headers)
        slot = self._slots.get(where)
        if slot is None:
            slot = self._slots[where] = _Slots(self.limits.per_origin, self._total)
        try:
            await slot.acquire(self.limits.pool)
        except TimeoutError:
            raise PoolFull(
                f"{where}: no free connection in {self.limits.pool} s", sent=False
            ) from None
        try:
            connection, reused = await self._connection(where)
            try:
                return await self._exchange(where, connection, request, body, slot)
            except _Stale:
                if not reused or not isinstance(body, bytes):
                    raise _closed(where, connection.wire) from None
            # A kept-alive connection the server had closed: the request, replayable, is sent
            # once more on a fresh connection.
            connection, _ = await self._connection(where, fresh=True)
            try:
                return await self._exchange(where, connection, request, body, slot)
            except _Stale:
                raise _closed(where, connection.wire) from None
        except BaseException:
            slot.release()
            raise

    async def _connection(self, origin: Origin, *, fresh: bool = False) -> tuple[_Connection, bool]:
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
                wire = await _connect(origin, context, self._server_name)
        except TimeoutError:
            raise UpstreamTimeout(f"{origin}: connecting took too long", sent=False) from None
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise UpstreamError(f"{origin}: cannot connect: {reason}", sent=False) from None
        return _Connection(wire), False

    async def _exchange(
        self,
        origin: Origin,
        connection: _Connection,
        request: h11.Request,
        body: bytes | AsyncIterator[bytes],
        slot: _Slots,
    ) -> ClientResponse:
        conn, wire = connection.conn, connection.wire
        write = self.limits.write
        answered = False
        try:
            if isinstance(body, bytes):
                # The whole request in one write (each send on loopback is costly).
                whole = conn.send(request)
                if body:
                    whole += conn.send(h11.Data(data=body))
                await wire.send(whole + conn.send(h11.EndOfMessage()), write)
            else:
                await wire.send(conn.send(request), write)
                async for chunk in body:
                    await wire.send(conn.send(h11.Data(data=chunk)), write)
                await wire.send(conn.send(h11.EndOfMessage()), write)
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
                    return ClientResponse(101, list(event.headers), _nothing(), upgraded=upgraded)
                # Other 1xx informational answers (100 Continue) are skipped here.
        except (*GONE, _Stale) as exc:
            await wire.aclose()
            if not answered:
                raise _Stale from exc
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
                        event.status_code, headers, _one(complete), complete, trailers=last
                    )
                else:
                    break  # NEED_DATA: the rest streams as it comes
        except h11.RemoteProtocolError as exc:
            await wire.aclose()
            slot.release()
            raise UpstreamError(f"{origin}: invalid response: {exc}") from None
        held = _Held(connection, slot)
        trailers: list[tuple[bytes, bytes]] = []
        body = self._body(origin, connection, held, early, trailers)
        return ClientResponse(
            event.status_code, headers, body, abandon=held.abandon, trailers=trailers
        )

    async def _next(self, origin: Origin, connection: _Connection) -> h11.Event:
        conn = connection.conn
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                raise UpstreamError(f"{origin}: invalid response: {exc}") from None
            if event is h11.PAUSED:
                raise UpstreamError(f"{origin}: answered past the end of the response")
            if event is not h11.NEED_DATA:
                if isinstance(event, h11.ConnectionClosed):
                    raise _Stale
                return event  # type: ignore[return-value]
            try:
                data = await connection.wire.receive(self.limits.read)
            except TimeoutError:
                raise UpstreamTimeout(f"{origin}: no answer in {self.limits.read} s") from None
            if not data and conn.their_state is h11.SEND_RESPONSE:
                raise _Stale  # closed before the first byte of an answer
            conn.receive_data(data)

    async def _body(
        self,
        origin: Origin,
        connection: _Connection,
        held: _Held,
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
        except _Stale:
            raise UpstreamError(f"{origin}: the connection closed mid-body") from None
        finally:
            # Given up, or failed mid-body: the connection cannot be reused.
            await held.abandon()

    async def _finish(self, origin: Origin, connection: _Connection, slot: _Slots) -> None:
        """A response is complete: keep the connection for reuse when h11 says it can be."""
        conn = connection.conn
        try:
            if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
                conn.start_next_cycle()
                connection.idle_since = time.monotonic()
                self._idle.setdefault(origin, deque()).append(connection)
            else:
                await connection.wire.aclose()
        finally:
            slot.release()


def _closed(origin: Origin, wire: Wire) -> UpstreamError:
    # The reason the transport gave, when there is one: a TLS 1.3 server refusing the
    # client's certificate says so only after the handshake (RFC 8446 §4.4.2.4).
    lost = wire.lost_by
    reason = f": {lost.reason or lost}" if isinstance(lost, ssl.SSLError) else ""
    return UpstreamError(f"{origin}: the connection closed before an answer{reason}")


async def _connect(origin: Origin, context: ssl.SSLContext | None, server_name: str | None) -> Wire:
    """A new connection to *origin*: asyncio's own transports on asyncio (the fast path),
    anyio streams elsewhere."""
    if on_asyncio():
        loop = asyncio.get_running_loop()
        if origin.unix is not None:
            _, wire = await loop.create_unix_connection(ProtocolWire, origin.unix)
        else:
            _, wire = await loop.create_connection(
                ProtocolWire,
                origin.host,
                origin.port,
                ssl=context,
                server_hostname=(server_name or origin.host) if context is not None else None,
            )
        _nodelay(wire)
        return wire
    stream: anyio.abc.ByteStream
    if origin.unix is not None:
        stream = await anyio.connect_unix(origin.unix)
    elif context is not None:
        stream = await anyio.connect_tcp(
            origin.host,
            origin.port,
            tls=True,
            ssl_context=context,
            tls_hostname=server_name or origin.host,
        )
    else:
        stream = await anyio.connect_tcp(origin.host, origin.port)
    return StreamWire(stream)


def _nodelay(wire: ProtocolWire) -> None:
    # Small heads and bodies go out at once (anyio sets TCP_NODELAY on its streams too).
    sock = wire.socket()
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def _one(chunk: bytes) -> AsyncIterator[bytes]:
    if chunk:
        yield chunk


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield  # an async generator with no chunks


@final
class _Held:
    """A connection a streamed response holds until its body is done or given up."""

    __slots__ = ("connection", "done", "slot")

    def __init__(self, connection: _Connection, slot: _Slots) -> None:
        self.connection = connection
        self.slot = slot
        self.done = False

    async def abandon(self) -> None:
        """Close the connection and free its slot, once (nothing when the body completed)."""
        if not self.done:
            self.done = True
            self.slot.release()
            with anyio.CancelScope(shield=True):  # closed even when the reader was cancelled
                await self.connection.wire.aclose(abort=True)


class _Stale(Exception):
    """The connection was closed by the server before any byte of the answer."""


def _has(headers: Sequence[tuple[bytes, bytes]], name: bytes) -> bool:
    return any(k.lower() == name for k, _ in headers)
