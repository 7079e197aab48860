"""`Gateway`: entry points that serve a `Runtime` or a `Watcher`'s routes — a whole proxy.

A custom gateway needs no CLI: ``async with Gateway(watcher, entry_points) as gateway`` starts
the watcher (waiting for every provider's first snapshot), listens on each entry point, and on
leaving stops accepting, lets the requests in flight finish within the grace period (Traefik's
``lifeCycle.graceTimeOut``), then stops the watcher and closes the upstream connections.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Final, final

import anyio
import anyio.abc

from ..config import EntryPoint, TLSConfiguration
from ..errors import ConfigError
from ..http import (
    Certificates,
    Client,
    EntryPointServer,
    ForwardedHeaders,
    Limits,
    Timeouts,
)
from ..middleware import Context
from ..runtime import HealthChecks, Runtime
from ._access_log import AccessLog
from ._proxy import Exchange, Proxy

if TYPE_CHECKING:
    from ..runtime import Watcher

__all__ = ["Gateway", "load_certificates"]

_log: Final = logging.getLogger("routekit.proxy")


def load_certificates(tls: TLSConfiguration) -> Certificates:
    """The certificates of a configuration's ``tls`` section (default store's default first).

    Raises:
        ConfigError: a certificate or key cannot be read, or they do not match.
    """
    pairs = [(c.cert_file, c.key_file) for c in tls.certificates]
    store = tls.stores.get("default")
    default = store.default_certificate if store is not None else None
    # The default TLS options apply to every router without options of its own.
    options = tls.options.get("default")
    auth = options.client_auth if options is not None else None
    return Certificates(
        pairs,
        default=(default.cert_file, default.key_file) if default is not None else None,
        client_cas=auth.ca_files if auth is not None else (),
        client_auth=auth.client_auth_type if auth is not None else "",
    )


def _both(
    first: Callable[[Exchange], None], second: Callable[[Exchange], None]
) -> Callable[[Exchange], None]:
    def observe(exchange: Exchange) -> None:
        first(exchange)
        second(exchange)

    return observe


@final
class Gateway:
    """Serve *entry_points* with the routes of *routes* until the block ends.

    Args:
        routes: a fixed `Runtime`, or a `Watcher` that the gateway runs.
        entry_points: name → `routekit.config.EntryPoint` (address, forwarded headers, TLS).
        client: the pooled upstream client; one is made (and closed) otherwise.
        limits, timeouts: what each client connection may send, and how long it waits.
        grace: seconds the requests in flight get when the gateway stops.
        tunnel_idle: seconds an upgraded connection may stay silent both ways.
        hostname: the ``X-Forwarded-Server`` value (Traefik uses the machine's name).
        reuse_port: bind with ``SO_REUSEPORT`` (worker processes sharing the ports).
        context: the clock and sleep of the middlewares (a fake clock in tests).
        observe: the observer hook of each entry point's `Proxy`.
        access_log: an `AccessLog` that sees every exchange; the gateway runs its writer.

    Raises:
        ConfigError: an entry point's address or trusted IPs are not valid.
    """

    def __init__(
        self,
        routes: Runtime | Watcher,
        entry_points: Mapping[str, EntryPoint],
        *,
        client: Client | None = None,
        limits: Limits | None = None,
        timeouts: Timeouts | None = None,
        grace: float = 10.0,
        tunnel_idle: float = 180.0,
        hostname: str | None = None,
        reuse_port: bool = False,
        context: Context | None = None,
        observe: Callable[[Exchange], None] | None = None,
        access_log: AccessLog | None = None,
    ) -> None:
        if not entry_points:
            raise ConfigError("a gateway needs at least one entry point")
        self._routes = routes
        self._access_log = access_log
        if access_log is not None:
            observe = access_log if observe is None else _both(observe, access_log)
        self._own_client = client is None
        self.client = client if client is not None else Client()
        host = socket.gethostname() if hostname is None else hostname
        self._tls_seen: TLSConfiguration | None = None
        self._certificates: Certificates | None = None
        self.servers: dict[str, EntryPointServer] = {}
        self._proxies: list[Proxy] = []
        # What each entry point is built from: a rebind compares with it.
        self._make = (host, tunnel_idle, context, observe, limits, timeouts, grace, reuse_port)
        self.entry_points: dict[str, EntryPoint] = {}
        self._serving: anyio.abc.TaskGroup | None = None
        self._background: anyio.abc.TaskGroup | None = None
        for name, entry in entry_points.items():
            self._add(name, entry)
        #: The active health checks of the routes' load balancers.
        self.health = HealthChecks(self.client)
        self._stack: contextlib.AsyncExitStack | None = None
        self._stopped = anyio.Event()

    def _add(self, name: str, entry: EntryPoint) -> EntryPointServer:
        host, tunnel_idle, context, observe, limits, timeouts, grace, reuse_port = self._make
        forwarded = ForwardedHeaders(
            insecure=entry.forwarded_headers_insecure,
            trusted_ips=entry.trusted_ips,
            hostname=host,
        )
        proxy = Proxy(
            self._runtime,
            entry_point=name,
            client=self.client,
            forwarded=forwarded,
            tunnel_idle=tunnel_idle,
            context=context,
            observe=observe,
        )
        self._proxies.append(proxy)
        if self._background is not None:
            proxy.attach(self._background)
        server = self.servers[name] = EntryPointServer(
            entry.address,
            proxy,
            limits=limits if limits is not None else Limits(),
            timeouts=timeouts if timeouts is not None else Timeouts(),
            grace=grace,
            certificates=self._current_certificates,
            tls_only=entry.tls,
            reuse_port=reuse_port,
        )
        self.entry_points[name] = entry
        return server

    async def _close_proxies(self) -> None:
        for proxy in self._proxies:  # those a rebind added too
            await proxy.aclose()

    async def rebind(self, entry_points: Mapping[str, EntryPoint]) -> list[str]:
        """Serve *entry_points* from now on: those that changed (or are new) are listened on
        again, those that left stop gracefully, the others keep serving without a pause.

        Returns:
            the names of the entry points that changed, came or left.

        Raises:
            ConfigError: an entry point's settings are not valid (nothing was changed).
        """
        if self._serving is None:
            raise RuntimeError("rebind() needs the gateway running (async with)")
        if not entry_points:
            raise ConfigError("a gateway needs at least one entry point")
        for entry in entry_points.values():
            ForwardedHeaders(trusted_ips=entry.trusted_ips)  # refuse bad ones before any change
        changed = sorted(
            {n for n in self.entry_points if entry_points.get(n) != self.entry_points[n]}
            | {n for n in entry_points if n not in self.entry_points}
        )
        for name in changed:
            old = self.servers.pop(name, None)
            self.entry_points.pop(name, None)
            if old is not None:
                old.stop()
            if name in entry_points:
                await self._serving.start(self._add(name, entry_points[name]).serve)
        return changed

    @property
    def runtime(self) -> Runtime:
        """The runtime requests are routed with now."""
        return self._runtime()

    @property
    def ports(self) -> Mapping[str, tuple[int, ...]]:
        """Each entry point's listening ports (the real ones when an address asked for 0)."""
        return {name: server.ports for name, server in self.servers.items()}

    def url(self, entry_point: str, *, scheme: str = "http") -> str:
        """``scheme://127.0.0.1:port`` of *entry_point* (for tests and local use)."""
        return f"{scheme}://127.0.0.1:{self.servers[entry_point].ports[0]}"

    def _runtime(self) -> Runtime:
        routes = self._routes
        return routes if isinstance(routes, Runtime) else routes.runtime

    def _current_certificates(self) -> Certificates | None:
        """The certificates of the current configuration; a bad new set keeps the last good."""
        tls = self._runtime().config.tls
        # The same object between reloads: an identity check spares comparing the section.
        if tls is self._tls_seen:
            return self._certificates
        changed = tls != self._tls_seen
        self._tls_seen = tls
        if changed:
            try:
                self._certificates = load_certificates(tls)
            except ConfigError as exc:
                _log.error("TLS certificates not loaded, the previous ones serve: %s", exc)
        return self._certificates

    async def __aenter__(self) -> Gateway:
        async with contextlib.AsyncExitStack() as stack:
            if self._own_client:
                stack.push_async_callback(self.client.aclose)
            stack.push_async_callback(self._close_proxies)
            if not isinstance(self._routes, Runtime):
                await stack.enter_async_context(self._routes.running())
            # Background work (mirrors) ends after the servers have stopped, not before.
            background = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(background.cancel_scope.cancel)
            self._background = background
            for proxy in self._proxies:
                proxy.attach(background)
            if self._access_log is not None:
                background.start_soon(self._access_log.run)
            # Active health checks follow the runtime: servers come, stay and go with it.
            changes = None if isinstance(self._routes, Runtime) else self._routes.subscribe()
            background.start_soon(self.health.follow, self._runtime(), changes)
            tg = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(self.stop)  # leaving the block stops the servers gracefully
            for server in self.servers.values():
                await tg.start(server.serve)
            self._serving = tg
            self._stack = stack.pop_all()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack, self._stack = self._stack, None
        self._serving = self._background = None
        if stack is not None:
            await stack.__aexit__(exc_type, exc, tb)

    def stop(self) -> None:
        """Stop every entry point gracefully (the ``async with`` block's end does too)."""
        for server in self.servers.values():
            server.stop()
        self._stopped.set()

    async def wait(self) -> None:
        """Wait until `stop` is called (serve until a signal, for instance)."""
        await self._stopped.wait()
