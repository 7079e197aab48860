"""`Runtime`: one immutable, ready-to-route picture of the configuration, and its answers.

A `Runtime` is made by `routekit.runtime.build` and never changes afterwards: a new configuration
gives a new `Runtime`, and whoever serves requests swaps one reference.  Requests that started
on the old one finish on it.  The balancers inside are live objects (they count picks, in-flight
requests and health), and the next `Runtime` takes over the ones whose servers stayed.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, final

import attrs

from ..balance import Balancer
from ..config import Configuration, Middleware, Mirroring, ServersTransport
from ..errors import Problem
from ..request import Request
from ..routing import Route, RouteTable, TCPRouteTable
from ._tcp import TCPTarget

if TYPE_CHECKING:
    from ..middleware import Layer
    from ..rules import Rule, TCPConnection

__all__ = ["RouterTarget", "RoutingDecision", "Runtime", "TCPRoutingDecision"]

_EMPTY: Final[Mapping[str, str]] = MappingProxyType({})
_SECURE_SCHEMES: Final = frozenset({"https", "wss"})
#: The `RouterTarget.transports` of a router whose servers all use the default transport.
NO_TRANSPORTS: Final[Mapping[str, ServersTransport]] = MappingProxyType({})


@final
@attrs.frozen(eq=False)
class RouterTarget:
    """What a matching route leads to: its router, service balancer and middlewares (built),
    and whether the client's ``Host`` is passed to the servers (``passHostHeader``)."""

    router: str
    service_name: str
    service: Balancer
    middlewares: tuple[Middleware, ...]
    pass_host_header: bool = True
    transports: Mapping[str, ServersTransport] = attrs.field(factory=dict)
    mirroring: Mirroring | None = None
    #: The names of `middlewares`, in the same order (a chain's members by their own names).
    middleware_names: tuple[str, ...] = ()
    #: Their layers, built when the configuration loaded (``None``: one each face builds).
    layers: tuple[Layer | None, ...] = ()

    def __repr__(self) -> str:
        # Shown by explanations and the CLI: the service and the middleware kinds, not the
        # whole balancer tree.
        chain = ", ".join(type(m).type_key for m in self.middlewares)
        return f"service {self.service_name}" + (f" via [{chain}]" if chain else "")


@final
@attrs.frozen(eq=False)
class RoutingDecision:
    """Where a request goes: the router that matched, its service and its middleware chain.

    Attributes:
        router: the qualified router name (``api@file``).
        service_name: the qualified service name.
        service: the service's balancer tree: ``decision.service.acquire(request)``.
        middlewares: the middlewares to apply, in order, chains already flattened.
        params: the template variables of the matching rule (usually empty).
        entry_point: the entry point the request came in on.
        route: the matching route (rule, priority) of the entry point's table.
        pass_host_header: whether the servers get the client's ``Host`` (the service's
            ``passHostHeader``, true unless it says otherwise).
        transports: server URL → its load balancer's ``serversTransport`` (TLS and
            timeouts towards it); a server not in it uses the default transport.
        mirroring: the service's mirroring options, when it is a mirroring service.
        middleware_names: the names of `middlewares`, in the same order.
        layers: their layers, built when the configuration loaded (``None``: a middleware
            each face builds with its own clock, client and services).
    """

    router: str
    service_name: str
    service: Balancer
    middlewares: tuple[Middleware, ...]
    params: Mapping[str, str]
    entry_point: str
    route: Route
    pass_host_header: bool = True
    transports: Mapping[str, ServersTransport] = attrs.field(factory=dict)
    mirroring: Mirroring | None = None
    middleware_names: tuple[str, ...] = ()
    layers: tuple[Layer | None, ...] = ()


@final
@attrs.frozen(eq=False)
class TCPRoutingDecision:
    """Where a TCP connection goes: the router that matched and what it leads to.

    Attributes:
        target: the router, its service balancer, middlewares and TLS settings.
        entry_point: the entry point the connection came in on.
        route: the matching route (rule, priority) of the entry point's TCP table.
    """

    target: TCPTarget
    entry_point: str
    route: Route


def _read_only(value: Mapping[Any, Any]) -> Mapping[Any, Any]:
    return MappingProxyType(dict(value))


