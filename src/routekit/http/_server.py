"""The server side of one HTTP/1.1 connection, without I/O: bytes in, events and bytes out.

`ServerConnection` wraps h11's state machine with what a gateway adds on top of it: the request
head checks of `_framing` (smuggling vectors h11 lets through, limits), one error answer for
every refused head (status, a short body, ``Connection: close``), and the keep-alive decision
between requests.  The transport — anyio streams, or asyncio protocols on the fast path —
only moves bytes and applies timeouts, so every transport behaves the same.

Pipelined requests are answered in order: h11 keeps the bytes of the next request buffered
until the current response is complete and `ServerConnection.next_request` starts a new cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, final

import attrs
import h11

from ._fast import (
    BLANK_LINE,
    FAST_PATH,
    REASONS,
    FastRequest,
    ResponseWriter,
    parse_request_head,
)
from ._framing import raw_head_problem, request_head_problem

__all__ = [
    "Body",
    "EndOfMessage",
    "Limits",
    "Refused",
    "RequestHead",
    "ServerConnection",
    "error_response",
]

_HEAD_END: Final = b"\r\n\r\n"
# h11 exports this state at its top level without listing it in ``__all__``.
_MIGHT_SWITCH: Final = h11.MIGHT_SWITCH_PROTOCOL  # type: ignore[attr-defined]
# The fast path's phases of a request: its head, its body, read whole.
_HEAD: Final = "head"
_BODY: Final = "body"
_DONE: Final = "done"
_SENT: Final = -3  # `ResponseWriter.mode` once the response is complete
_REASONS: Final = {
    400: b"Bad Request",
    408: b"Request Timeout",
    413: b"Content Too Large",
    414: b"URI Too Long",
    431: b"Request Header Fields Too Large",
    501: b"Not Implemented",
    505: b"HTTP Version Not Supported",
}


@final
@attrs.frozen(kw_only=True)
class Limits:
    """What one connection accepts from a client (an entry point's settings).

    Attributes:
        max_head: bytes of request line and header fields together (431 beyond).
        max_fields: header fields (431 beyond).
        max_target: bytes of the request target (414 beyond).
        max_body: declared body bytes (413 beyond); ``None`` for no limit.
    """

    max_head: int = 16 * 1024
    max_fields: int = 100
    max_target: int = 8 * 1024
    max_body: int | None = None


@final
@attrs.frozen
class RequestHead:
    """A request head that passed every check; its body follows as `Body` events.

    Attributes:
        event: the h11 request (method, target, headers, version).
        client_ip: the peer's address, when the transport knows it.
        tls: whether the connection is TLS (an ``https`` request).
        peer_certificate: the client's TLS certificate (DER), when it sent one.
    """

    event: h11.Request
    client_ip: str | None = None
    tls: bool = False
    peer_certificate: bytes | None = None


@final
@attrs.frozen
class Body:
    """A piece of the request body, as it arrived."""

    data: bytes


@final
@attrs.frozen
class EndOfMessage:
    """The request is complete; *trailers* are the trailer fields of a chunked body."""

    trailers: Sequence[tuple[bytes, bytes]] = ()


@final
@attrs.frozen
class Refused:
    """The client sent what cannot be served: send `answer`, then close the connection."""

    status: int
    reason: str
    answer: bytes


Event = RequestHead | Body | EndOfMessage | Refused


@final
class ServerConnection:
    """One client connection's HTTP/1.1 state: feed it bytes, act on its events.

    Each request starts on the strict fast path (`_fast`): a plain head is read, its body
    counted and its response written without h11.  A head the fast path declines goes, with
    every byte buffered so far, to a fresh h11 connection for that request — at a request
    boundary a new h11 connection is in the state an old one is in after ``start_next_cycle``
    (both sides ``IDLE``, keep-alive on, nothing pending; the version of the previous request
    that h11 keeps is replaced by the next request's before any response is written).  With
    *fast* false every request goes through h11 (the default is `FAST_PATH`).
    """

    __slots__ = (
        "_body_left",
        "_buffer",
        "_client_ip",
        "_conn",
        "_eof",
        "_fast",
        "_head",
        "_limits",
        "_peer_certificate",
        "_phase",
        "_refused",
        "_request",
        "_tls",
        "_writer",
    )

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        client_ip: str | None = None,
        tls: bool = False,
        peer_certificate: bytes | None = None,
        fast: bool | None = None,
    ) -> None:
        self._client_ip = client_ip
        self._tls = tls
        self._peer_certificate = peer_certificate
        self._limits = limits if limits is not None else Limits()
        self._fast = FAST_PATH if fast is None else fast
        # The h11 connection of a request the fast path declined (None: the fast path's).
        self._conn: h11.Connection | None = None if fast else self._h11()
        self._head = bytearray()  # the raw bytes of the head being received (h11's requests)
        self._buffer = bytearray()  # bytes received and not yet read (the fast path's)
        self._phase = _HEAD
        self._body_left = 0
        self._request: FastRequest | None = None
        self._writer: ResponseWriter | None = None
        self._refused = False
        self._eof = False

    def _h11(self) -> h11.Connection:
        return h11.Connection(h11.SERVER, max_incomplete_event_size=self._limits.max_head)

    @property
    def closed(self) -> bool:
        """Whether the connection is done: refused, or closed by either side."""
        if self._refused:
            return True
        conn = self._conn
        if conn is not None:
            return conn.our_state in (h11.CLOSED, h11.MUST_CLOSE)
        # The client left once every byte it sent has been read (h11's ConnectionClosed).
        left = self._eof and not self._buffer
        if self._phase is _HEAD:
            return left  # between requests
        # h11's MUST_CLOSE: our response is done, and one side does not keep the connection.
        writer = self._writer
        return writer is not None and writer.mode == _SENT and (not writer.keep_alive or left)

    def receive(self, data: bytes) -> list[Event]:
        """Feed bytes from the client (``b""`` when it closed); return what they completed."""
        if self._refused or self._eof:
            return []  # nothing can follow a refusal or the client's close
        self._eof = not data
        conn = self._conn
        if conn is None:
            self._buffer += data
            return self._read()
        if conn.their_state is h11.IDLE and len(self._head) <= self._limits.max_head:
            self._head += data
        conn.receive_data(data)
        return self._events()

    def _read(self) -> list[Event]:
        """The fast path's events from the buffered bytes."""
        buffer = self._buffer
        if self._phase is _HEAD:
            blank = BLANK_LINE.search(buffer)
            if blank is None:
                # Incomplete: h11 takes what it would refuse at once (a first byte that
                # cannot start a request line), a head past the limit, and the client's close.
                if buffer and (
                    buffer[0] < 0x21 or len(buffer) > self._limits.max_head or self._eof
                ):
                    return self._to_h11()
                return []
            end = blank.end() - 4  # where the head's last CRLF CRLF starts, if that is it
            if end > self._limits.max_head or buffer[end : end + 4] != _HEAD_END:
                return self._to_h11()  # too long, or ended by a bare LF: h11's to judge
            request = parse_request_head(bytes(buffer[: end + 4]))
            if request is None:
                return self._to_h11()
            problem = self._problem(bytes(buffer[:end]), request.event)
            if problem is not None:
                return [self._refuse(*problem)]
            del buffer[: end + 4]
            self._request = request
            out: list[Event] = [
                RequestHead(request.event, self._client_ip, self._tls, self._peer_certificate)
            ]
            self._body_left = request.length
            self._phase = _BODY
        else:
            out = []
            if self._phase is _DONE:
                return self._after_request(out)
        if self._phase is _BODY:
            left = self._body_left
            if buffer and left:
                piece = bytes(buffer[:left])
                del buffer[:left]
                left = self._body_left = left - len(piece)
                out.append(Body(piece))
            if not left:
                self._phase = _DONE
                out.append(EndOfMessage([]))
                return self._after_request(out)
            elif self._eof:
                request = self._request
                assert request is not None
                # h11's words for a body cut short by the client's close.
                got = request.length - left
                reason = (
                    "peer closed connection without sending complete message body "
                    f"(received {got} bytes, expected {request.length})"
                )
                out.append(self._refuse(400, reason))
        return out

    def _after_request(self, out: list[Event]) -> list[Event]:
        """Bytes after a request that closes the connection are refused, as h11 does; those
        after one that keeps it wait for `next_request` (pipelining)."""
        request = self._request
        if self._buffer and request is not None and not request.keep_alive:
            out.append(self._refuse(400, "Got data when expecting EOF"))
        return out

    def _to_h11(self) -> list[Event]:
        """Hand the request being received, and every byte after it, to a fresh h11."""
        conn = self._conn = self._h11()
        data = bytes(self._buffer)
        self._buffer.clear()
        self._head[:] = data
        conn.receive_data(data)
        if self._eof:
            conn.receive_data(b"")
        return self._events()

    def _events(self) -> list[Event]:
        conn = self._conn
        assert conn is not None
        out: list[Event] = []
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                out.append(self._refuse(exc.error_status_hint, str(exc)))
                return out
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return out
            if isinstance(event, h11.Request):
                end = self._head.find(_HEAD_END)
                raw = bytes(self._head[: end if end >= 0 else len(self._head)])
                self._head.clear()
                problem = (
                    (431, f"the request head is larger than {self._limits.max_head} bytes")
                    # h11 bounds only a head still incomplete; one that arrives whole is
                    # bounded here.
                    if end < 0 or end > self._limits.max_head
                    else self._problem(raw, event)
                )
                if problem is not None:
                    out.append(self._refuse(*problem))
                    return out
                out.append(RequestHead(event, self._client_ip, self._tls, self._peer_certificate))
            elif isinstance(event, h11.Data):
                out.append(Body(bytes(event.data)))
            elif isinstance(event, h11.EndOfMessage):
                out.append(EndOfMessage(list(event.headers)))
            elif isinstance(event, h11.ConnectionClosed):
                return out

    def _problem(self, raw: bytes, event: h11.Request) -> tuple[int, str] | None:
        """The checks of `_framing`, the same for both paths."""
        limits = self._limits
        return raw_head_problem(raw) or request_head_problem(
            event,
            max_fields=limits.max_fields,
            max_target=limits.max_target,
            max_body=limits.max_body,
        )

    def _refuse(self, status: int, reason: str) -> Refused:
        self._refused = True
        return Refused(status, reason, error_response(status))

    def respond(
        self, status: int, headers: Sequence[tuple[bytes, bytes]], *, checked: bool = False
    ) -> bytes:
        """The bytes of a response head (``Content-Length`` or chunked, as the headers say).

        *checked* headers (lower-case names, values h11 itself parsed) skip h11's
        re-validation of every name and value — 5 µs of a proxied request.
        """
        conn = self._conn
        if conn is None:
            request = self._request
            if request is None or self._writer is not None:
                raise h11.LocalProtocolError("no request to answer")
            event = request.event
            self._writer = writer = ResponseWriter()
            return writer.head(
                status,
                headers,
                checked=checked,
                method=event.method,
                http11=event.http_version == b"1.1",
                keep_alive=request.keep_alive,
            )
        if checked:
            # h11's own flag for events built from what its parser produced.
            response = h11.Response(
                status_code=status,
                headers=list(headers),
                reason=REASONS.get(status, b""),
                _parsed=True,
            )
        else:
            response = h11.Response(
                status_code=status, headers=list(headers), reason=REASONS.get(status, b"")
            )
        return conn.send(response)

    def switch(self, headers: Sequence[tuple[bytes, bytes]]) -> tuple[bytes, bytes]:
        """Accept the request's ``Upgrade``: the ``101`` head's bytes, and the bytes the client
        already sent in the new protocol (the connection is no longer HTTP after this)."""
        conn = self._conn
        if conn is None:  # the fast path takes no request with Upgrade
            raise h11.LocalProtocolError("the request asked for no protocol switch")
        head = conn.send(h11.InformationalResponse(status_code=101, headers=list(headers)))
        data, _ = conn.trailing_data
        return head, bytes(data)

    @property
    def awaiting_continue(self) -> bool:
        """Whether the client still waits for ``100 Continue`` before sending its body."""
        conn = self._conn
        return conn is not None and conn.they_are_waiting_for_100_continue

    def continue_(self) -> bytes:
        """``100 Continue`` when the client waits for it before sending its body, else ``b""``
        (sent when the body is first read, as Go's server does)."""
        conn = self._conn
        if conn is None or not conn.they_are_waiting_for_100_continue:
            return b""
        return conn.send(h11.InformationalResponse(status_code=100, headers=[]))

    @property
    def upgrading(self) -> bool:
        """Whether the client asked to switch protocols and waits for the answer to it."""
        conn = self._conn
        return conn is not None and conn.their_state is _MIGHT_SWITCH

    def body(self, data: bytes) -> bytes:
        """The bytes that carry a piece of the response body."""
        if not data:
            return b""
        conn = self._conn
        if conn is None:
            return self._writing().body(data)
        return conn.send(h11.Data(data=data))

    def end(self, trailers: Sequence[tuple[bytes, bytes]] = ()) -> bytes:
        """The bytes that end the response (the last chunk and trailers, when chunked)."""
        conn = self._conn
        if conn is None:
            writer = self._writing()
            out = writer.end(trailers)
            writer.mode = _SENT
            return out
        return conn.send(h11.EndOfMessage(headers=list(trailers)))

    def _writing(self) -> ResponseWriter:
        writer = self._writer
        if writer is None or writer.mode == _SENT:
            raise h11.LocalProtocolError("no response body being sent")
        return writer

    def next_request(self) -> list[Event]:
        """Start the next request of a kept-alive connection; return what is already buffered
        (pipelined requests).  ``[]`` and `closed` when the connection cannot be reused."""
        conn = self._conn
        if conn is not None:
            if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                return []
            if not self._fast:
                conn.start_next_cycle()
                self._head.clear()
                # The next request's bytes may be in h11's buffer: rebuild the raw head copy.
                buffered, closed = conn.trailing_data
                if not buffered and not closed:
                    return []  # nothing pipelined: no need to ask h11 (the common case)
                self._head += buffered
                return self._events()
            # Back to the fast path, with what h11 holds of the next request.
            buffered, closed = conn.trailing_data
            self._conn = None
            self._buffer[:] = buffered
            self._eof = self._eof or closed
        else:
            writer = self._writer
            if self._phase is not _DONE or writer is None or writer.mode != _SENT:
                return []
            if not writer.keep_alive:
                return []
        self._phase = _HEAD
        self._request = None
        self._writer = None
        if not self._buffer:
            return []  # nothing pipelined (the common case)
        return self._read()


def error_response(status: int) -> bytes:
    """A complete, short error response that closes the connection (no detail leaks)."""
    reason = _REASONS.get(status, b"Error")
    body = b"%d %s\n" % (status, reason)
    return (
        b"HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (status, reason, len(body), body)
    )
