"""The reverse proxy's request path, from a request head to a streamed answer.

`Proxy` is a handler for `routekit.http.serve_connection` and `EntryPointServer`: for each
request it reads the current `Runtime` once (a reload never disturbs a request in flight),
routes the request, takes a server from the service's balancer, forwards the request with the
pooled `Client` and the header rules of `routekit.http`, streams the answer back and releases
the lease with the outcome (passive health and least-requests counts depend on it).

Statuses as Traefik's: 404 when no router matches, 503 when the service has no available
server, 502 when the upstream refuses, resets or answers what is not HTTP, 504 when it does not
answer in time — each with a short body that names no server.  An ``Upgrade`` (WebSocket) that
the server accepts with ``101`` becomes a tunnel: bytes both ways until either side closes.
Middlewares plug in through the *chain* hook (the middleware implementations build it); without
one, a router with middlewares is refused with 501 rather than served without them.  The
*observe* hook sees an `Exchange` per answer, for metrics and access logs.
"""

from __future__ import annotations

import logging
import re
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable
from typing import Final, NamedTuple, final

import anyio
import anyio.abc
import attrs

from ..balance import Lease
from ..config import ServersTransport
from ..errors import BadRequest, ConfigError, NoServerAvailable
from ..http import (
    Client,
    ClientResponse,
    ForwardedHeaders,
    Handler,
    Origin,
    RequestHead,
    Response,
    Tunnel,
    Upgraded,
    UpstreamError,
    Wire,
    downstream_headers,
    forwarded_headers,
    is_upgrade,
    tunnel,
    upstream_headers,
)
from ..request import Request
from ..runtime import RoutingDecision, Runtime
from ._mirror import mirror_copy
from ._transport import transport_client

__all__ = ["Exchange", "MiddlewareChain", "Proxy"]

_PLAIN: Final = [(b"content-type", b"text/plain; charset=utf-8")]


def _short(status: int, text: bytes) -> Response:
    return Response(status, _PLAIN, text + b"\n")


@final
@attrs.frozen(kw_only=True)
class Exchange:
    """What the proxy did with one request, for metrics and access logs (`Proxy(observe=)`).

    Attributes:
        entry_point: where the request came in.
        method: its method.
        status: the status answered.
        router, service: the router that matched and its service (``None``: none matched).
        server: the server URL it was forwarded to (``None``: not forwarded).
        duration: seconds from the request head to the end of the answer.
        complete: whether the whole answer was sent (a streamed one can break off).
    """

    entry_point: str
    method: str
    status: int
    router: str | None = None
    service: str | None = None
    server: str | None = None
    duration: float = 0.0
    complete: bool = True


#: Builds the handler of a router's middlewares around *forward*, the rest of the path.
MiddlewareChain = Callable[[RoutingDecision, Handler], Handler]

_ERRORS: Final = {
    502: _short(502, b"502 Bad Gateway"),
    503: _short(503, b"503 Service Unavailable"),
    504: _short(504, b"504 Gateway Timeout"),
}
_log: Final = logging.getLogger("routekit.proxy")
_NOT_FOUND: Final = _short(404, b"404 page not found")
_NO_CHAIN: Final = _short(501, b"501 middlewares not applied")
_MAX_SERVERS: Final = 4096


class _Upstream(NamedTuple):
    """What the proxy needs of a server, worked out once: where, under which path, as which
    ``Host``, and whether its path may go into a request line as it is."""

    origin: Origin
    prefix: str
    host: bytes
    plain: bool


_BODY_FRAMING: Final = frozenset({b"content-length", b"transfer-encoding"})
# A server URL's path that can go into a request line as it is (RFC 3986 path characters).
_PLAIN_PATH: Final = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*")


