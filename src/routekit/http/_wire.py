"""`Wire`: the byte transport under the server and the client, with timeouts built in.

Two implementations behave the same.  `StreamWire` wraps any anyio byte stream (every backend,
TLS streams, unix sockets).  `ProtocolWire` is the asyncio fast path: an `asyncio.Protocol`
whose reads are buffered and whose writes go to the transport at the end of the loop's turn
(`_Outbox` says why), so that a request costs no anyio checkpoint or cancel scope per read and
per write — those cost more than h11's parsing on a proxy's request path (see
docs/benchmarks.md).  Both honour the same timeouts, a
reading pause when the peer sends faster than it is read (flow control both ways), and
`interrupt`, with which a graceful shutdown wakes a connection waiting for its next request.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import weakref
from typing import Any, Final, cast, final

import anyio
import anyio.abc
from anyio.streams.tls import TLSAttribute

__all__ = ["GONE", "ProtocolWire", "StreamWire", "Wire"]

_CHUNK: Final = 64 * 1024
_HIGH_WATER: Final = 256 * 1024  # buffered bytes past which reading from the peer pauses
_HELD_AT_MOST: Final = 64 * 1024  # bytes a wire holds for the end of the loop's turn
_TLS_CLOSURE: Final = 1.0  # seconds a closing TLS connection waits for the peer's close_notify
#: What a peer's departure raises (or what reading and writing to a closed stream raise).
GONE: Final = (anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream)


class Wire:
    """One connection's bytes: `receive` with a timeout, `send`, `interrupt`, `aclose`.

    Attributes:
        peer: the peer's IP address, when it has one (not for unix sockets).
        tls: whether the bytes travel over TLS.
        peer_certificate: the certificate (DER) the TLS peer presented, if it did.
        lost_by: the error the connection was lost with, when the transport gave one (a TLS
            alert from the peer, a reset), for messages.
    """

    __slots__ = ("lost_by", "peer", "peer_certificate", "tls")

    def __init__(self) -> None:
        self.peer: str | None = None
        self.tls = False
        self.peer_certificate: bytes | None = None
        self.lost_by: Exception | None = None

    async def receive(self, timeout: float) -> bytes:
        """The next bytes; ``b""`` when the peer closed (or after `interrupt`).

        Raises:
            TimeoutError: nothing came within *timeout* seconds.
        """
        raise NotImplementedError

    async def send(self, data: bytes, timeout: float | None = None) -> None:
        """Send *data* (waits while the peer reads slowly, for *timeout* seconds at most).

        Raises:
            anyio.BrokenResourceError: the peer is gone.
            TimeoutError: the peer did not take the bytes in time.
        """
        raise NotImplementedError

    def interrupt(self) -> None:
        """Make a waiting (or the next) `receive` return ``b""`` at once."""
        raise NotImplementedError

    async def aclose(self, *, abort: bool = False) -> None:
        """Close the connection (more than once is fine).

        With *abort*, drop it at once, without TLS's closure exchange: a connection given up
        mid-answer is not waited on for a peer that may never answer its close_notify.
        """
        raise NotImplementedError


@final
class StreamWire(Wire):
    """A `Wire` over an anyio byte stream."""

    __slots__ = ("_interrupted", "_scope", "stream")

    def __init__(self, stream: anyio.abc.ByteStream) -> None:
        super().__init__()
        self.stream = stream
        address = stream.extra(anyio.abc.SocketAttribute.remote_address, None)
        # TCP peers are (host, port, …) tuples; a unix socket's peer is a path, not an IP.
        self.peer = str(address[0]) if isinstance(address, tuple) and address else None
        self.tls = stream.extra(TLSAttribute.ssl_object, None) is not None
        if self.tls:
            self.peer_certificate = stream.extra(TLSAttribute.peer_certificate_binary, None)
        self._scope: anyio.CancelScope | None = None
        self._interrupted = False

    async def receive(self, timeout: float) -> bytes:
        """The next bytes from the stream; ``b""`` once it ends."""
        if self._interrupted:
            return b""
        with anyio.CancelScope(deadline=anyio.current_time() + timeout) as scope:
            self._scope = scope
            try:
                return await self.stream.receive(_CHUNK)
            except GONE:
                return b""
            finally:
                self._scope = None
        if self._interrupted:
            return b""
        raise TimeoutError

    async def send(self, data: bytes, timeout: float | None = None) -> None:
        """Send *data* on the stream."""
        if timeout is None:
            await self.stream.send(data)
            return
        with anyio.fail_after(timeout):
            await self.stream.send(data)

    def interrupt(self) -> None:
        """Wake a waiting `receive` with ``b""``."""
        self._interrupted = True
        if self._scope is not None:
            self._scope.cancel()

    async def aclose(self, *, abort: bool = False) -> None:
        """Close the stream."""
        if abort:
            await anyio.aclose_forcefully(self.stream)
            return
        # A TLS peer that left without its close_notify is no error here: the socket closes.
        with contextlib.suppress(*GONE, ssl.SSLError, OSError):
            await self.stream.aclose()


@final
class ProtocolWire(Wire, asyncio.Protocol):
    """A `Wire` that is its own asyncio protocol (the fast path on asyncio)."""

    __slots__ = (
        "_buffered",
        "_chunks",
        "_deadline",
        "_eof",
        "_gone",
        "_held",
        "_loop",
        "_lost",
        "_out",
        "_outbox",
        "_reading_paused",
        "_timer",
        "_transport",
        "_waiter",
        "_writable",
        "_write_paused",
    )

    def __init__(self) -> None:
        super().__init__()
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        # A list, not a deque: an idle connection's empty deque costs 600 bytes more.
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._eof = False
        self._reading_paused = False
        self._waiter: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None
        self._write_paused = False
        # Made when `aclose` waits for it: an idle connection holds no future (memory).
        self._lost: asyncio.Future[None] | None = None
        self._gone = False
        # One timer for the reads' deadlines, moved on rather than made per read (a timer
        # handle per read cost 5 % of a proxied request); see `receive`.
        self._timer: asyncio.TimerHandle | None = None
        self._deadline = 0.0
        # What `send` was given this turn of the loop, written at its end (`_Outbox`).
        self._outbox = _outbox(self._loop)
        self._out: list[bytes] | None = None
        self._held = 0

    # -- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport, and what it says of the peer."""
        # uvloop's transports implement `asyncio.Transport` without deriving from it.
        self._transport = cast("asyncio.Transport", transport)
        address = transport.get_extra_info("peername")
        self.peer = str(address[0]) if isinstance(address, tuple) and address else None
        tls = transport.get_extra_info("ssl_object")
        self.tls = tls is not None
        if tls is not None:
            self.peer_certificate = tls.getpeercert(binary_form=True)

    def data_received(self, data: bytes) -> None:
        """Buffer what came; pause reading past the high-water mark."""
        self._chunks.append(data)
        self._buffered += len(data)
        if self._buffered > _HIGH_WATER and not self._reading_paused and self._transport:
            self._reading_paused = True
            self._transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        """The peer closed its side."""
        self._eof = True
        self._wake()
        return False  # close the transport: half-open connections serve no one here

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection is gone: wake every waiter."""
        self._gone = True
        self.lost_by = exc
        self._out = None
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(None)
        self._eof = True
        self._wake()
        if self._timer is not None:
            self._timer.cancel()  # nothing will wait on this connection again
            self._timer = None
        self._write_paused = False
        writable, self._writable = self._writable, None
        if writable is not None and not writable.done():
            writable.set_result(None)

    def pause_writing(self) -> None:
        """The transport's buffer is full: `send` waits."""
        self._write_paused = True

    def resume_writing(self) -> None:
        """The transport drained: a waiting `send` goes on."""
        self._write_paused = False
        writable, self._writable = self._writable, None
        if writable is not None and not writable.done():
            writable.set_result(None)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- Wire ---------------------------------------------------------------------------------

    async def receive(self, timeout: float) -> bytes:
        """The buffered bytes, or the next that come within *timeout*."""
        if not self._chunks and not self._eof:
            loop = self._loop
            waiter = self._waiter = loop.create_future()
            deadline = self._deadline = loop.time() + timeout
            timer = self._timer
            # Reads mostly wait as long as the one before, so their deadlines only grow: the
            # timer set for an earlier one is kept, and moves on when it fires (`_check`).
            if timer is None or timer.when() > deadline:
                if timer is not None:
                    timer.cancel()
                self._timer = loop.call_at(deadline, self._check)
            try:
                await waiter
            finally:
                self._waiter = None
        if self._chunks:
            # Everything buffered at once: fewer, larger reads for h11 to parse.
            chunks = self._chunks
            data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            self._chunks = []
            self._buffered = 0
            if self._reading_paused:
                self._reading_paused = False
                if self._transport is not None:
                    self._transport.resume_reading()
            return data
        return b""

    def _check(self) -> None:
        """The read timer fired: expire a read past its deadline, or wait for its deadline."""
        self._timer = None
        waiter = self._waiter
        if waiter is None or waiter.done():
            return  # no read waits: the next one sets a timer again
        # A timer may fire up to the clock's resolution early: 1 ms is well within a timeout.
        if self._loop.time() >= self._deadline - 0.001:
            waiter.set_exception(TimeoutError())
        else:
            self._timer = self._loop.call_at(self._deadline, self._check)

    async def send(self, data: bytes, timeout: float | None = None) -> None:
        """Write *data* at the end of the loop's turn (at once past 64 KiB held); wait while
        the transport's buffer is full."""
        transport = self._transport
        if transport is None or transport.is_closing():
            raise anyio.BrokenResourceError
        out = self._out
        if out is None:
            if len(data) >= _HELD_AT_MOST:
                transport.write(data)
            else:
                self._out = [data]
                self._held = len(data)
                self._outbox.hold(self)
        else:
            out.append(data)
            self._held += len(data)
            if self._held >= _HELD_AT_MOST:
                self.flush()
        if self._write_paused:
            writable = self._writable = self._loop.create_future()
            timer = None if timeout is None else self._loop.call_later(timeout, _expire, writable)
            try:
                await writable
            finally:
                if timer is not None:
                    timer.cancel()
            if transport.is_closing():
                raise anyio.BrokenResourceError

    def flush(self) -> None:
        """Write what `send` holds now."""
        out, self._out = self._out, None
        transport = self._transport
        if out and transport is not None and not transport.is_closing():
            try:
                transport.write(out[0] if len(out) == 1 else b"".join(out))
            except Exception as exc:  # a transport past its end: the connection is lost
                self.lost_by = exc
                transport.abort()

    def interrupt(self) -> None:
        """Wake a waiting `receive` with ``b""``."""
        self._eof = True
        self._chunks.clear()
        self._wake()

    async def aclose(self, *, abort: bool = False) -> None:
        """Close the transport and wait until its socket is closed."""
        self._eof = True
        self._wake()
        if self._transport is not None:
            if abort:
                self._out = None  # given up: what was held is not sent
                self._transport.abort()
            else:
                self.flush()
                self._transport.close()
            # The socket is closed by the loop a step later: wait for it, so that a caller
            # that leaves the loop right after closing leaks no socket.
            if not self._gone:
                if self._lost is None:
                    self._lost = self._loop.create_future()
                with anyio.CancelScope(shield=True):
                    if self.tls and not abort:
                        # TLS's closure waits for the peer's close_notify, which a peer that
                        # does not read (a stream it is still writing) never sends: past a
                        # second, the socket closes without it, as Go's tls.Conn.Close does
                        # at once (ours was sent).
                        await asyncio.wait([self._lost], timeout=_TLS_CLOSURE)
                        if not self._gone:
                            self._transport.abort()
                    await self._lost

    def socket(self) -> socket.socket | None:
        """The transport's socket, for socket options."""
        if self._transport is None:
            return None
        sock: socket.socket | None = self._transport.get_extra_info("socket")
        return sock


