"""The TCP half of `build`: TCP route tables per entry point, TCP service balancers, middlewares.

Traefik's TCP routing (``master:docs/content/routing/routers/index.md``, "Configuring TCP
Routers"): a connection is matched on its TLS server name (SNI), client IP and ALPN protocols,
routers in priority order with the catch-all ``HostSNI(`*`)`` last (`TCPRouteTable`).  A TCP
service balances connections over server addresses (round robin) or over other TCP services by
weight; TCP middlewares (``inFlightConn``, ``ipAllowList``) apply to the connection first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Final, final

import attrs

from ..balance import Server, WeightedRoundRobin
from ..config import Configuration, TCPMiddleware, TCPRouter, TCPRouterTLS, TCPService, rule_error
from ..errors import ConfigError
from ..routing import Route, TCPRouteTable
from ..rules import Rule, parse_tcp_rule
from ._services import Report, build_once

if TYPE_CHECKING:
    from ..balance import Balancer, Clock

__all__ = ["TCPBuild", "TCPTarget", "build_tcp"]

_NO_MIDDLEWARES: Final[tuple[TCPMiddleware, ...]] = ()


@final
@attrs.frozen(eq=False)
class TCPTarget:
    """What a matching TCP route leads to: its router, service balancer, middlewares and TLS.

    Attributes:
        router: the (qualified) router name.
        service_name: the (qualified) service name.
        service: the balancer of server addresses: ``target.service.acquire()`` picks one.
        middlewares: the router's TCP middlewares, in order.
        tls: the router's ``tls`` (``passthrough``…); ``None`` for a plain TCP router.
    """

    router: str
    service_name: str
    service: Balancer
    middlewares: tuple[TCPMiddleware, ...]
    tls: TCPRouterTLS | None

    def __repr__(self) -> str:
        chain = ", ".join(type(m).type_key for m in self.middlewares)
        return f"TCP service {self.service_name}" + (f" via [{chain}]" if chain else "")


@final
@attrs.frozen
class TCPBuild:
    """The TCP tables and services `build_tcp` made."""

    tables: Mapping[str, TCPRouteTable]
    services: Mapping[str, Balancer]
    rules: Mapping[tuple[str, str], Rule]


def build_tcp(
    config: Configuration,
    report: Report,
    *,
    defaults: tuple[str, ...],
    precedence: tuple[str, ...],
    previous_config: Configuration | None,
    previous_services: Mapping[str, Balancer],
    old_rules: Mapping[tuple[str, str], Rule],
    clock: Clock | None,
) -> TCPBuild:
    """Build the TCP routers and services of *config*; what cannot be built goes to *report*.

    A service whose definition did not change keeps its balancer (and so its position in the
    rotation and its in-flight counts); the rest are made anew.
    """
    services = _Services(config, previous_config, previous_services, report, clock)
    rules: dict[tuple[str, str], Rule] = {}
    routes: dict[str, list[Route]] = {}
    for name, router in config.tcp.routers.items():
        route = _route(
            name,
            router,
            config=config,
            services=services,
            report=report,
            rules=rules,
            old_rules=old_rules,
        )
        if route is not None:
            for ep in dict.fromkeys(router.entry_points or defaults):
                routes.setdefault(ep, []).append(route)
    tables = {ep: TCPRouteTable(rs, provider_precedence=precedence) for ep, rs in routes.items()}
    return TCPBuild(tables=tables, services=services.done(), rules=rules)


def _route(
    name: str,
    router: TCPRouter,
    *,
    config: Configuration,
    services: _Services,
    report: Report,
    rules: dict[tuple[str, str], Rule],
    old_rules: Mapping[tuple[str, str], Rule],
) -> Route | None:
    element = f"tcp.routers.{name}"
    syntax = router.rule_syntax or "auto"
    key = (router.rule, f"tcp:{syntax}")
    rule = rules.get(key) or old_rules.get(key)
    if rule is None:
        try:
            rule = parse_tcp_rule(router.rule, syntax=syntax)  # type: ignore[arg-type]
        except ValueError as exc:
            report.error(f"{element}.rule", *rule_error(exc))
            return None
    rules[key] = rule
    if router.tls is None and rule.domains():
        # Traefik's TCP router manager refuses it: without TLS there is no server name.
        report.error(f"{element}.rule", "has HostSNI matcher, but no TLS on router")
        return None
    balancer = services.get(router.service)
    if balancer is None:
        if not router.service:
            report.error(f"{element}.service", "no service given")
        else:
            report.missing(f"{element}.service", router.service, config.tcp.services, "service")
        return None
    middlewares: list[TCPMiddleware] = []
    for ref in router.middlewares:
        middleware = config.tcp.middlewares.get(ref)
        if middleware is None:
            report.missing(f"{element}.middlewares", ref, config.tcp.middlewares, "middleware")
            return None
        middlewares.append(middleware)
    target = TCPTarget(
        name, router.service, balancer, tuple(middlewares) or _NO_MIDDLEWARES, router.tls
    )
    _, at, provider = name.rpartition("@")
    try:
        return Route(name, rule, target, router.priority or None, provider=provider if at else None)
    except ConfigError as exc:
        report.error(f"{element}.priority", str(exc).removeprefix(f"route {name!r}: "))
        return None


class _Services:
    """Builds TCP services on demand, children first; loops and unknown names are reported."""

    def __init__(
        self,
        config: Configuration,
        previous: Configuration | None,
        previous_services: Mapping[str, Balancer],
        report: Report,
        clock: Clock | None,
    ) -> None:
        self.defs = config.tcp.services
        self.prev_defs = previous.tcp.services if previous is not None else {}
        self.prev = previous_services
        self.report = report
        self.clock = clock
        self.built: dict[str, Balancer | None] = {}
        self.visiting: list[str] = []

    def done(self) -> dict[str, Balancer]:
        for name in self.defs:
            self.get(name)
        return {n: b for n, b in self.built.items() if b is not None}

    def get(self, name: str) -> Balancer | None:
        return build_once(
            name, self.defs, self.built, self.visiting, self._make, self.report, "tcp.services"
        )

    def _make(self, name: str, service: TCPService) -> Balancer | None:
        element = f"tcp.services.{name}"
        children: Sequence[tuple[Server | Balancer, float]]
        if service.load_balancer is not None:
            addresses = dict.fromkeys(s.address for s in service.load_balancer.servers)
            children = [(Server(address), 1.0) for address in addresses]
        elif service.weighted is not None:
            found: list[tuple[Server | Balancer, float]] = []
            for i, child in enumerate(service.weighted.services):
                balancer = self.get(child.name)
                if balancer is None:
                    if name not in self.built:
                        where = f"{element}.weighted.services.{i}.name"
                        self.report.missing(where, child.name, self.defs, "service")
                    return None
                found.append((balancer, float(child.weight)))
            children = found
        else:
            self.report.error(element, "a TCP service must be a loadBalancer or weighted")
            return None
        old = self.prev.get(name)
        if old is not None and self.prev_defs.get(name) == service and service.weighted is None:
            return old
        try:
            return WeightedRoundRobin(children, name=name, clock=self.clock)
        except ConfigError as exc:
            self.report.error(element, str(exc))
            return None
