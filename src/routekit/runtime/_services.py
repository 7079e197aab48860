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
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from ..balance import (
    Balancer,
    ClientIPKey,
    ConsistentHash,
    Failover,
    LeastRequests,
    Mirror,
    PassiveHealth,
    PowerOfTwoChoices,
    Server,
    Sticky,
    WeightedRoundRobin,
)
from ..config import Configuration, LoadBalancer, Service
from ..config._validate import reference_hint, sticky_cookie
from ..errors import ConfigError, Problem

if TYPE_CHECKING:
    from ..balance import Clock
    from ._runtime import Runtime

__all__ = ["ServiceBuilder"]

_STRATEGIES: Final[dict[str, tuple[type[Any], dict[str, Any]]]] = {
    "wrr": (WeightedRoundRobin, {}),
    "p2c": (PowerOfTwoChoices, {}),
    "hrw": (ConsistentHash, {"key": ClientIPKey(), "algorithm": "rendezvous"}),
    "leasttime": (LeastRequests, {}),
}


class ServiceBuilder:
    """Builds every service of a configuration on demand, reporting what cannot be built."""

    def __init__(
        self,
        config: Configuration,
        previous: Runtime | None,
        clock: Clock | None,
        problems: list[Problem],
    ) -> None:
        self.config = config
        self.defs = config.http.services
        self.clock = clock
        self.problems = problems
        self.prev_services: Mapping[str, Balancer] = previous.services if previous else {}
        self.prev_defs: Mapping[str, Service] = (
            previous.config.http.services if previous is not None else {}
        )
        self.prev_children: Mapping[str, tuple[Balancer, ...]] = (
            previous._children if previous is not None else {}
        )
        self.built: dict[str, Balancer | None] = {}
        self.children: dict[str, tuple[Balancer, ...]] = {}
        self._visiting: list[str] = []

    def problem(self, path: str, message: str, hint: str | None = None) -> None:
        """Record an error for the element at *path*."""
        self.problems.append(Problem(path, message, self.config.source_of(path), hint))

    def build_all(self) -> dict[str, Balancer]:
        """Build every service; return those that could be built."""
        for name in self.defs:
            self.get(name)
        return {n: b for n, b in self.built.items() if b is not None}

    def get(self, name: str) -> Balancer | None:
        """The balancer of service *name*, building it (and its children) on first use."""
        if name in self.built:
            return self.built[name]
        if name in self._visiting:
            loop = [*self._visiting[self._visiting.index(name) :], name]
            self.problem(f"http.services.{name}", "loop: " + " → ".join(loop))
            return None
        service = self.defs.get(name)
        if service is None:
            return None
        self._visiting.append(name)
        try:
            balancer = self._make(name, service)
        finally:
            self._visiting.pop()
        self.built[name] = balancer
        return balancer

    def _child(self, parent: str, field: str, ref: str) -> Balancer | None:
        child = self.get(ref)
        if child is None and parent not in self.built:
            path = f"http.services.{parent}.{field}"
            if ref in self.defs:
                self.problem(path, f"uses the service {ref!r}, which is left out")
            else:
                hint = reference_hint(ref, self.defs, "service")
                self.problem(path, f"unknown service {ref!r}", hint)
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
        if (
            old is not None
            and self.prev_defs.get(name) == service
            and len(self.prev_children.get(name, ())) == len(children)
            and all(a is b for a, b in zip(self.prev_children.get(name, ()), children, strict=True))
        ):
            self.children[name] = children
            return old
        try:
            balancer = self._construct(name, service, children, old)
        except ConfigError as exc:
            self.problem(element, str(exc))
            return None
        self.children[name] = children
        return balancer

    def _construct(
        self, name: str, service: Service, children: tuple[Balancer, ...], old: Balancer | None
    ) -> Balancer:
        if service.load_balancer is not None:
            return self._load_balancer(name, service.load_balancer, old)
        if service.weighted is not None:
            w = service.weighted
            specs = [(c, float(s.weight)) for c, s in zip(children, w.services, strict=True)]
            group: Balancer = _group(WeightedRoundRobin, old, specs, name=name, clock=self.clock)
            return Sticky(group, sticky_cookie(w.sticky.cookie)) if w.sticky is not None else group
        if service.mirroring is not None:
            mirrors = [
                (c, float(m.percent))
                for c, m in zip(children[1:], service.mirroring.mirrors, strict=True)
            ]
            return Mirror(children[0], mirrors, name=name)
        if service.failover is not None:
            failover: Balancer = _group(Failover, old, children, name=name, clock=self.clock)
            return failover
        raise ConfigError("a service must be one of loadBalancer, weighted, mirroring, failover")

    def _load_balancer(self, name: str, lb: LoadBalancer, old: Balancer | None) -> Balancer:
        element = f"http.services.{name}"
        cls, options = _STRATEGIES.get(lb.strategy, (None, {}))
        if cls is None:
            self.problems.append(
                Problem(
                    f"{element}.loadBalancer.strategy",
                    f"unknown strategy {lb.strategy!r}; using wrr",
                    self.config.source_of(f"{element}.loadBalancer.strategy"),
                    severity="warning",
                )
            )
            cls, options = WeightedRoundRobin, {}
        specs: dict[str, tuple[Server, float]] = {}
        for i, server in enumerate(lb.servers):
            if server.url in specs:
                # A second server with the same URL would be the same backend twice.
                self.problems.append(
                    Problem(
                        f"{element}.loadBalancer.servers.{i}",
                        f"server {server.url!r} is listed twice; the first one is used",
                        self.config.source_of(f"{element}.loadBalancer.servers.{i}"),
                        severity="warning",
                    )
                )
                continue
            specs[server.url] = (Server(server.url), float(server.weight))
        phc = lb.passive_health_check
        passive = (
            PassiveHealth(max_failures=phc.max_failed_attempts, window=phc.failure_window)
            if phc is not None
            else None
        )
        group: Balancer = _group(
            cls, old, list(specs.values()), name=name, clock=self.clock, passive=passive, **options
        )
        return Sticky(group, sticky_cookie(lb.sticky.cookie)) if lb.sticky is not None else group


def _group(cls: Callable[..., Any], old: Balancer | None, children: Any, **options: Any) -> Any:
    """``cls(children, **options)``, or ``cls.rebuild(old, ...)`` when *old* is of the same kind."""
    inner = old.balancer if isinstance(old, Sticky) else old
    if inner is not None and type(inner) is cls:
        return cls.rebuild(inner, children, **options)  # type: ignore[attr-defined]
    if cls is Failover:
        main, fallback, *_ = children
        return Failover(main, fallback, **options)
    return cls(children, **options)
