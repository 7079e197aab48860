"""The HTTP/1.1 client: a pool of kept-alive connections per origin, on h11 and anyio.

One client serves the proxy and the providers alike.  Connections to an origin (scheme, host,
port — or a unix socket) are reused while h11 says they can be, up to `PoolLimits.per_origin`
at once and for `PoolLimits.idle` seconds of rest.  A request sent on a reused connection that
the server had closed before answering anything is sent again on a fresh one, when it can be
(no body, or a body given as bytes); otherwise the error names the origin.  Bodies stream both
ways: the response body is an async iterator, read as it arrives.
"""

from __future__ import annotations

import ssl
import urllib.parse
from collections import deque
from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import Final, final

import anyio
import anyio.abc
import attrs
import h11

from ..errors import RoutekitError

__all__ = [
    "Client",
    "ClientResponse",
    "Origin",
    "PoolLimits",
    "UpstreamError",
    "UpstreamTimeout",
    "Upgraded",
]

_CHUNK: Final = 64 * 1024


class UpstreamError(RoutekitError):
    """An upstream could not be reached, or answered what is not HTTP/1.1 (a 502)."""

    status_hint = 502


class UpstreamTimeout(UpstreamError):
    """An upstream did not answer in time (a 504)."""

    status_hint = 504


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
            raise UpstreamError(f"not an http(s) or unix URL: {url!r}")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise UpstreamError(f"bad port in {url!r}") from None
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
        connect: seconds to open a connection (and its TLS handshake).
        read: seconds to wait for each piece of a response.
    """

    per_origin: int = 200
    idle: float = 90.0
    connect: float = 30.0
    read: float = 300.0


@final
class _Connection:
    __slots__ = ("conn", "idle_since", "stream")

    def __init__(self, stream: anyio.abc.ByteStream) -> None:
        self.stream = stream
        self.conn = h11.Connection(h11.CLIENT)
        self.idle_since = 0.0


@final
class Upgraded(anyio.abc.ByteStream):
    """The connection after a ``101``: raw bytes both ways; `data` was read past the head.

    Closing it closes the connection and gives its place in the pool back.
    """

    def __init__(self, stream: anyio.abc.ByteStream, data: bytes, slot: anyio.Semaphore) -> None:
        self._stream = stream
        self.data = data
        self._slot: anyio.Semaphore | None = slot

    async def receive(self, max_bytes: int = 65536) -> bytes:
        """Bytes from the server."""
        return await self._stream.receive(max_bytes)

    async def send(self, item: bytes) -> None:
        """Bytes to the server."""
        await self._stream.send(item)

    async def send_eof(self) -> None:
        """Close the sending half, where the stream can."""
        await self._stream.send_eof()

    async def aclose(self) -> None:
        """Close the connection (once) and free its place in the pool."""
        await self._stream.aclose()
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
        upgraded: Upgraded | None = None,
    ) -> None:
        self.status = status
        self.headers = headers
        self._body = body
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


@final
class Client:
    """A pooled HTTP/1.1 client: ``async with Client() as c: r = await c.request("GET", url)``.

    Args:
        limits: pool sizes and timeouts.
        ssl_context: for ``https`` origins; verification on by default.
    """

    def __init__(
        self, limits: PoolLimits | None = None, *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.limits = limits if limits is not None else PoolLimits()
        self._ssl = ssl_context
        self._idle: dict[Origin, deque[_Connection]] = {}
        self._slots: dict[Origin, anyio.Semaphore] = {}

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
        for idle in self._idle.values():
            while idle:
                await idle.pop().stream.aclose()

    def idle_connections(self, origin: Origin) -> int:
        """How many kept-alive connections to *origin* wait for reuse."""
        return len(self._idle.get(origin, ()))

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Sequence[tuple[bytes, bytes]] = (),
        body: bytes | AsyncIterator[bytes] = b"",
        origin: Origin | None = None,
    ) -> ClientResponse:
        """Send a request and return its response head; read the body before the next call
        that needs the same connection.

        Raises:
            UpstreamError: the origin refused, reset, or answered what is not HTTP/1.1.
            UpstreamTimeout: connecting or waiting for the answer took too long.
        """
        parts = urllib.parse.urlsplit(url)
        where = origin if origin is not None else Origin.from_url(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        all_headers = list(headers)
        if not _has(all_headers, b"host"):
            all_headers.insert(0, (b"host", parts.netloc.encode("idna") or b"localhost"))
        if isinstance(body, bytes) and body and not _has(all_headers, b"content-length"):
            all_headers.append((b"content-length", b"%d" % len(body)))
        request = h11.Request(method=method, target=target, headers=all_headers)
        slot = self._slots.setdefault(where, anyio.Semaphore(self.limits.per_origin))
        await slot.acquire()
        try:
            connection, reused = await self._connection(where)
            try:
                return await self._exchange(where, connection, request, body, slot)
            except _Stale:
                if not reused or not isinstance(body, bytes):
                    raise UpstreamError(
                        f"{where}: the connection closed before an answer"
                    ) from None
            # A kept-alive connection the server had closed: the request, replayable, is sent
            # once more on a fresh connection.
            connection, _ = await self._connection(where, fresh=True)
            try:
                return await self._exchange(where, connection, request, body, slot)
            except _Stale:
                raise UpstreamError(f"{where}: closed before an answer") from None
        except BaseException:
            slot.release()
            raise

    async def _connection(self, origin: Origin, *, fresh: bool = False) -> tuple[_Connection, bool]:
        idle = None if fresh else self._idle.get(origin)
        now = anyio.current_time()
        while idle:
            connection = idle.pop()
            if now - connection.idle_since <= self.limits.idle:
                return connection, True
            await connection.stream.aclose()
        try:
            with anyio.fail_after(self.limits.connect):
                stream: anyio.abc.ByteStream
                if origin.unix is not None:
                    stream = await anyio.connect_unix(origin.unix)
                elif origin.scheme == "https":
                    context = self._ssl if self._ssl is not None else ssl.create_default_context()
                    stream = await anyio.connect_tcp(
                        origin.host, origin.port, tls=True, ssl_context=context
                    )
                else:
                    stream = await anyio.connect_tcp(origin.host, origin.port)
        except TimeoutError:
            raise UpstreamTimeout(f"{origin}: connecting took too long") from None
        except OSError as exc:
            raise UpstreamError(f"{origin}: cannot connect: {exc.strerror or exc}") from None
        return _Connection(stream), False

    async def _exchange(
        self,
        origin: Origin,
        connection: _Connection,
        request: h11.Request,
        body: bytes | AsyncIterator[bytes],
        slot: anyio.Semaphore,
    ) -> ClientResponse:
        conn, stream = connection.conn, connection.stream
        answered = False
        try:
            await stream.send(conn.send(request))
            if isinstance(body, bytes):
                if body:
                    await stream.send(conn.send(h11.Data(data=body)))
            else:
                async for chunk in body:
                    await stream.send(conn.send(h11.Data(data=chunk)))
            await stream.send(conn.send(h11.EndOfMessage()))
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
                    upgraded = Upgraded(stream, bytes(data), slot)
                    return ClientResponse(101, list(event.headers), _nothing(), upgraded)
                # Other 1xx informational answers (100 Continue) are skipped here.
        except (anyio.BrokenResourceError, anyio.EndOfStream, _Stale) as exc:
            await stream.aclose()
            if not answered:
                raise _Stale from exc
            raise UpstreamError(f"{origin}: the connection closed mid-answer") from None
        except BaseException:
            await stream.aclose()
            raise
        headers = list(event.headers)
        return ClientResponse(event.status_code, headers, self._body(origin, connection, slot))

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
                with anyio.fail_after(self.limits.read):
                    data = await connection.stream.receive(_CHUNK)
            except TimeoutError:
                raise UpstreamTimeout(f"{origin}: no answer in {self.limits.read} s") from None
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                data = b""
            if not data and conn.their_state is h11.SEND_RESPONSE:
                raise _Stale  # closed before the first byte of an answer
            conn.receive_data(data)

    async def _body(
        self, origin: Origin, connection: _Connection, slot: anyio.Semaphore
    ) -> AsyncIterator[bytes]:
        reusable = False
        try:
            while True:
                event = await self._next(origin, connection)
                if isinstance(event, h11.Data):
                    yield bytes(event.data)
                elif isinstance(event, h11.EndOfMessage):
                    break
            conn = connection.conn
            if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
                conn.start_next_cycle()
                reusable = True
        except _Stale:
            raise UpstreamError(f"{origin}: the connection closed mid-body") from None
        finally:
            if reusable:
                connection.idle_since = anyio.current_time()
                self._idle.setdefault(origin, deque()).append(connection)
            else:
                await connection.stream.aclose()
            slot.release()


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield  # an async generator with no chunks


class _Stale(Exception):
    """The connection was closed by the server before any byte of the answer."""


def _has(headers: Sequence[tuple[bytes, bytes]], name: bytes) -> bool:
    return any(k.lower() == name for k, _ in headers)