@final
class _Outbox:
    """The wires of one event loop that hold bytes to write at the end of the loop's turn.

    A write to a socket whose reader sleeps in its poll makes the kernel wake that reader,
    and on loopback the sender's core does the receiving side's work too.  Written at once,
    each answer and each forwarded request woke the client or the server again, one write at
    a time: the proxy's two writes per request were a third of its CPU time.  Held until the
    loop has run every callback of its turn, the turn's writes go out together: their readers
    wake once for all of them, and their answers come back together too (a proxied request:
    about 125 µs of CPU, then 86-112 µs; docs/benchmarks.md).  The loop's next turn polls
    without waiting while a callback is ready, so the bytes leave before the loop sleeps.
    (Nagle's algorithm, which TCP_NODELAY turns off, holds small writes for an acknowledgement
    instead: up to 40 ms.)
    """

    __slots__ = ("_wires",)

    def __init__(self) -> None:
        self._wires: list[ProtocolWire] = []

    def hold(self, wire: ProtocolWire) -> None:
        """Write *wire*'s held bytes at the end of this turn of its loop."""
        if not self._wires:
            wire._loop.call_soon(self._flush)
        self._wires.append(wire)

    def _flush(self) -> None:
        wires, self._wires = self._wires, []
        for wire in wires:
            wire.flush()


_OUTBOXES: Final[weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Outbox]] = (
    weakref.WeakKeyDictionary()
)


def _outbox(loop: asyncio.AbstractEventLoop) -> _Outbox:
    """*loop*'s outbox (one per loop, made on first use)."""
    outbox = _OUTBOXES.get(loop)
    if outbox is None:
        outbox = _OUTBOXES[loop] = _Outbox()
    return outbox


def _expire(waiter: asyncio.Future[Any]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


def on_asyncio() -> bool:
    """Whether the code runs on an asyncio event loop (its fast paths apply), not trio."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