@final
class Proxy:
    """Route and forward requests with the runtime *runtime()* returns at each request.

    Args:
        runtime: gives the current `Runtime` (``lambda: watcher.runtime``, or a fixed one).
        entry_point: the entry point these requests arrive on.
        client: the pooled client to reach the servers.
        forwarded: the entry point's ``forwardedHeaders`` settings.
        tunnel_idle: seconds an upgraded connection (WebSocket) may pass no byte either way
            before it is closed.
        chain: applies a router's middlewares around the rest of the path; without it, a
            router with middlewares is answered 501 rather than served without them.
        observe: called with an `Exchange` once each answer is decided (a streamed one: when
            it ends) — the hook for metrics and access logs.
    """

    def __init__(
        self,
        runtime: Callable[[], Runtime],
        *,
        entry_point: str,
        client: Client,
        forwarded: ForwardedHeaders | None = None,
        tunnel_idle: float = 180.0,
        chain: MiddlewareChain | None = None,
        observe: Callable[[Exchange], None] | None = None,
    ) -> None:
        self._runtime = runtime
        self._entry_point = entry_point
        self._client = client
        self._forwarded = forwarded if forwarded is not None else ForwardedHeaders()
        self._tunnel_idle = tunnel_idle
        self._chain = chain
        self._observe = observe
        self._transports: dict[ServersTransport, Client] = {}
        self._servers: dict[object, _Upstream] = {}
        self._background: anyio.abc.TaskGroup | None = None
        self._warned = False

    async def aclose(self) -> None:
        """Close the clients made for servers transports (the given *client* stays open)."""
        clients, self._transports = list(self._transports.values()), {}
        for client in clients:
            await client.aclose()

    def attach(self, background: anyio.abc.TaskGroup) -> None:
        """Run background work (requests to mirrors) in *background* (`Gateway` does it)."""
        self._background = background

    async def _mirror(  # noqa: PLR0917 - one request's parts, passed through
        self,
        mirrors: tuple[Lease, ...],
        method: bytes,
        headers: list[tuple[bytes, bytes]],
        target: str,
        body: bytes,
        decision: RoutingDecision,
    ) -> None:
        """Send the copies, one after the other; their answers are read and dropped."""
        for mirror in mirrors:
            ok = False
            try:
                origin, prefix, host, _ = self._upstream(mirror.server)
                client = self._client_for(decision.transports.get(mirror.server.url))
                if client is None:
                    continue
                sent = headers
                if not body:  # no body, or mirrorBody = false: no framing of one either
                    sent = [(k, v) for k, v in sent if k not in _BODY_FRAMING]
                if not decision.pass_host_header:
                    sent = [(b"host", host), *sent]
                answer = await client.request(
                    method.decode("ascii"),
                    "",
                    headers=sent,
                    body=body,
                    origin=origin,
                    target=prefix + target,
                )
                await answer.read()
                ok = answer.status < 500
            except UpstreamError as exc:
                _log.debug("mirror %s: %s", mirror.server, exc)
            except Exception:
                # A mirror must never disturb anything else (the gateway's task group, least).
                _log.exception("mirror %s failed", mirror.server)
            finally:
                mirror.release(ok=ok)

    def _upstream(self, server: object) -> _Upstream:
        """A server's origin, path prefix and ``Host``, worked out once per server."""
        known = self._servers.get(server)
        if known is None:
            url = str(server)
            parts = urllib.parse.urlsplit(url)
            if len(self._servers) >= _MAX_SERVERS:  # servers come and go: forget the old
                self._servers.clear()
            prefix = parts.path.rstrip("/")
            known = _Upstream(
                Origin.from_url(url),
                prefix,
                parts.netloc.encode("idna"),
                _PLAIN_PATH.fullmatch(prefix) is not None,
            )
            self._servers[server] = known
        return known

    def _client_for(self, transport: ServersTransport | None) -> Client | None:
        if transport is None:
            return self._client
        client = self._transports.get(transport)
        if client is None:
            try:
                client = self._transports[transport] = transport_client(transport)
            except ConfigError as exc:
                _log.error("servers transport not usable: %s", exc)
                return None
        return client

    async def __call__(self, head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        """Serve one request (the `routekit.http.Handler` signature)."""
        started = time.monotonic()
        if head.event.method == b"CONNECT":
            # A reverse proxy is no forward proxy: CONNECT tunnels are not opened.
            return self._done(head, None, _short(501, b"501 Not Implemented"), started)
        try:
            request = Request.from_h11(
                head.event, client_ip=head.client_ip, scheme="https" if head.tls else "http"
            )
        except BadRequest:
            return self._done(head, None, _short(400, b"400 Bad Request"), started)
        decision = self._runtime().route(request, self._entry_point)
        if decision is None:
            return self._done(head, None, _NOT_FOUND, started)
        if not decision.middlewares:  # the common case: no closure, no extra await
            return await self._forward(head, body, request, decision, started)
        if self._chain is None:
            # Serving without the middlewares (auth, for one) would be worse than refusing.
            return self._done(head, decision, _NO_CHAIN, started)

        async def forward(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
            return await self._forward(head, body, request, decision, started)

        return await self._chain(decision, forward)(head, body)

    async def _forward(
        self,
        head: RequestHead,
        body: AsyncIterator[bytes],
        request: Request,
        decision: RoutingDecision,
        started: float,
    ) -> Response:
        """Take a server from the decision's service and forward the request to it."""
        try:
            lease = decision.service.acquire(request)
        except NoServerAvailable:
            return self._done(head, decision, _ERRORS[503], started)
        copy: bytes | None = None
        forwarded: bytes | AsyncIterator[bytes] = body
        if lease.mirrors:
            forwarded, copy = await mirror_copy(body, decision.mirroring)
            if copy is None or self._background is None:
                if self._background is None and not self._warned:
                    self._warned = True
                    _log.warning("mirrors not sent: this Proxy has no background task group")
                for mirror in lease.mirrors:
                    mirror.release()
                copy = None
        client_ip = head.client_ip
        headers = forwarded_headers(
            list(head.event.headers), self._forwarded, client_ip=client_ip, tls=head.tls
        )
        headers = upstream_headers(
            headers,
            client_ip=client_ip,
            append_forwarded_for=not self._forwarded.not_append_x_forwarded_for,
        )
        if not decision.pass_host_header:
            # passHostHeader = false: the server sees its own host, not the client's (Traefik
            # sets the outgoing Host to the server URL's host).
            headers = [(k, v) for k, v in headers if k != b"host"]
        target = head.event.target.decode("latin-1")
        if not target.startswith("/"):  # absolute-form: forward its path and query only
            parts = urllib.parse.urlsplit(target)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            origin, prefix, host, plain = self._upstream(lease.server)
        except UpstreamError:  # a server URL the client cannot reach (a scheme it lacks)
            lease.release(ok=False)
            return self._done(head, decision, _ERRORS[502], started, lease.server)
        if not decision.pass_host_header:
            headers.insert(0, (b"host", host))
        client = self._client_for(decision.transports.get(lease.server.url))
        if client is None:
            lease.release(ok=False)
            return self._done(head, decision, _ERRORS[502], started, lease.server)
        try:
            upstream = await client.request(
                head.event.method.decode("ascii"),
                "",
                headers=headers,
                body=forwarded,
                origin=origin,
                target=prefix + target,
                checked=plain,
            )
        except UpstreamError as exc:
            lease.release(ok=False)
            answer = _ERRORS.get(exc.status_hint, _ERRORS[502])
            return self._done(head, decision, answer, started, lease.server)
        if copy is not None and self._background is not None:
            # The main server has answered: the mirrors get their copies, in the background.
            self._background.start_soon(
                self._mirror, lease.mirrors, head.event.method, headers, target, copy, decision
            )
        upgraded = upstream.upgraded
        relayed = downstream_headers(upstream.headers, upgraded=upgraded is not None)
        for cookie in lease.set_cookies:
            relayed.append((b"set-cookie", cookie.encode("latin-1")))
        if upgraded is None:
            if upstream.complete is not None:  # the whole answer is here: no streaming needed
                lease.release(ok=True)
                # Fields h11 parsed from the server, and no cookie of ours: valid as they are.
                answer = Response(
                    upstream.status, relayed, upstream.complete, checked=not lease.set_cookies
                )
                return self._done(head, decision, answer, started, lease.server)
            exchange = self._exchange(head, decision, upstream.status, started, lease.server)
            chunks = _relay(upstream, lease, exchange, started, self._observe)
            return Response(upstream.status, relayed, chunks, checked=not lease.set_cookies)
        asked, got = is_upgrade(headers), is_upgrade(upstream.headers)
        if asked is None or got is None or got.lower() != asked.lower():
            # Go's ReverseProxy: a server that switches to another protocol than the one asked
            # for (or to none) is a bad gateway.
            await upgraded.aclose()
            lease.release(ok=False)
            return self._done(head, decision, _ERRORS[502], started, lease.server)
        self._done(head, decision, Response(101), started, lease.server)
        return Response(101, relayed, tunnel=self._tunnel(upgraded, lease))

    def _exchange(
        self,
        head: RequestHead,
        decision: RoutingDecision | None,
        status: int,
        started: float,
        server: object = None,
    ) -> Exchange:
        return Exchange(
            entry_point=self._entry_point,
            method=head.event.method.decode("ascii", "replace"),
            status=status,
            router=decision.router if decision is not None else None,
            service=decision.service_name if decision is not None else None,
            server=str(server) if server is not None else None,
            duration=time.monotonic() - started,
        )

    def _done(
        self,
        head: RequestHead,
        decision: RoutingDecision | None,
        response: Response,
        started: float,
        server: object = None,
    ) -> Response:
        """Tell the observer about an answer decided now (not streamed); return it."""
        if self._observe is not None:
            self._observe(self._exchange(head, decision, response.status, started, server))
        return response

    def _tunnel(self, upgraded: Upgraded, lease: Lease) -> Tunnel:
        async def run(client: Wire, sent: bytes) -> None:
            try:
                await tunnel(
                    client, upgraded, a_sent=sent, b_sent=upgraded.data, idle=self._tunnel_idle
                )
            finally:
                lease.release(ok=True)

        return run


async def _relay(
    upstream: ClientResponse,
    lease: Lease,
    exchange: Exchange,
    started: float,
    observe: Callable[[Exchange], None] | None,
) -> AsyncIterator[bytes]:
    """The upstream body, chunk by chunk; the lease ends with it, ok only if it all came."""
    ok = False
    try:
        async for chunk in upstream.iter_bytes():
            yield chunk
        ok = True
    finally:
        if not ok:
            # Given up (the client left) or broken: the upstream connection closes now, not
            # whenever its half-read body is collected.
            with anyio.CancelScope(shield=True):
                await upstream.aclose()
        lease.release(ok=ok)
        if observe is not None:
            duration = time.monotonic() - started  # to the end of the body
            observe(attrs.evolve(exchange, duration=duration, complete=ok))