@final
@attrs.frozen(kw_only=True, eq=False)
class Runtime:
    """Route tables per entry point, service balancers and middleware chains, built together.

    Made by `routekit.runtime.build`; read-only.  Routers with ``tls`` only answer requests whose
    scheme is ``https`` (or ``wss``) and the others only plain ones, as Traefik's separate HTTP
    and HTTPS routers of one entry point.

    Attributes:
        config: the configuration it was built from (qualified names when built by a watcher).
        tables: entry point → `RouteTable` of the routers without TLS.
        tls_tables: entry point → `RouteTable` of the routers with TLS.
        services: service name → its balancer tree (services that could not be built are absent).
        middlewares: router name → its resolved middleware chain.
        problems: what was left out while building, and why.
        entry_points: the default entry points (for routers that name none).
        tcp_tables: entry point → `TCPRouteTable` of its TCP routers.
        tcp_services: TCP service name → its balancer of server addresses.
    """

    config: Configuration
    tables: Mapping[str, RouteTable] = attrs.field(converter=_read_only)
    tls_tables: Mapping[str, RouteTable] = attrs.field(converter=_read_only)
    services: Mapping[str, Balancer] = attrs.field(converter=_read_only)
    middlewares: Mapping[str, tuple[Middleware, ...]] = attrs.field(converter=_read_only)
    problems: tuple[Problem, ...]
    entry_points: tuple[str, ...]
    # Parsed rules and the child balancers of each service, for the next build to reuse.
    _rules: Mapping[tuple[str, str], Rule] = attrs.field(converter=_read_only, repr=False)
    _children: Mapping[str, tuple[Balancer, ...]] = attrs.field(converter=_read_only, repr=False)
    # The middlewares built when it loaded, by name and options, for the next build to reuse.
    _layers: Mapping[tuple[str, Middleware], Layer | None] = attrs.field(
        factory=dict, converter=_read_only, repr=False
    )
    tcp_tables: Mapping[str, TCPRouteTable] = attrs.field(factory=dict, converter=_read_only)
    tcp_services: Mapping[str, Balancer] = attrs.field(factory=dict, converter=_read_only)

    def table_for(self, request: Request, entry_point: str = "web") -> RouteTable | None:
        """The table that routes *request* on *entry_point*: TLS routers for https/wss requests."""
        tables = self.tls_tables if request.scheme in _SECURE_SCHEMES else self.tables
        return tables.get(entry_point)

    def route(self, request: Request, entry_point: str | None = None) -> RoutingDecision | None:
        """Where *request*, arrived on *entry_point*, goes; ``None`` when no router matches.

        With no *entry_point*, the tables of every entry point are tried, the default entry
        points first (in order), then the others sorted; the first match wins.
        """
        if entry_point is None:
            tables = self.tls_tables if request.scheme in _SECURE_SCHEMES else self.tables
            for ep in self._entry_point_order(tables):
                decision = self.route(request, ep)
                if decision is not None:
                    return decision
            return None
        table = self.table_for(request, entry_point)
        if table is None:
            return None
        match = table.match(request)
        if match is None:
            return None
        target: RouterTarget = match.route.target
        return RoutingDecision(
            target.router,
            target.service_name,
            target.service,
            target.middlewares,
            match.params or _EMPTY,
            entry_point,
            match.route,
            target.pass_host_header,
            target.transports,
            target.mirroring,
            target.middleware_names,
            target.layers,
        )

    def route_tcp(
        self, connection: TCPConnection, entry_point: str | None = None
    ) -> TCPRoutingDecision | None:
        """Where a TCP *connection*, arrived on *entry_point*, goes; ``None`` if no router matches.

        With no *entry_point*, every entry point's table is tried as `route` does.
        """
        if entry_point is None:
            for ep in self._entry_point_order(self.tcp_tables):
                decision = self.route_tcp(connection, ep)
                if decision is not None:
                    return decision
            return None
        table = self.tcp_tables.get(entry_point)
        match = table.match(connection) if table is not None else None
        if match is None:
            return None
        return TCPRoutingDecision(match.route.target, entry_point, match.route)

    def _entry_point_order(self, tables: Mapping[str, object]) -> list[str]:
        """The entry points of *tables* to try: the defaults first (in order), then the rest."""
        defaults = [ep for ep in self.entry_points if ep in tables]
        return [*defaults, *sorted(set(tables) - set(self.entry_points))]

    @property
    def routers(self) -> tuple[str, ...]:
        """The names of the routers that were built (in any table), sorted."""
        names = {r.name for t in (*self.tables.values(), *self.tls_tables.values()) for r in t}
        return tuple(sorted(names))

    @property
    def errors(self) -> tuple[Problem, ...]:
        """The problems that left something out (severity ``error``)."""
        return tuple(p for p in self.problems if p.severity == "error")

    def __repr__(self) -> str:
        eps = sorted({*self.tables, *self.tls_tables})
        n = sum(len(t) for t in self.tables.values()) + sum(
            len(t) for t in self.tls_tables.values()
        )
        return (
            f"<Runtime {n} routes on {', '.join(eps) or 'no entry point'}; "
            f"{len(self.services)} services; {len(self.problems)} problems>"
        )
