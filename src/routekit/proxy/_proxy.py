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
A router's middlewares (`routekit.middleware`), built when the configuration loaded, are
composed once per router and reload (a router whose middlewares cannot be built is not in the
runtime at all: never served without them).  The *observe* hook sees an `Exchange` per answer,
for metrics and access logs.
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
from ..middleware import (
    Call,
    Chains,
    Context,
    Fields,
    Fused,
    after_body,
    split_target,
    with_fields,
)
from ..request import Request
from ..runtime import NO_TRANSPORTS, RoutingDecision, Runtime
from ._mirror import mirror_copy
from ._transport import transport_client

__all__ = ["Exchange", "Proxy"]

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
        started: the wall-clock time (``time.time()``) the request head arrived.
        client_ip: the peer's address.
        user: the user an authentication middleware named (``None``: none).
        host, target, protocol: the request's ``Host``, target and HTTP version, as sent.
        tls: whether the request came over TLS.
        request_size: the request's ``Content-Length`` (0 when it has none).
        size: the bytes of answer body sent to the client.
        retries: how many times the request was sent again (retry).
        request_headers, response_headers: the client's request headers and the answer's.
    """

    entry_point: str
    method: str
    status: int
    router: str | None = None
    service: str | None = None
    server: str | None = None
    duration: float = 0.0
    complete: bool = True
    started: float = 0.0
    client_ip: str | None = None
    user: str | None = None
    host: str = ""
    target: str = ""
    protocol: str = "HTTP/1.1"
    tls: bool = False
    request_size: int = 0
    size: int = 0
    retries: int = 0
    request_headers: tuple[tuple[bytes, bytes], ...] = ()
    response_headers: tuple[tuple[bytes, bytes], ...] = ()


def _exchange(  # noqa: PLR0917 - the parts of one exchange
    entry_point: str,
    head: RequestHead,
    started: float,
    response: Response,
    size: int,
    complete: bool,
    call: Call | None,
) -> Exchange:
    """The `Exchange` of one answered request."""
    event = head.event
    now = time.monotonic()
    length = 0
    host = ""
    for key, value in event.headers:
        if key == b"content-length" and value.isdigit():
            length = int(value)
        elif key == b"host" and not host:
            host = value.decode("latin-1")
    decision = call.decision if call is not None else None
    return Exchange(
        entry_point=entry_point,
        method=event.method.decode("ascii", "replace"),
        status=response.status,
        router=decision.router if decision is not None else None,
        service=decision.service_name if decision is not None else None,
        server=call.server if call is not None else None,
        duration=now - started,
        complete=complete,
        started=time.time() - (now - started),
        client_ip=head.client_ip,
        user=call.user if call is not None else None,
        host=host,
        target=event.target.decode("latin-1"),
        protocol="HTTP/" + event.http_version.decode("ascii", "replace"),
        tls=head.tls,
        request_size=length,
        size=size,
        retries=max(call.attempts - 1, 0) if call is not None else 0,
        request_headers=tuple(event.headers),
        response_headers=tuple(response.headers),
    )


_ERRORS: Final = {
    502: _short(502, b"502 Bad Gateway"),
    503: _short(503, b"503 Service Unavailable"),
    504: _short(504, b"504 Gateway Timeout"),
}
_log: Final = logging.getLogger("routekit.proxy")


def _failed(status: int, fields: Fields | None) -> Response:
    """The short answer of *status* (502, 503, 504), with a chain's *fields*."""
    answer = _ERRORS[status]
    if fields is None:
        return answer
    return Response(answer.status, with_fields(answer.headers, fields), answer.body)


