"""Service balancer trees from the configuration model, carrying state over from the last build.

Each service becomes one balancer, built once and shared by every router and parent service that
names it (Traefik's service manager also builds each service once per configuration):

- ``loadBalancer`` → a balancer of its servers chosen by ``strategy``: ``wrr`` →
  `WeightedRoundRobin`, ``p2c`` → `PowerOfTwoChoices`, ``hrw`` → `ConsistentHash` of the client IP
  (rendezvous), ``leasttime`` → `LeastRequests` (the in-flight part of Traefik's score: routekit
  measures no response times); ``passiveHealthCheck`` → `PassiveHealth`; ``sticky`` → `Sticky`.
- ``weighted`` → `WeightedRoundRobin` of the child services (``sticky`` → `Sticky`).
- ``mirroring`` → `Mirror`; ``failover`` → `Failover`.

A service whose definition *and* children are the same as in the previous build keeps its very
balancer object (nothing lost, nothing rebuilt); one that changed is made with the balancer's
``rebuild(old, children)``, so servers that stayed keep their position, health and in-flight counts.

Balancers are live objects of the event loop's thread, so building runs in two steps: `build_all`
reads no balancer's state and makes only new objects (it may run on another thread); a service
that takes over an old balancer's state or has child balancers is then only tried over
stand-ins, and `finish` (on the balancers' thread) makes it for good, children first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar

from ..balance import (
    Balancer,
    BalancerStats,
    ClientIPKey,
    ConsistentHash,
    Failover,
    Group,
    LeastRequests,
    Mirror,
    PassiveHealth,
    PowerOfTwoChoices,
    Server,
    Sticky,
    StickyCookie,
    WeightedRoundRobin,
)
from ..config import (
    MAX_WEIGHT,
    Configuration,
    Cookie,
    LoadBalancer,
    ServersTransport,
    Service,
    reference_hint,
)
from ..errors import ConfigError, NoServerAvailable, Problem

if TYPE_CHECKING:
    from ..balance import ChildSpec, Clock, Lease
    from ..request import Request
    from ._runtime import Runtime

__all__ = ["Report", "ServiceBuilder"]

_STRATEGIES: Final[dict[str, tuple[type[Group], dict[str, Any]]]] = {
    "wrr": (WeightedRoundRobin, {}),
    "p2c": (PowerOfTwoChoices, {}),
    "hrw": (ConsistentHash, {"key": ClientIPKey(), "algorithm": "rendezvous"}),
    "leasttime": (LeastRequests, {}),
}


class Report:
    """The problems of one build, each with the source of its path in the configuration."""

    def __init__(self, config: Configuration) -> None:
        self.config = config
        self.problems: list[Problem] = []

    def error(self, path: str, message: str, hint: str | None = None) -> None:
        """Record that the element at *path* is left out, and why."""
        self.problems.append(Problem(path, message, self.config.source_of(path), hint))

    def warn(self, path: str, message: str) -> None:
        """Record something at *path* that applies anyway, but not as written."""
        source = self.config.source_of(path)
        self.problems.append(Problem(path, message, source, severity="warning"))

    def missing(self, path: str, ref: str, known: Mapping[str, object], what: str) -> None:
        """Record that *path* names the *what* *ref*, which is not among *known* or not built."""
        if ref in known:
            self.error(path, f"uses the {what} {ref!r}, which is left out")
        else:
            self.error(path, f"unknown {what} {ref!r}", reference_hint(ref, known, what))


class ServiceBuilder:
    """Builds every service of a configuration on demand, reporting what cannot be built."""

    def __init__(
        self, config: Configuration, previous: Runtime | None, clock: Clock | None, report: Report
    ) -> None:
        self.config = config
        self.defs = config.http.services
        self.clock = clock
        self.report = report
        self.prev_services: Mapping[str, Balancer] = previous.services if previous else {}
        self.prev_defs: Mapping[str, Service] = (
            previous.config.http.services if previous is not None else {}
        )
        self.prev_children: Mapping[str, tuple[Balancer, ...]] = (
            previous._children if previous is not None else {}
        )
        self.built: dict[str, Balancer | None] = {}
        self.children: dict[str, tuple[Balancer, ...]] = {}
        # Services `finish` makes for good, children before parents: (name, definition, refs).
        self.pending: list[tuple[str, Service, tuple[str, ...]]] = []
        self._visiting: list[str] = []

    def build_all(self) -> dict[str, Balancer]:
        """Build every service; return those that could be built."""
        for name in self.defs:
            self.get(name)
        return {n: b for n, b in self.built.items() if b is not None}

    def get(self, name: str) -> Balancer | None:
        """The balancer of service *name*, building it (and its children) on first use."""
        return build_once(name, self.defs, self.built, self._visiting, self._make, self.report)

    def _child(self, parent: str, field: str, ref: str) -> Balancer | None:
        child = self.get(ref)
        if child is None and parent not in self.built:
            self.report.missing(f"http.services.{parent}.{field}", ref, self.defs, "service")
        return child

    def _make(self, name: str, service: Service) -> Balancer | None:
        element = f"http.services.{name}"
        refs: list[tuple[str, str]] = []
        if service.weighted is not None:
            refs = [
                (f"weighted.services.{i}.name", s.name)
                for i, s in enumerate(service.weighted.services)
            ]
        elif service.mirroring is not None:
            m = service.mirroring
            refs = [("mirroring.service", m.service)]
            refs += [(f"mirroring.mirrors.{i}.name", x.name) for i, x in enumerate(m.mirrors)]
        elif service.failover is not None:
            refs = [("failover.service", service.failover.service)]
            refs.append(("failover.fallback", service.failover.fallback))
        found = [self._child(name, field, ref) for field, ref in refs]
        if any(c is None for c in found):
            return None
        children = tuple(c for c in found if c is not None)
        old = self.prev_services.get(name)
        old_children = self.prev_children.get(name, ())
        if (
            old is not None
            and self.prev_defs.get(name) == service
            and len(old_children) == len(children)
            and all(a is b for a, b in zip(old_children, children, strict=True))
        ):
            self.children[name] = children
            return old
        try:
            if old is None and service.load_balancer is not None:
                # Servers only and no state to take over: made for good here.
                balancer = self._construct(name, service, children, None)
            else:
                # A trial over stand-ins reports what would fail, touching no live balancer.
                stand_ins = tuple(_StandIn(child.name) for child in children)
                balancer = self._construct(name, service, stand_ins, None)
                self.pending.append((name, service, tuple(ref for _, ref in refs)))
        except ConfigError as exc:
            self.report.error(element, str(exc))
            return None
        self.children[name] = children
        return balancer

    def finish(self) -> dict[str, Balancer]:
        """Make the pending services for good, taking over their old balancers' state; run it
        on the thread that owns the balancers.  Returns name → balancer of those made."""
        made: dict[str, Balancer] = {}
        # The trial build reported their problems already.
        report, self.report = self.report, Report(self.config)
        try:
            for name, service, refs in self.pending:
                built = (self.built[ref] for ref in refs)
                children = tuple(child for child in built if child is not None)
                old = self.prev_services.get(name)
                made[name] = self.built[name] = self._construct(name, service, children, old)
                self.children[name] = children
        finally:
            self.report = report
        self.pending = []
        return made

    def _construct(
        self, name: str, service: Service, children: tuple[Balancer, ...], old: Balancer | None
    ) -> Balancer:
        if service.load_balancer is not None:
            return self._load_balancer(name, service.load_balancer, old)
        if service.weighted is not None:
            w = service.weighted
            specs = [(c, _weight(s.weight)) for c, s in zip(children, w.services, strict=True)]
            group = _group(WeightedRoundRobin, old, specs, name=name, clock=self.clock)
            return Sticky(group, sticky_cookie(w.sticky.cookie)) if w.sticky is not None else group
        if service.mirroring is not None:
            mirrors = [
                (c, float(m.percent))
                for c, m in zip(children[1:], service.mirroring.mirrors, strict=True)
            ]
            return Mirror(children[0], mirrors, name=name)
        if service.failover is not None:
            return _group(Failover, old, children, name=name, clock=self.clock)
        raise ConfigError("a service must be one of loadBalancer, weighted, mirroring, failover")

    def _load_balancer(self, name: str, lb: LoadBalancer, old: Balancer | None) -> Balancer:
        element = f"http.services.{name}.loadBalancer"
        cls, options = _STRATEGIES.get(lb.strategy, (None, {}))
        if cls is None:
            self.report.warn(f"{element}.strategy", f"unknown strategy {lb.strategy!r}; using wrr")
            cls, options = WeightedRoundRobin, {}
        specs: dict[str, tuple[Server, float]] = {}
        for i, server in enumerate(lb.servers):
            if server.url in specs:
                # A second server with the same URL would be the same backend twice.
                message = f"server {server.url!r} is listed twice; the first one is used"
                self.report.warn(f"{element}.servers.{i}", message)
                continue
            specs[server.url] = (Server(server.url), _weight(server.weight))
        phc = lb.passive_health_check
        passive = (
            PassiveHealth(max_failures=phc.max_failed_attempts, window=phc.failure_window)
            if phc is not None
            else None
        )
        group = _group(
            cls, old, list(specs.values()), name=name, clock=self.clock, passive=passive, **options
        )
        return Sticky(group, sticky_cookie(lb.sticky.cookie)) if lb.sticky is not None else group


_D = TypeVar("_D")


def build_once(  # noqa: PLR0917 - the state of one builder, passed through
    name: str,
    defs: Mapping[str, _D],
    built: dict[str, Balancer | None],
    visiting: list[str],
    make: Callable[[str, _D], Balancer | None],
    report: Report,
    section: str = "http.services",
) -> Balancer | None:
    """The balancer of service *name* of *defs*, made by *make* on first use and remembered in
    *built*; a service met again while its children are being made is a loop, reported."""
    if name in built:
        return built[name]
    if name in visiting:
        loop = [*visiting[visiting.index(name) :], name]
        report.error(f"{section}.{name}", "loop: " + " → ".join(loop))
        return None
    service = defs.get(name)
    if service is None:
        return None
    visiting.append(name)
    try:
        balancer = make(name, service)
    finally:
        visiting.pop()
    built[name] = balancer
    return balancer


def _weight(value: int) -> float:
    # What validation says, for a configuration built without it.
    if not 0 <= value <= MAX_WEIGHT:
        raise ConfigError(f"weight {value} is out of range (0 to {MAX_WEIGHT})")
    return float(value)


class _StandIn(Balancer):
    """A child balancer's name and nothing else, for a trial build that must not touch it."""

    kind = "stand-in"

    @property
    def up(self) -> bool:
        """Always up: a trial build never routes."""
        return True

    def _select(self, request: Request | None, lease: Lease | None) -> Server:
        raise NoServerAvailable(f"{self.name!r} is a stand-in of a build not finished")

    def statistics(self) -> BalancerStats:
        """No children."""
        return BalancerStats(self.name, self.kind, up=True, children=())


