"""`Router` and `RouteMiddleware`: Traefik's routing as an ASGI application.

Per request the router reads its runtime once, builds the `Request` view of the scope and asks
`Runtime.route` where it goes.  A router whose service is a mounted app calls the app in
process (`_mount`); any other is proxied by `routekit.proxy.Proxy`, the same path as routekit's
own gateway (`_forward` only translates between the scope and the proxy's request head).  No
match falls through to the default app (`RouteMiddleware`'s wrapped app) or is answered 404
by the proxy, as Traefik answers it.
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Final, Self, TypedDict, Unpack

import anyio
import anyio.abc
import attrs

from ..config import Configuration, ServersTransport
from ..errors import BadRequest
from ..http import NO_BODY, Client, ForwardedHeaders, Response
from ..middleware import Context, plain
from ..proxy import Exchange, Proxy
from ..request import Request
from ..routing import Route
from ..runtime import Runtime
from ._forward import ClientLeft, body_of, deny_websocket, refuse, request_head, send_response
from ._info import RouteInfo
from ._lifespan import AppLifespan, shut_down, start_up
from ._mount import Mounts
from ._source import Source, from_config, from_routes, from_watcher
from ._types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from ..runtime import Watcher

__all__ = ["RouteMiddleware", "Router"]

# The runtime a request was routed with, for the proxy to route it with too (a reload between
# the two reads must not send it elsewhere), and its `RouteInfo`, for the proxy's observer.
_PINNED: Final = contextvars.ContextVar[Runtime]("routekit.asgi.runtime")
_INFO: Final = contextvars.ContextVar["RouteInfo | None"]("routekit.asgi.info", default=None)
# Fields of the server's 101 that ASGI's websocket.accept carries otherwise, or not at all.
_ACCEPT_DROPPED: Final = frozenset(
    {b"upgrade", b"connection", b"sec-websocket-accept", b"sec-websocket-protocol"}
)


class Options(TypedDict, total=False):
    """The keyword arguments `Router` and `RouteMiddleware` share (see `Router`)."""

    apps: Mapping[str, ASGIApp] | None
    entry_point: str
    client: Client | None
    forwarded: ForwardedHeaders | None
    tunnel_idle: float
    context: Context | None
    observe: Callable[[Exchange], None] | None
    run_watcher: bool


def _pinned() -> Runtime:
    return _PINNED.get()


class Router:
    """An ASGI app that routes HTTP and WebSocket scopes by Traefik rules.

    Args:
        routes: the routes, as a list of `routekit.Route` (each route's target an ASGI app,
            a server URL, a list of them, or a `routekit.config.Service`), a `Configuration`,
            or a `Watcher` of live providers (routes change while the app runs).
        apps: mounted apps by service name: a router whose service is ``NAME@asgi`` (or
            ``NAME`` in a `Configuration` given directly) is served by ``apps[NAME]``.  A
            watcher must follow `apps_provider(apps) <routekit.asgi.apps_provider>`.
        default: the app for requests that no route matches (``None``: 404, as Traefik).
        entry_point: the entry point the requests arrive on (routers naming none are on
            ``web``).
        client: the pooled client that reaches upstream servers (one is made if not given).
        forwarded: the entry point's ``forwardedHeaders`` settings.
        tunnel_idle: seconds a proxied WebSocket may stay quiet before it is closed.
        context: the clock and sleep the middlewares use.
        observe: called with an `Exchange` per proxied request (metrics, access logs).
        run_watcher: whether the lifespan runs the *routes* watcher (startup waits for each
            provider's first snapshot); ``False`` when the program runs it itself.

    Raises:
        ConfigError: a route or the configuration has problems (every one is listed), or an
            app name is not a service name.
    """

    def __init__(
        self,
        routes: Iterable[Route] | Configuration | Watcher,
        *,
        default: ASGIApp | None = None,
        **options: Unpack[Options],
    ) -> None:
        from ..runtime import Watcher

        apps = options.get("apps") or {}
        entry_point = options.get("entry_point", "web")
        self._watcher: Watcher | None = None
        source: Source
        if isinstance(routes, Watcher):
            source, self._apps = from_watcher(routes, apps)
            if options.get("run_watcher", True):
                self._watcher = routes
        elif isinstance(routes, Configuration):
            source, self._apps = from_config(routes, apps, (entry_point,))
        else:
            if apps:
                raise TypeError(
                    "apps= goes with a Configuration or a Watcher; a route's target is its app"
                )
            source, self._apps = from_routes(routes, (entry_point,))
        self._source = source
        self._default = default
        # Lifespan: the default app first (it is the main one), then each mounted app once (a
        # configuration's app is there under two service names).
        self._lifespan_apps = [("default", default)] if default is not None else []
        for name, app in self._apps.items():
            if all(app is not known for _, known in self._lifespan_apps):
                self._lifespan_apps.append((name, app))
        self._entry_point = entry_point
        self._own_client = options.get("client") is None
        self._client = options.get("client") or Client()
        self._user_observe = options.get("observe")
        self._proxy = Proxy(
            _pinned,
            entry_point=entry_point,
            client=self._client,
            forwarded=options.get("forwarded"),
            tunnel_idle=options.get("tunnel_idle", 180.0),
            context=options.get("context"),
            observe=self._observed,
        )
        # forwardAuth in front of a mounted app asks the router's client (the default servers
        # transport); an errors middleware's pages come from a service, which only the proxy
        # path serves.
        context = options.get("context") or Context()
        if context.client is None:
            context = attrs.evolve(context, client=self._default_client)
        self._mounts = Mounts(context)
        self._seen: Runtime | None = None

    def _default_client(self, transport: ServersTransport | None) -> Client | None:
        return self._client if transport is None else None

    async def aclose(self) -> None:
        """Close the connections to upstream servers (the lifespan's shutdown does it too)."""
        await self._proxy.aclose()
        if self._own_client:
            await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def runtime(self) -> Runtime:
        """The runtime requests are routed with now."""
        return self._source.runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection."""
        kind = scope["type"]
        if kind in {"http", "websocket"}:
            runtime = self._source.runtime
            if runtime is not self._seen:
                self._seen = runtime
                self._mounts.reload()
            try:
                request = Request.from_asgi(scope)
            except BadRequest:
                await refuse(scope, send, plain(400, "Bad Request"))
                return
            decision = runtime.route(request, self._entry_point)
            if decision is None:
                if self._default is not None:
                    await self._default(scope, receive, send)
                    return
                info = None  # the proxy answers 404, as Traefik does
            else:
                info = RouteInfo(
                    decision.router,
                    decision.service_name,
                    decision.route.rule.source,
                    decision.params,
                    decision.entry_point,
                )
                app = self._apps.get(decision.service_name)
                if app is not None:
                    await self._mounts.serve(app, scope, receive, send, request, decision, info)
                    return
                scope["routekit"] = info  # for an ASGI middleware around the router
            await self._forward(scope, receive, send, runtime, info)
        elif kind == "lifespan":
            await self._lifespan(scope, receive, send)
        elif self._default is not None:
            await self._default(scope, receive, send)

    def _observed(self, exchange: Exchange) -> None:
        info = _INFO.get()
        if info is not None:
            info.server = exchange.server
        if self._user_observe is not None:
            self._user_observe(exchange)

    async def _forward(
        self, scope: Scope, receive: Receive, send: Send, runtime: Runtime, info: RouteInfo | None
    ) -> None:
        """Proxy the request with `Proxy`, as routekit's gateway does."""
        try:
            head = request_head(scope)
        except BadRequest:
            await refuse(scope, send, plain(400, "Bad Request"))
            return
        websocket = scope["type"] == "websocket"
        body: AsyncIterator[bytes] = NO_BODY
        if websocket:
            if (await receive())["type"] != "websocket.connect":
                return
        else:
            try:
                head, body = await body_of(head, receive)
            except ClientLeft:
                return
        pinned = _PINNED.set(runtime)
        named = _INFO.set(info)
        try:
            response = await self._proxy(head, body)
            if not websocket:
                await send_response(response, send)
            elif response.status == 101 and response.tunnel is not None:
                # wsproto (the asgi extra) is imported only when a WebSocket is proxied.
                try:
                    from ._websocket import WebSocketWire
                except ModuleNotFoundError as exc:
                    raise ModuleNotFoundError(
                        "proxying a WebSocket needs wsproto: pip install 'routekit[asgi]'",
                        name=exc.name,
                    ) from exc

                await _accept(send, response)
                async with anyio.create_task_group() as tg:
                    await response.tunnel(WebSocketWire(receive, send, tg), b"")
                    tg.cancel_scope.cancel()  # the client's reader, still waiting
            else:
                await deny_websocket(scope, send, response)
        finally:
            _INFO.reset(named)
            _PINNED.reset(pinned)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Start the watcher and every mounted app; stop them at shutdown."""
        if (await receive())["type"] != "lifespan.startup":
            return
        async with anyio.create_task_group() as tg:
            self._proxy.attach(tg)  # mirrors are sent in the background
            started: list[AppLifespan] = []
            failure: str | None = None
            stopped: str | None = None
            try:
                if self._watcher is not None:
                    await tg.start(self._follow, self._watcher)
                started, failure = await start_up(self._lifespan_apps, scope, tg)
            except Exception as exc:
                failure = f"{type(exc).__name__}: {exc}"
            if failure is None:
                await send({"type": "lifespan.startup.complete"})
                await receive()  # lifespan.shutdown
                stopped = await shut_down(started)
            tg.cancel_scope.cancel()  # the watcher
        await self.aclose()
        if failure is not None:
            await send({"type": "lifespan.startup.failed", "message": failure})
        elif stopped is not None:
            await send({"type": "lifespan.shutdown.failed", "message": stopped})
        else:
            await send({"type": "lifespan.shutdown.complete"})

    @staticmethod
    async def _follow(
        watcher: Watcher, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        async with watcher.running():
            task_status.started()
            await anyio.sleep_forever()


class RouteMiddleware(Router):
    """Wrap an ASGI *app*: requests that match *routes* are routed as by `Router`; the rest
    (and the lifespan) go to *app*."""

    def __init__(
        self,
        app: ASGIApp,
        routes: Iterable[Route] | Configuration | Watcher,
        **options: Unpack[Options],
    ) -> None:
        super().__init__(routes, default=app, **options)


async def _accept(send: Send, response: Response) -> None:
    """Accept the client's WebSocket as the server upstream accepted it (its subprotocol)."""
    subprotocol = None
    headers = []
    for key, value in response.headers:
        if key == b"sec-websocket-protocol":
            subprotocol = value.decode("latin-1")
        elif key not in _ACCEPT_DROPPED:
            headers.append((key, value))
    await send({"type": "websocket.accept", "subprotocol": subprotocol, "headers": headers})
