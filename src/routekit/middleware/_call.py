"""`Call`: one request on its way through a router's middlewares, and the header helpers.

A middleware is built once (a `Layer`, or a `Step` when it only acts before and after the rest
of the path) and composed once per router into a `Next`; per request only the `Call` is new.
A chain of steps alone is also a `Fused`, which the proxy runs in its own frame, the answer's
fields that the steps add (`Fields`, known at build) going into the answer as it is made.
Headers are h11-style lists of ``(lowercase name, value)`` byte pairs, changed in place, so
that one list travels from the entry point to the server.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Final, final

import anyio
import attrs

from ..http import Response, UpstreamError
from ..request import Request

if TYPE_CHECKING:
    # Only named: the runtime (a room above) builds middlewares, never the other way round.
    from ..runtime import RoutingDecision

__all__ = [
    "Call",
    "Fields",
    "Fused",
    "Layer",
    "Next",
    "Step",
    "add_header",
    "after_body",
    "fuse",
    "get_header",
    "plain",
    "remove_header",
    "set_header",
    "with_fields",
]

_TEXT: Final = (b"content-type", b"text/plain; charset=utf-8")


@final
class Call:
    """One request on its way through the middlewares to its service; middlewares change it.

    Attributes:
        method: the request method (``b"GET"``).
        path: the path as it goes on the wire (percent-encoded), ``""`` meaning ``/``.
        query: the query string without its ``?``; ``None`` when the target had no ``?``.
        headers: the request's header list (lowercase names), changed in place.
        body: the request body's chunks.
        request: the request as it was routed (not changed by middlewares).
        decision: the router, service and middlewares that the request matched.
        client_ip: the peer's address, when known.
        tls: whether the request came over TLS.
        started: ``time.monotonic()`` when the request head arrived.
        user: the name basic or digest authentication accepted (for the access log).
        attempts: how many times the request was sent to a server (retry counts them).
        peer_certificate: the client's TLS certificate (DER), when it sent one.
        upstream_error: why the last attempt to reach a server failed (``None``: it answered).
        server: the URL of the server the request was last sent to (``None``: not sent).
        append_forwarded_for: whether the proxy adds the client to ``X-Forwarded-For`` (a
            headers middleware that empties the header turns it off, as in Traefik).
    """

    __slots__ = (
        "append_forwarded_for",
        "attempts",
        "body",
        "client_ip",
        "decision",
        "headers",
        "method",
        "path",
        "peer_certificate",
        "query",
        "request",
        "server",
        "started",
        "tls",
        "upstream_error",
        "user",
    )

    def __init__(
        self,
        *,
        method: bytes,
        path: str,
        query: str | None,
        headers: list[tuple[bytes, bytes]],
        body: AsyncIterator[bytes],
        request: Request,
        decision: RoutingDecision,
        client_ip: str | None = None,
        tls: bool = False,
        started: float = 0.0,
        peer_certificate: bytes | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.request = request
        self.decision = decision
        self.client_ip = client_ip
        self.tls = tls
        self.started = started
        self.user: str | None = None
        self.attempts = 0
        self.peer_certificate = peer_certificate
        self.append_forwarded_for = True
        self.server: str | None = None
        self.upstream_error: UpstreamError | None = None

    @property
    def target(self) -> str:
        """The request target as it goes to the server: path and query."""
        path = self.path or "/"
        return path if self.query is None else f"{path}?{self.query}"

    @property
    def host(self) -> str:
        """The ``Host`` the request now carries (``headers`` middlewares may change it)."""
        value = get_header(self.headers, b"host")
        return value.decode("latin-1") if value is not None else self.request.raw_host

    @property
    def scheme(self) -> str:
        """``https`` for a request over TLS, else ``http``."""
        return "https" if self.tls else "http"

    def __repr__(self) -> str:
        return f"<Call {self.method.decode('ascii', 'replace')} {self.target}>"


#: The rest of a router's path from one middleware on: ``await next(call)`` gives the answer.
Next = Callable[[Call], Awaitable[Response]]
#: A built middleware: given the rest of the path, the path that starts with it.
Layer = Callable[[Next], Next]
#: What a `Step` does before the rest of the path: ``None`` to go on, an answer to give instead,
#: or (rarely: a password to check in a thread, a token to wait for) an awaitable of either.
Before = Callable[[Call], "Response | Awaitable[Response | None] | None"]
#: What a `Step` does to the answer of the rest of the path.
After = Callable[[Call, Response], Response]


#: An answer's header operations known when a middleware is built: the names whose fields are
#: dropped, then the fields added (names lowercase, fields checked at build).
Fields = tuple[frozenset[bytes], tuple[tuple[bytes, bytes], ...]]


def with_fields(
    headers: Sequence[tuple[bytes, bytes]], fields: Fields
) -> list[tuple[bytes, bytes]]:
    """A new list: *headers* without the fields *fields* drops, then the ones it adds."""
    names, added = fields
    for name, _ in headers:  # a loop here, not a list built: such a field is rarely there
        if name in names:
            return [*(h for h in headers if h[0] not in names), *added]
    return [*headers, *added]


@final
class Step:
    """A middleware that acts before the rest of the path and/or on its answer, not around it.

    A `Layer` (calling it wraps the rest of the path in one coroutine), but the chains compose
    neighbouring steps into one: their *before* parts in a loop, one ``await`` of the rest, their
    *after* parts in reverse order — one coroutine frame for the lot instead of one each, which
    every suspension of the forwarded request would climb.  A *before* that answers ends the
    loop: the *after* parts of the steps before it apply to that answer, as the wrapping
    layers' would (Traefik's headers middleware adds its headers to basicAuth's 401).

    *fields*, when given, is what *after* does, known at build (`Fields`): the proxy then
    puts the fields in the answer as it makes it, instead of the answer being made again.
    """

    __slots__ = ("after", "before", "fields")

    def __init__(
        self, before: Before | None = None, after: After | None = None, fields: Fields | None = None
    ) -> None:
        self.before = before
        self.after = after
        self.fields = fields

    def __call__(self, next_: Next) -> Next:
        """This step alone around *next_*."""
        return fuse((self,), next_)


@final
class Fused:
    """Neighbouring steps worked out once: their *before* parts in order, *after* parts in
    reverse, run by whoever owns the frame (`fuse`'s coroutine, or the proxy's own)."""

    __slots__ = ("afters", "befores", "fields")

    def __init__(self, steps: Sequence[Step]) -> None:
        # Each before with the after parts of the steps before it (they apply to its own
        # answer) and its place among the befores (to go on from after a wait).
        befores = [
            (s.before, tuple(a for a in (t.after for t in reversed(steps[:i])) if a is not None))
            for i, s in enumerate(steps)
            if s.before is not None
        ]
        self.befores = tuple((b, undone, at) for at, (b, undone) in enumerate(befores))
        self.afters = tuple(s.after for s in reversed(steps) if s.after is not None)
        #: What the after parts do, when each is known at build (`Step.fields`), composed;
        #: ``None`` when one is not, or there are none.
        self.fields: Fields | None = None
        if self.afters and all(s.fields is not None for s in steps if s.after is not None):
            names: set[bytes] = set()
            added: list[tuple[bytes, bytes]] = []
            for step in reversed(steps):  # the innermost first, as `leave` applies them
                if step.fields is not None:
                    dropped, more = step.fields
                    added = [*(f for f in added if f[0] not in dropped), *more]
                    names |= dropped
            self.fields = (frozenset(names), tuple(added))

    def enter(self, call: Call, start: int = 0) -> Response | Awaitable[Response | None] | None:
        """The before parts from the *start*-th on: ``None`` to go on to the rest of the path,
        the answer that one of them gave instead, or an awaitable of either (one must wait)."""
        for before, undone, at in self.befores if not start else self.befores[start:]:
            answer = before(call)
            if answer is not None:
                if not isinstance(answer, Response):
                    return self._wait(call, answer, at)
                for after in undone:
                    answer = after(call, answer)
                return answer
        return None

    async def _wait(
        self, call: Call, pending: Awaitable[Response | None], at: int
    ) -> Response | None:
        answer = await pending
        if answer is None:  # that step lets the request go on: the ones after it, then
            going = self.enter(call, at + 1)
            return going if going is None or isinstance(going, Response) else await going
        for after in self.befores[at][1]:
            answer = after(call, answer)
        return answer

    def leave(self, call: Call, response: Response) -> Response:
        """The after parts, innermost first, on the rest of the path's *response*."""
        for after in self.afters:
            response = after(call, response)
        return response


