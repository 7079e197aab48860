"""Listen on an entry point's address and serve every connection, until a graceful stop.

Addresses are Traefik's (``[entryPoints.<name>] address``): ``":80"`` (every interface, IPv4
and IPv6), ``"127.0.0.1:8080"``, ``"[::1]:8443"``; a ``/tcp`` suffix is accepted.  Stopping
closes the listening sockets first, then lets the open connections finish (`Drain`) for up to
a grace period, then cancels what is left — as Traefik's ``lifeCycle.graceTimeOut`` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Callable, Mapping
from typing import Any, Final, final

import anyio
import anyio.abc
import attrs
from anyio.streams.tls import TLSStream

from ..config import parse_address
from ._serve import Drain, Handler, Timeouts, serve_connection
from ._server import Limits
from ._tls import Certificates
from ._wire import ProtocolWire, on_asyncio

__all__ = ["EntryPointServer", "parse_address"]

_log: Final = logging.getLogger("routekit.http")
_GONE: Final = (anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream)
_TLS_HANDSHAKE: Final = 0x16  # the first byte of a TLS record carrying a ClientHello
# Go's net/http answer to plain HTTP on a TLS port.
_PLAIN_TO_TLS: Final = (
    b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Connection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"
)


def _way(first: bytes, certificates: Certificates | None, *, tls_only: bool) -> str:
    """How to serve a connection that began with *first*: "tls", "plain", "refuse" or "close"
    (nothing came)."""
    if not first:
        return "close"
    if first[0] == _TLS_HANDSHAKE and certificates and certificates.context is not None:
        return "tls"
    return "refuse" if tls_only else "plain"


@final
class _Prefixed(anyio.abc.ByteStream):
    """A stream whose first bytes were already read (to tell TLS from plain HTTP)."""

    def __init__(self, stream: anyio.abc.SocketStream, first: bytes) -> None:
        self._stream = stream
        self._first = first

    async def receive(self, max_bytes: int = 65536) -> bytes:
        """The bytes read ahead first, then the stream's."""
        if self._first:
            data, self._first = self._first[:max_bytes], self._first[max_bytes:]
            return data
        return await self._stream.receive(max_bytes)

    async def send(self, item: bytes) -> None:
        """Send on the stream."""
        await self._stream.send(item)

    async def send_eof(self) -> None:
        """Close the stream's sending half."""
        await self._stream.send_eof()

    async def aclose(self) -> None:
        """Close the stream."""
        await self._stream.aclose()

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        """The stream's attributes (peer address, socket)."""
        return self._stream.extra_attributes


def _sock_peer(sock: socket.socket) -> str:
    try:
        return str(sock.getpeername())
    except OSError:
        return "?"


def _peer_text(stream: anyio.abc.SocketStream) -> str:
    return str(stream.extra(anyio.abc.SocketAttribute.remote_address, "?"))


