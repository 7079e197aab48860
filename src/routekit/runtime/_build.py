"""`build`: a `Configuration` becomes a `Runtime`: route tables, balancer trees, middleware chains.

Building never raises on a bad element: what cannot be built (a rule that does not parse, an
unknown service or middleware, a loop, a middleware whose options only its build refuses or
whose package is not installed) is reported in `Runtime.problems`, left out with whatever
depends on it, and the rest is built.  Middlewares are built here, when the configuration
loads, as Traefik builds them with their routers: one that cannot be built leaves its routers
out with an error, and the other routers serve.

`build` is `prepare(...).finish()`.  `prepare` does nearly all the work (services without old
state, rules, middleware chains, route tables) while reading no balancer's state, so it may run
on a worker thread while the event loop serves from the previous runtime; `finish`, on the loop,
makes the services that take over an old balancer's state (few after a small change) and puts
them in place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Final, final

import attrs

from ..config import Chain, Configuration, Errors, Middleware, Router, rule_error
from ..errors import ConfigError, Problem
from ..routing import Route, RouteTable, TCPRouteTable
from ..rules import Rule, parse_rule
from ._runtime import NO_TRANSPORTS, RouterTarget, Runtime
from ._services import Report, ServiceBuilder, server_transports
from ._tcp import build_tcp

if TYPE_CHECKING:
    from ..balance import Balancer, Clock
    from ..middleware import Layer

__all__ = ["DEFAULT_ENTRY_POINTS", "DEFAULT_PROVIDER_PRECEDENCE", "Prepared", "build", "prepare"]

#: Entry points of routers that name none, when the caller gives no other list.
DEFAULT_ENTRY_POINTS: Final = ("web",)

#: Which provider wins a tie on priority (first wins).  Traefik v3.7's ``providers.precedence``
#: default starts with the Kubernetes providers, then swarm and docker; routekit continues with
#: its other providers, and a provider not listed loses to every listed one.
DEFAULT_PROVIDER_PRECEDENCE: Final = (
    "kubernetesgateway",
    "kubernetescrd",
    "kubernetes",
    "kubernetesingressnginx",
    "swarm",
    "docker",
    "consulcatalog",
    "consul",
    "etcd",
    "redis",
    "zookeeper",
    "file",
    "static",
)


def build(
    config: Configuration,
    *,
    previous: Runtime | None = None,
    entry_points: Iterable[str] | None = None,
    provider_precedence: Sequence[str] = DEFAULT_PROVIDER_PRECEDENCE,
    clock: Clock | None = None,
) -> Runtime:
    """Build the `Runtime` of *config*: what `Runtime.route` answers with.

    Args:
        config: the configuration; names may be qualified (``api@file``), as a `Watcher` does,
            in which case the part after ``@`` is the router's provider (for tie-breaking).
        previous: the runtime being replaced: balancers of unchanged services are kept as they
            are, changed ones are rebuilt keeping the state of the servers that stayed, and
            parsed rules are reused.
        entry_points: where routers without ``entryPoints`` go (Traefik's default entry points);
            ``("web",)`` when not given.
        provider_precedence: provider names, the one that wins a priority tie first.
        clock: the clock balancers read (passive health cool-downs); ``time.monotonic`` if None.

    Returns:
        The runtime; `Runtime.problems` lists every element left out, and why.
    """
    # No global side effects (the garbage collector is left alone).
    return prepare(
        config,
        previous=previous,
        entry_points=entry_points,
        provider_precedence=provider_precedence,
        clock=clock,
    ).finish()


def prepare(
    config: Configuration,
    *,
    previous: Runtime | None = None,
    entry_points: Iterable[str] | None = None,
    provider_precedence: Sequence[str] = DEFAULT_PROVIDER_PRECEDENCE,
    clock: Clock | None = None,
) -> Prepared:
    """Do the part of `build` that reads no balancer's state (arguments as for `build`).

    Safe to run on another thread while *previous* serves requests: *previous* is only read
    (its configuration, which balancer each service has, its parsed rules), and every object
    made is new.  Call `Prepared.finish` on the balancers' thread to get the `Runtime`.
    """
    report = Report(config)
    defaults = tuple(entry_points) if entry_points is not None else DEFAULT_ENTRY_POINTS
    services = ServiceBuilder(config, previous, clock, report)
    built = services.build_all()
    layers = _Layers(config, report, previous._layers if previous is not None else {})
    routers = _Routers(
        config, built, report, previous._rules if previous is not None else {}, layers
    )
    plain: dict[str, list[Route]] = {ep: [] for ep in defaults}
    secure: dict[str, list[Route]] = {}
    middlewares: dict[str, tuple[Middleware, ...]] = {}
    pending = {name for name, _, _ in services.pending}
    targets: dict[str, list[RouterTarget]] = {}
    for name, router in config.http.routers.items():
        route = routers.route(name, router)
        if route is None:
            continue
        middlewares[name] = route.target.middlewares
        if router.service in pending:
            targets.setdefault(router.service, []).append(route.target)
        tables = secure if router.tls is not None else plain
        for ep in dict.fromkeys(router.entry_points or defaults):
            tables.setdefault(ep, []).append(route)
    precedence = tuple(provider_precedence)
    tcp = build_tcp(
        config,
        report,
        defaults=defaults,
        precedence=precedence,
        previous_config=previous.config if previous is not None else None,
        previous_services=previous.tcp_services if previous is not None else {},
        old_rules=previous._rules if previous is not None else {},
        clock=clock,
    )
    return Prepared(
        config=config,
        tables={ep: RouteTable(rs, provider_precedence=precedence) for ep, rs in plain.items()},
        tls_tables={
            ep: RouteTable(rs, provider_precedence=precedence) for ep, rs in secure.items()
        },
        services=services,
        targets=targets,
        middlewares=middlewares,
        problems=tuple(report.problems),
        entry_points=defaults,
        rules={**routers.rules, **tcp.rules},
        tcp_tables=tcp.tables,
        tcp_services=tcp.services,
        layers=layers.built,
    )


@final
class Prepared:
    """A `Runtime` but for the services that take over old balancers; made by `prepare`."""

    def __init__(
        self,
        *,
        config: Configuration,
        tables: dict[str, RouteTable],
        tls_tables: dict[str, RouteTable],
        services: ServiceBuilder,
        targets: dict[str, list[RouterTarget]],
        middlewares: dict[str, tuple[Middleware, ...]],
        problems: tuple[Problem, ...],
        entry_points: tuple[str, ...],
        rules: dict[tuple[str, str], Rule],
        tcp_tables: Mapping[str, TCPRouteTable],
        tcp_services: Mapping[str, Balancer],
        layers: Mapping[tuple[str, Middleware], Layer | None],
    ) -> None:
        self.config = config
        self._layers = layers
        self._tcp_tables = tcp_tables
        self._tcp_services = tcp_services
        self._tables = tables
        self._tls_tables = tls_tables
        self._services = services
        self._targets = targets
        self._middlewares = middlewares
        self._problems = problems
        self._entry_points = entry_points
        self._rules = rules
        self._done: Runtime | None = None

    @property
    def problems(self) -> tuple[Problem, ...]:
        """What the runtime will report: what was left out, and why."""
        return self._problems

    def finish(self) -> Runtime:
        """Make the remaining services, keeping the state their old balancers have *now*, and
        return the `Runtime`.  Run it on the thread that owns the balancers; once only."""
        if self._done is not None:
            return self._done
        made = self._services.finish()
        for name, balancer in made.items():
            for target in self._targets.get(name, ()):
                # The targets are new and not yet published: they get their service here
                # rather than rebuilding the route tables that hold them.
                object.__setattr__(target, "service", balancer)
        built = self._services.built
        self._done = Runtime(
            config=self.config,
            tables=self._tables,
            tls_tables=self._tls_tables,
            services={n: b for n, b in built.items() if b is not None},
            middlewares=self._middlewares,
            problems=self._problems,
            entry_points=self._entry_points,
            rules=self._rules,
            children=self._services.children,
            tcp_tables=self._tcp_tables,
            tcp_services=self._tcp_services,
            layers=self._layers,
        )
        return self._done


class _Routers:
    """Makes the `Route` of each router, reusing the rules parsed by the previous build."""

    def __init__(
        self,
        config: Configuration,
        services: dict[str, Balancer],
        report: Report,
        old_rules: Mapping[tuple[str, str], Rule],
        layers: _Layers,
    ) -> None:
        self.config = config
        self.services = services
        self.report = report
        self.chains = _Chains(config, services, report, layers)
        self.old_rules = old_rules
        self.rules: dict[tuple[str, str], Rule] = {}

    def _rule(self, element: str, router: Router) -> Rule | None:
        syntax = router.rule_syntax or "auto"
        key = (router.rule, syntax)
        rule = self.rules.get(key) or self.old_rules.get(key)
        if rule is None:
            try:
                rule = parse_rule(router.rule, syntax=syntax)  # type: ignore[arg-type]
            except ValueError as exc:  # RuleSyntaxError, or a syntax name parse_rule refuses
                self.report.error(f"{element}.rule", *rule_error(exc))
                return None
        self.rules[key] = rule
        return rule

    def route(self, name: str, router: Router) -> Route | None:
        """The route of router *name*, or ``None`` (reported) when it cannot be built."""
        element = f"http.routers.{name}"
        rule = self._rule(element, router)
        if rule is None:
            return None
        balancer = self.services.get(router.service)
        if balancer is None:
            if not router.service:
                self.report.error(f"{element}.service", "no service given")
            else:
                known = self.config.http.services
                self.report.missing(f"{element}.service", router.service, known, "service")
            return None
        flat = self.chains.flatten(element, router.middlewares)
        if flat is None:
            return None
        chain = tuple(m for _, m in flat)
        # Decided here, once: the proxy reads it per request without looking the service up.
        definition = self.config.http.services.get(router.service)
        lb = definition.load_balancer if definition is not None else None
        passes = lb is None or lb.pass_host_header
        transports = server_transports(self.config, router.service, self.report)
        if transports is None:
            return None  # as Traefik: a service whose transport is unknown is not served
        mirroring = definition.mirroring if definition is not None else None
        target = RouterTarget(
            name,
            router.service,
            balancer,
            chain,
            passes,
            transports or NO_TRANSPORTS,
            mirroring,
            tuple(n for n, _ in flat),
            tuple(self.chains.layers.built[m] for m in flat),
        )
        # Qualified names carry their provider, the second key of the table's order.
        _, at, provider = name.rpartition("@")
        try:
            return Route(
                name, rule, target, router.priority or None, provider=provider if at else None
            )
        except ConfigError as exc:  # a priority out of range, in a configuration not validated
            self.report.error(f"{element}.priority", str(exc).removeprefix(f"route {name!r}: "))
            return None


_Flat = tuple[tuple[str, Middleware], ...]


class _Chains:
    """Resolves middleware names into flat tuples of middleware models, once per name."""

    def __init__(
        self, config: Configuration, services: dict[str, Balancer], report: Report, layers: _Layers
    ) -> None:
        self.config = config
        self.layers = layers
        self.defs = config.http.middlewares
        self.services = services
        self.report = report
        self.resolved: dict[str, _Flat | None] = {}
        self._visiting: list[str] = []

    def flatten(self, element: str, names: Sequence[str]) -> _Flat | None:
        """The flat chain of the middlewares *names* of *element* (a router or a chain), each
        with its name, or ``None`` (reported) if one of them is bad."""
        out: list[tuple[str, Middleware]] = []
        for ref in names:
            chain = self._resolve(ref)
            if chain is None:
                self.report.missing(f"{element}.middlewares", ref, self.defs, "middleware")
                return None
            out.extend(chain)
        return tuple(out)

    def _resolve(self, name: str) -> _Flat | None:
        if name in self.resolved:
            return self.resolved[name]
        element = f"http.middlewares.{name}"
        if name in self._visiting:
            loop = [*self._visiting[self._visiting.index(name) :], name]
            self.report.error(element, "loop: " + " → ".join(loop))
            self.resolved[name] = None
            return None
        middleware = self.defs.get(name)
        if middleware is None:
            return None
        result: _Flat | None = ((name, middleware),)
        if isinstance(middleware, Chain):
            # Traefik builds a chain as its members in order; flattening keeps that order.
            self._visiting.append(name)
            try:
                result = self.flatten(element, middleware.middlewares)
            finally:
                self._visiting.pop()
        elif isinstance(middleware, Errors) and middleware.service not in self.services:
            known = self.config.http.services
            self.report.missing(f"{element}.errors.service", middleware.service, known, "service")
            result = None
        elif not self.layers.build(name, middleware):
            result = None
        self.resolved.setdefault(name, result)
        return self.resolved[name]


# A problem's first word that names an option (``usersFile '/x': …``) locates it there.
_OPTION: Final = re.compile(r"([a-z][A-Za-z]*)\b")


def _snake(name: str) -> str:
    return re.sub(r"[A-Z]", lambda m: "_" + m[0].lower(), name)


class _Layers:
    """Builds the layer of each middleware the routers use, once per name and options, keeping
    the previous runtime's (and their state) for the ones that did not change."""

    def __init__(
        self,
        config: Configuration,
        report: Report,
        previous: Mapping[tuple[str, Middleware], Layer | None],
    ) -> None:
        self.config = config
        self.report = report
        self.previous = previous
        self.built: dict[tuple[str, Middleware], Layer | None] = {}

    def build(self, name: str, model: Middleware) -> bool:
        """Build middleware *name* (or reuse its layer): whether it can be used (reported if
        not, at the option its problem names when it names one)."""
        key = (name, model)
        if key in self.built or key in self.previous:
            self.built[key] = self.built.get(key, self.previous.get(key))
            return True
        from ..middleware import shared_layer  # the middlewares' room, once some are used

        try:
            self.built[key] = shared_layer(model)
        except ConfigError as exc:
            kind = model.type_key
            reason = str(exc).removeprefix(f"{kind}: ")
            found = _OPTION.match(reason)
            path = f"http.middlewares.{name}.{kind}"
            options = attrs.fields_dict(type(model)) if attrs.has(type(model)) else {}
            if found is not None and _snake(found[1]) in options:
                path += f".{found[1]}"
                reason = reason.removeprefix(f"{found[1]}: ")
            self.report.error(path, f"cannot be built: {reason}")
            return False
        except Exception as exc:  # a builder's bug: this middleware left out, not the reload
            path = f"http.middlewares.{name}.{model.type_key}"
            self.report.error(path, f"cannot be built: {type(exc).__name__}: {exc}")
            return False
        return True