def _group(
    cls: type[Group], old: Balancer | None, children: Sequence[ChildSpec], **options: Any
) -> Group:
    """A *cls* balancer over *children*: ``cls.rebuild(old, ...)`` when *old* is one (maybe
    wrapped in `Sticky`), so that the children that stayed keep their state; else a new one."""
    inner = old.balancer if isinstance(old, Sticky) else old
    if inner is not None and type(inner) is cls:
        return cls.rebuild(inner, children, **options)
    # The children-list form of the constructor, which `rebuild` uses too (`Failover` takes its
    # main and fallback as two arguments).
    return cls._from_children(children, **options)


def sticky_cookie(cookie: Cookie | None) -> StickyCookie:
    """The balancer's `StickyCookie` for a configured ``sticky.cookie`` (defaults when absent).

    Validation has checked the attributes with the same rules (``routekit._cookies``).
    """
    c = cookie if cookie is not None else Cookie()
    return StickyCookie(
        name=c.name or None,
        secure=c.secure,
        http_only=c.http_only,
        same_site=c.same_site or None,
        max_age=c.max_age,
        path=c.path,
        domain=c.domain or None,
    )


def server_transports(
    config: Configuration, name: str, report: Report
) -> dict[str, ServersTransport] | None:
    """Server URL → ``serversTransport`` for every load balancer under service *name* (through
    weighted, mirroring and failover services); ``None`` when one names a transport that does
    not exist (reported)."""
    services, known = config.http.services, config.http.servers_transports
    out: dict[str, ServersTransport] = {}
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        service = services.get(current)
        if current in seen or service is None:
            continue
        seen.add(current)
        if service.load_balancer is not None:
            wanted = service.load_balancer.servers_transport
            if not wanted:
                continue
            transport = known.get(wanted)
            if transport is None:
                where = f"http.services.{current}.loadBalancer.serversTransport"
                report.missing(where, wanted, known, "servers transport")
                return None
            for server in service.load_balancer.servers:
                out.setdefault(server.url, transport)
        elif service.weighted is not None:
            todo.extend(child.name for child in service.weighted.services)
        elif service.mirroring is not None:
            todo.append(service.mirroring.service)
            todo.extend(mirror.name for mirror in service.mirroring.mirrors)
        elif service.failover is not None:
            todo.extend((service.failover.service, service.failover.fallback))
    return out