@final
@attrs.define(eq=False)
class EntryPointServer:
    """One entry point: its listening sockets and the connections they accept.

    Run `serve` in a task group (``await tg.start(server.serve)`` returns once it listens);
    `stop` ends it gracefully.

    Attributes:
        address: the entry point address (``":80"``, ``"127.0.0.1:8080"``, ``"[::1]:8443"``).
        handler: serves each request.
        limits, timeouts: what each connection accepts, and how long it waits.
        grace: seconds the open connections get to finish once `stop` is called.
        certificates: gives the current `Certificates` (they change with reloads); a
            connection that opens with a TLS handshake is then served over TLS, as on
            Traefik v2 entry points, where plain HTTP and TLS share a port.
        tls_only: refuse plain HTTP (a v1 ``[entryPoints.<name>.tls]`` entry point).
        handshake_timeout: seconds a TLS handshake may take.
        reuse_port: bind with ``SO_REUSEPORT``, so that several processes share the port.
    """

    address: str
    handler: Handler
    limits: Limits = attrs.field(factory=Limits)
    timeouts: Timeouts = attrs.field(factory=Timeouts)
    grace: float = 10.0
    certificates: Callable[[], Certificates | None] | None = None
    tls_only: bool = False
    handshake_timeout: float = 10.0
    reuse_port: bool = False
    ports: tuple[int, ...] = attrs.field(default=(), init=False)
    _drain: Drain = attrs.field(factory=Drain, init=False)
    _stopping: anyio.Event | None = attrs.field(default=None, init=False)
    _live: int = attrs.field(default=0, init=False)
    _all_closed: anyio.Event | None = attrs.field(default=None, init=False)
    _native: set[asyncio.Task[None]] = attrs.field(factory=set, init=False)

    async def serve(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Listen and serve until `stop`; report readiness through *task_status*."""
        host, port = parse_address(self.address)
        listener = await anyio.create_tcp_listener(
            local_host=host, local_port=port, reuse_port=self.reuse_port
        )
        self.ports = tuple(
            sorted(
                {sock.extra(anyio.abc.SocketAttribute.local_port) for sock in listener.listeners}
            )
        )
        self._stopping = anyio.Event()
        try:
            async with anyio.create_task_group() as connections:
                async with anyio.create_task_group() as accepting:
                    if on_asyncio():
                        # The fast path: asyncio's own transports under each connection.
                        for sub in listener.listeners:
                            raw = sub.extra(anyio.abc.SocketAttribute.raw_socket)
                            accepting.start_soon(self._accept, raw)
                    else:
                        accepting.start_soon(listener.serve, self._connection, connections)
                    task_status.started()
                    await self._stopping.wait()
                    accepting.cancel_scope.cancel()  # no new connections
                await listener.aclose()
                self._all_closed = anyio.Event()
                self._drain.start()
                if self._live:
                    with anyio.move_on_after(self.grace):
                        await self._all_closed.wait()
                connections.cancel_scope.cancel()  # what did not finish in time
                await self._cancel_native()
        finally:
            # Cancelled from outside (not through `stop`): the sockets are closed all the same.
            with anyio.CancelScope(shield=True):
                with contextlib.suppress(anyio.ClosedResourceError):
                    await listener.aclose()
                await self._cancel_native()

    async def _cancel_native(self) -> None:
        """End the fast path's connection tasks that are left, and wait for them."""
        tasks, self._native = self._native, set()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    async def _accept(self, raw: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        raw.setblocking(False)
        while True:
            try:
                sock, _ = await loop.sock_accept(raw)
            except OSError as exc:  # out of file descriptors, for one: pause, go on
                _log.error("accepting on %s failed: %s", self.address, exc)
                await anyio.sleep(0.1)
                continue
            # A plain asyncio task, not one of the task group's: anyio's bookkeeping per task
            # (an event, a cancel scope, a handle) is 2 KiB per idle connection.  These tasks
            # are cancelled by `serve` itself when the grace period ends.
            task = loop.create_task(self._accepted(sock))
            self._native.add(task)
            task.add_done_callback(self._native.discard)

    async def _accepted(self, sock: socket.socket) -> None:
        """Serve one accepted socket on asyncio transports (TLS by asyncio's ``ssl``)."""
        # Counted and contained inline (no context manager): each idle connection would hold
        # one more object for it.
        self._live += 1
        try:
            try:
                wire = await self._transport_for(sock)
            except BaseException:
                sock.close()  # not handed to a transport yet: it is ours to close
                raise
            if wire is not None:
                await serve_connection(
                    wire,
                    self.handler,
                    limits=self.limits,
                    timeouts=self.timeouts,
                    drain=self._drain,
                )
        except Exception:
            self._failed(_sock_peer(sock))
        finally:
            self._left()

    async def _transport_for(self, sock: socket.socket) -> ProtocolWire | None:
        """The asyncio transport of an accepted socket, TLS when it opens with a handshake;
        ``None`` (the socket closed) when it is not to be served."""
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        certificates = self.certificates() if self.certificates is not None else None
        context = None
        if certificates or self.tls_only:
            first = b""
            with anyio.move_on_after(self.timeouts.read_head):
                await anyio.wait_readable(sock)
                with contextlib.suppress(OSError):
                    first = sock.recv(1, socket.MSG_PEEK)
            way = _way(first, certificates, tls_only=self.tls_only)
            if way == "refuse":
                with contextlib.suppress(OSError):
                    sock.send(_PLAIN_TO_TLS)
            if way in ("refuse", "close"):
                sock.close()
                return None
            if way == "tls" and certificates is not None:
                context = certificates.context
        loop = asyncio.get_running_loop()
        # The protocol made here, not the one the loop returns: with TLS, uvloop returns its
        # own TLS protocol in its place.
        wire = ProtocolWire()
        try:
            await loop.connect_accepted_socket(
                lambda: wire,
                sock,
                ssl=context,
                ssl_handshake_timeout=self.handshake_timeout if context else None,
            )
        except (OSError, ssl.SSLError) as exc:
            _log.debug("connection on %s not set up: %s", self.address, exc)
            sock.close()
            return None
        return wire

    async def _connection(self, stream: anyio.abc.SocketStream) -> None:
        self._live += 1
        try:
            certificates = self.certificates() if self.certificates is not None else None
            served: anyio.abc.ByteStream | None = stream
            if certificates or self.tls_only:
                served = await self._secure(stream, certificates)
            if served is not None:
                await serve_connection(
                    served,
                    self.handler,
                    limits=self.limits,
                    timeouts=self.timeouts,
                    drain=self._drain,
                )
        except Exception:
            self._failed(_peer_text(stream))
        finally:
            self._left()

    @staticmethod
    def _failed(peer: str) -> None:
        # A bug in one connection must not end the entry point's other connections.
        _log.exception("connection from %s ended by an error", peer)

    def _left(self) -> None:
        self._live -= 1
        if not self._live and self._all_closed is not None:
            self._all_closed.set()

    async def _secure(
        self, stream: anyio.abc.SocketStream, certificates: Certificates | None
    ) -> anyio.abc.ByteStream | None:
        """The connection as it is to be served: TLS when it opens with a handshake."""
        first = b""
        with anyio.move_on_after(self.timeouts.read_head):
            with contextlib.suppress(*_GONE):
                first = await stream.receive()
        if not first:
            await stream.aclose()
            return None
        prefixed = _Prefixed(stream, first)
        way = _way(first, certificates, tls_only=self.tls_only)
        if way == "plain":
            return prefixed
        if way == "refuse":
            with contextlib.suppress(*_GONE):
                await stream.send(_PLAIN_TO_TLS)
            await stream.aclose()
            return None
        assert certificates is not None and certificates.context is not None
        try:
            with anyio.fail_after(self.handshake_timeout):
                return await TLSStream.wrap(
                    prefixed,
                    server_side=True,
                    ssl_context=certificates.context,
                    standard_compatible=False,
                )
        except (TimeoutError, ssl.SSLError, OSError, *_GONE) as exc:
            _log.debug("TLS handshake from %s failed: %s", _peer_text(stream), exc)
            await stream.aclose()
            return None

    @property
    def open_connections(self) -> int:
        """How many client connections are being served now."""
        return self._live

    def stop(self) -> None:
        """Stop accepting, let the connections finish within `grace`, then close the rest."""
        if self._stopping is not None:
            self._stopping.set()