_NOT_FOUND: Final = _short(404, b"404 page not found")
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
        context: the clock and sleep the middlewares use (a fake clock in tests).
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
        context: Context | None = None,
        observe: Callable[[Exchange], None] | None = None,
    ) -> None:
        self._runtime = runtime
        self._entry_point = entry_point
        self._client = client
        self._forwarded = forwarded if forwarded is not None else ForwardedHeaders()
        self._tunnel_idle = tunnel_idle
        # Middlewares that make requests (forwardAuth, errors) use the proxy's clients and
        # services.
        context = context or Context()
        context = attrs.evolve(
            context,
            client=context.client or self._client_for,
            forward_to=context.forward_to or self._forward_to,
        )
        self._chains = Chains(self._forward, context)
        self._seen: Runtime | None = None
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
        event = head.event
        if event.method == b"CONNECT":
            # A reverse proxy is no forward proxy: CONNECT tunnels are not opened.
            return self._done(head, _short(501, b"501 Not Implemented"), started)
        try:
            request = Request.from_h11(
                event, client_ip=head.client_ip, scheme="https" if head.tls else "http"
            )
        except BadRequest:
            return self._done(head, _short(400, b"400 Bad Request"), started)
        runtime = self._runtime()
        if runtime is not self._seen:
            self._seen = runtime
            self._chains.reload()
        decision = runtime.route(request, self._entry_point)
        if decision is None:
            return self._done(head, _NOT_FOUND, started)
        path, query = split_target(event.target.decode("latin-1"))
        call = Call(
            method=event.method,
            path=path,
            query=query,
            # The entry point's forwarded-headers step comes first, as in Traefik: the
            # middlewares see the X-Forwarded-* that the entry point trusts.
            headers=forwarded_headers(
                list(event.headers), self._forwarded, client_ip=head.client_ip, tls=head.tls
            ),
            body=body,
            request=request,
            decision=decision,
            client_ip=head.client_ip,
            tls=head.tls,
            started=started,
            peer_certificate=head.peer_certificate,
        )
        if not decision.middlewares:  # the common case: straight to the service
            response = await self._forward(call)
        else:
            chain = self._chains.path(decision)
            if type(chain) is Fused:
                # Only steps (path rewrites, headers, auth, limits): run here, around the
                # forwarding, with no coroutine frame of their own for each await to climb.
                answer = chain.enter(call)
                if answer is not None and not isinstance(answer, Response):
                    answer = await answer
                if answer is None and chain.fields is not None:
                    # The answer's fields known at build: put in as the answer is made.
                    response = await self._forward(call, chain.fields)
                elif answer is None:
                    response = chain.leave(call, await self._forward(call))
                else:
                    response = answer
            else:
                response = await chain(call)
        observe = self._observe
        if observe is None:
            return response

        def done(complete: bool, size: int) -> None:
            ep = self._entry_point
            observe(_exchange(ep, head, started, response, size, complete, call))

        return after_body(response, done)

    async def _forward_to(self, call: Call, service: str) -> Response:
        """Forward *call* to the service named *service* of the current runtime."""
        balancer = self._seen.services.get(service) if self._seen is not None else None
        if balancer is None:
            return _ERRORS[503]
        call.decision = attrs.evolve(
            call.decision,
            service=balancer,
            service_name=service,
            middlewares=(),
            middleware_names=(),
            pass_host_header=True,
            transports=NO_TRANSPORTS,
            mirroring=None,
        )
        return await self._forward(call)

    async def _forward(self, call: Call, fields: Fields | None = None) -> Response:
        """Take a server from the call's service and forward the request to it; the answer,
        whatever it is, gets *fields* (a chain's, `Fused.fields`)."""
        decision = call.decision
        try:
            lease = decision.service.acquire(call.request)
        except NoServerAvailable:
            return _failed(503, fields)
        call.attempts += 1
        call.server = str(lease.server)
        copy: bytes | None = None
        forwarded: bytes | AsyncIterator[bytes] = call.body
        if lease.mirrors:
            forwarded, copy = await mirror_copy(call.body, decision.mirroring)
            if copy is None or self._background is None:
                if self._background is None and not self._warned:
                    self._warned = True
                    _log.warning("mirrors not sent: this Proxy has no background task group")
                for mirror in lease.mirrors:
                    mirror.release()
                copy = None
        headers = upstream_headers(
            call.headers,
            client_ip=call.client_ip,
            append_forwarded_for=call.append_forwarded_for
            and not self._forwarded.not_append_x_forwarded_for,
        )
        if not decision.pass_host_header:
            # passHostHeader = false: the server sees its own host, not the client's (Traefik
            # sets the outgoing Host to the server URL's host).
            headers = [(k, v) for k, v in headers if k != b"host"]
        target = call.target
        try:
            origin, prefix, host, plain = self._upstream(lease.server)
        except UpstreamError as exc:  # a server URL the client cannot reach (a scheme it lacks)
            lease.release(ok=False)
            call.upstream_error = exc
            return _failed(502, fields)
        if not decision.pass_host_header:
            headers.insert(0, (b"host", host))
        client = self._client_for(decision.transports.get(lease.server.url))
        if client is None:
            lease.release(ok=False)
            return _failed(502, fields)
        try:
            upstream = await client.request(
                call.method.decode("ascii"),
                "",
                headers=headers,
                body=forwarded,
                origin=origin,
                target=prefix + target,
                # Middlewares add only fields checked when they were built (or parsed by h11)
                # and paths they escaped: the request line and fields go out as they are.
                checked=plain,
            )
        except UpstreamError as exc:
            lease.release(ok=False)
            call.upstream_error = exc
            return _failed(exc.status_hint if exc.status_hint in _ERRORS else 502, fields)
        if copy is not None and self._background is not None:
            # The main server has answered: the mirrors get their copies, in the background.
            self._background.start_soon(
                self._mirror, lease.mirrors, call.method, headers, target, copy, decision
            )
        upgraded = upstream.upgraded
        relayed = downstream_headers(upstream.headers, upgraded=upgraded is not None)
        for cookie in lease.set_cookies:
            relayed.append((b"set-cookie", cookie.encode("latin-1")))
        if fields is not None:
            relayed = with_fields(relayed, fields)
        if upgraded is None:
            if upstream.complete is not None:  # the whole answer is here: no streaming needed
                # Passive health (traefik-semantics §8.2): an answer below 500 is a success.
                lease.release(ok=upstream.status < 500)
                # Fields h11 parsed from the server, and no cookie of ours: valid as they are.
                return Response(
                    upstream.status,
                    relayed,
                    upstream.complete,
                    checked=not lease.set_cookies,
                    trailers=upstream.trailers,
                )
            chunks = _relay(upstream, lease, upstream.status < 500)
            return Response(
                upstream.status,
                relayed,
                chunks,
                checked=not lease.set_cookies,
                trailers=upstream.trailers,
            )
        asked, got = is_upgrade(headers), is_upgrade(upstream.headers)
        if asked is None or got is None or got.lower() != asked.lower():
            # Go's ReverseProxy: a server that switches to another protocol than the one asked
            # for (or to none) is a bad gateway.
            await upgraded.aclose()
            lease.release(ok=False)
            return _failed(502, fields)
        return Response(101, relayed, tunnel=self._tunnel(upgraded, lease))

    def _done(self, head: RequestHead, response: Response, started: float) -> Response:
        """Tell the observer about an answer given before any router's path; return it."""
        if self._observe is not None:
            size = len(response.body) if isinstance(response.body, bytes) else 0
            ep = self._entry_point
            self._observe(_exchange(ep, head, started, response, size, True, None))
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


async def _relay(upstream: ClientResponse, lease: Lease, good: bool) -> AsyncIterator[bytes]:
    """The upstream body, chunk by chunk; the lease ends with it, ok only if it all came and
    the status was *good*."""
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
        lease.release(ok=ok and good)
