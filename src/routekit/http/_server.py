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
    """One client connection's HTTP/1.1 state: feed it bytes, act on its events."""

    __slots__ = (
        "_client_ip",
        "_conn",
        "_eof",
        "_head",
        "_limits",
        "_peer_certificate",
        "_refused",
        "_tls",
    )

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        client_ip: str | None = None,
        tls: bool = False,
        peer_certificate: bytes | None = None,
    ) -> None:
        self._client_ip = client_ip
        self._tls = tls
        self._peer_certificate = peer_certificate
        self._limits = limits if limits is not None else Limits()
        self._conn = h11.Connection(h11.SERVER, max_incomplete_event_size=self._limits.max_head)
        self._head = bytearray()  # the raw bytes of the head being received
        self._refused = False
        self._eof = False

    @property
    def closed(self) -> bool:
        """Whether the connection is done: refused, or closed by either side."""
        return self._refused or self._conn.our_state in (h11.CLOSED, h11.MUST_CLOSE)

    def receive(self, data: bytes) -> list[Event]:
        """Feed bytes from the client (``b""`` when it closed); return what they completed."""
        if self._refused or self._eof:
            return []  # nothing can follow a refusal or the client's close
        self._eof = not data
        if self._conn.their_state is h11.IDLE and len(self._head) <= self._limits.max_head:
            self._head += data
        self._conn.receive_data(data)
        return self._events()

    def _events(self) -> list[Event]:
        out: list[Event] = []
        while True:
            try:
                event = self._conn.next_event()
            except h11.RemoteProtocolError as exc:
                out.append(self._refuse(exc.error_status_hint, str(exc)))
                return out
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return out
            if isinstance(event, h11.Request):
                problem = self._check(event)
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

    def _check(self, event: h11.Request) -> tuple[int, str] | None:
        end = self._head.find(_HEAD_END)
        raw = bytes(self._head[: end if end >= 0 else len(self._head)])
        self._head.clear()
        limits = self._limits
        if end < 0 or end > limits.max_head:
            # h11 bounds only a head still incomplete; one that arrives whole is bounded here.
            return 431, f"the request head is larger than {limits.max_head} bytes"
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
        if checked:
            # h11's own flag for events built from what its parser produced.
            event = h11.Response(
                status_code=status, headers=list(headers), reason=b"", _parsed=True
            )
        else:
            event = h11.Response(status_code=status, headers=list(headers))
        return self._conn.send(event)

    def switch(self, headers: Sequence[tuple[bytes, bytes]]) -> tuple[bytes, bytes]:
        """Accept the request's ``Upgrade``: the ``101`` head's bytes, and the bytes the client
        already sent in the new protocol (the connection is no longer HTTP after this)."""
        head = self._conn.send(h11.InformationalResponse(status_code=101, headers=list(headers)))
        data, _ = self._conn.trailing_data
        return head, bytes(data)

    @property
    def awaiting_continue(self) -> bool:
        """Whether the client still waits for ``100 Continue`` before sending its body."""
        return self._conn.they_are_waiting_for_100_continue

    def continue_(self) -> bytes:
        """``100 Continue`` when the client waits for it before sending its body, else ``b""``
        (sent when the body is first read, as Go's server does)."""
        if not self._conn.they_are_waiting_for_100_continue:
            return b""
        return self._conn.send(h11.InformationalResponse(status_code=100, headers=[]))

    @property
    def upgrading(self) -> bool:
        """Whether the client asked to switch protocols and waits for the answer to it."""
        return self._conn.their_state is _MIGHT_SWITCH

    def body(self, data: bytes) -> bytes:
        """The bytes that carry a piece of the response body."""
        return self._conn.send(h11.Data(data=data)) if data else b""

    def end(self, trailers: Sequence[tuple[bytes, bytes]] = ()) -> bytes:
        """The bytes that end the response (the last chunk and trailers, when chunked)."""
        return self._conn.send(h11.EndOfMessage(headers=list(trailers)))

    def next_request(self) -> list[Event]:
        """Start the next request of a kept-alive connection; return what is already buffered
        (pipelined requests).  ``[]`` and `closed` when the connection cannot be reused."""
        if self._conn.our_state is not h11.DONE or self._conn.their_state is not h11.DONE:
            return []
        self._conn.start_next_cycle()
        self._head.clear()
        # The next request's bytes may already be in h11's buffer: rebuild the raw head copy.
        buffered, closed = self._conn.trailing_data
        if not buffered and not closed:
            return []  # nothing pipelined: no need to ask h11 (the common case)
        self._head += buffered
        return self._events()


def error_response(status: int) -> bytes:
    """A complete, short error response that closes the connection (no detail leaks)."""
    reason = _REASONS.get(status, b"Error")
    body = b"%d %s\n" % (status, reason)
    return (
        b"HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (status, reason, len(body), body)
    )
