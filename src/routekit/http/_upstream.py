"""What the pooled client hands out and keeps: its errors, origins, limits, pool places,
responses, and the connections it opens (asyncio's transports on asyncio, anyio's streams
elsewhere)."""

from __future__ import annotations

import asyncio
import socket
import ssl
import urllib.parse
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import final

import anyio
import anyio.abc
import attrs
import h11

from ..errors import RoutekitError
from ._wire import ProtocolWire, StreamWire, Wire, on_asyncio

__all__ = [
    "ClientResponse",
    "Connection",
    "Held",
    "Origin",
    "PoolFull",
    "PoolLimits",
    "Slots",
    "Stale",
    "Upgraded",
    "UpstreamError",
    "UpstreamTimeout",
    "closed_error",
    "connect",
    "nothing",
    "one",
]


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
@attrs.frozen(cache_hash=True)  # a key of the pool's dicts, looked up on every request
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
class Connection:
    """A pooled connection: its wire, the h11 state of an exchange that needs h11 (``None``
    between exchanges and on the fast path), and when it went idle."""

    __slots__ = ("conn", "idle_since", "wire")

    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self.conn: h11.Connection | None = None
        self.idle_since = 0.0


@final
class Slots:
    """How many connections to one origin may be open; waiting only when all are taken.

    (An ``anyio.Semaphore`` checkpoints on every acquire, a cost paid on each request.)
    """

    __slots__ = ("_free", "_parent", "_waiters")

    def __init__(self, size: int | None, parent: Slots | None = None) -> None:
        self._free = size if size is not None else 1 << 62
        self._parent = parent  # the client-wide bound, taken with this one
        self._waiters: deque[anyio.Event] = deque()

    def take(self) -> bool:
        """Take a place now if one is free (and one of the client-wide bound's); ``False``
        and nothing taken otherwise (then `acquire` waits for one)."""
        if self._free <= 0:
            return False
        parent = self._parent
        if parent is not None and not parent.take():
            return False
        self._free -= 1
        return True

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

    def __init__(self, wire: Wire, data: bytes, slot: Slots) -> None:
        super().__init__()
        self._wire = wire
        self.data = data
        self._slot: Slots | None = slot
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


def closed_error(origin: Origin, wire: Wire) -> UpstreamError:
    # The reason the transport gave, when there is one: a TLS 1.3 server refusing the
    # client's certificate says so only after the handshake (RFC 8446 §4.4.2.4).
    lost = wire.lost_by
    reason = f": {lost.reason or lost}" if isinstance(lost, ssl.SSLError) else ""
    return UpstreamError(f"{origin}: the connection closed before an answer{reason}")


async def connect(origin: Origin, context: ssl.SSLContext | None, server_name: str | None) -> Wire:
    """A new connection to *origin*: asyncio's own transports on asyncio (the fast path),
    anyio streams elsewhere."""
    if on_asyncio():
        loop = asyncio.get_running_loop()
        # The protocol made here, not the one the loop returns: with TLS, uvloop returns its
        # own TLS protocol in its place.
        wire = ProtocolWire()
        if origin.unix is not None:
            await loop.create_unix_connection(lambda: wire, origin.unix)
        else:
            await loop.create_connection(
                lambda: wire,
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


async def one(chunk: bytes) -> AsyncIterator[bytes]:
    if chunk:
        yield chunk


async def nothing() -> AsyncIterator[bytes]:
    return
    yield  # an async generator with no chunks


@final
class Held:
    """A connection a streamed response holds until its body is done or given up."""

    __slots__ = ("connection", "done", "slot")

    def __init__(self, connection: Connection, slot: Slots) -> None:
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


class Stale(Exception):
    """The connection was closed by the server before any byte of the answer."""