def fuse(steps: Sequence[Step], next_: Next) -> Next:
    """*steps*, in order, around *next_*, in one coroutine frame."""
    fused = Fused(steps)
    if not fused.befores and not fused.afters:
        return next_  # steps that do nothing (a rateLimit with no limit)
    enter, leave = fused.enter, fused.leave

    async def handle(call: Call) -> Response:
        answer = enter(call)
        if answer is not None and not isinstance(answer, Response):
            answer = await answer
        if answer is not None:
            return answer
        return leave(call, await next_(call))

    return handle


def split_target(target: str) -> tuple[str, str | None]:
    """A request target's path and query (``None``: no ``?``); absolute-form keeps its path."""
    if not target.startswith("/"):
        parts = urllib.parse.urlsplit(target)
        return parts.path or "/", parts.query or None
    path, mark, query = target.partition("?")
    return path, query if mark else None


def get_header(headers: Sequence[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    """The first value of header *name* (lowercase), or ``None``."""
    for key, value in headers:
        if key == name:
            return value
    return None


def remove_header(headers: list[tuple[bytes, bytes]], name: bytes) -> None:
    """Remove every field *name* (lowercase) from *headers*, in place."""
    headers[:] = [(k, v) for k, v in headers if k != name]


def set_header(headers: list[tuple[bytes, bytes]], name: bytes, value: bytes) -> None:
    """Replace every field *name* (lowercase) by one with *value* (Go's ``Header.Set``)."""
    for index, (key, _) in enumerate(headers):
        if key == name:
            headers[index] = (name, value)
            headers[index + 1 :] = [(k, v) for k, v in headers[index + 1 :] if k != name]
            return
    headers.append((name, value))


def add_header(headers: list[tuple[bytes, bytes]], name: bytes, value: bytes) -> None:
    """Add a field *name* (lowercase) after the ones there (Go's ``Header.Add``)."""
    headers.append((name, value))


async def _watched(
    chunks: AsyncIterable[bytes], done: Callable[[bool, int], None]
) -> AsyncIterator[bytes]:
    complete = False
    size = 0
    try:
        async for chunk in chunks:
            size += len(chunk)
            yield chunk
        complete = True
    finally:
        try:
            closing = getattr(chunks, "aclose", None)
            if not complete and closing is not None:
                # Given up (the client left): the producer cleans up now, not when collected.
                with anyio.CancelScope(shield=True):
                    await closing()
        finally:
            done(complete, size)


def after_body(response: Response, done: Callable[[bool, int], None]) -> Response:
    """*response*, with *done* called once its body has been sent, with whether all of it was
    and how many bytes: at once for a body in bytes, after the last chunk for a streamed one."""
    if isinstance(response.body, bytes):
        done(True, len(response.body))
        return response
    return attrs.evolve(response, body=_watched(response.body, done))


def plain(status: int, text: str, headers: Sequence[tuple[bytes, bytes]] = ()) -> Response:
    """A short text answer, as Go's ``http.Error`` writes it (the text and a newline)."""
    return Response(status, [_TEXT, *headers], text.encode() + b"\n")
