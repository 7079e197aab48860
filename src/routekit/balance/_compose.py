"""Balancers over other services: `Failover` (main, else fallback) and `Mirror` (copy traffic)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Self, final

from ..errors import ConfigError, NoServerAvailable
from ._group import ChildSpec, Clock, Group, PassiveHealth, _Member
from ._node import (
    Balancer,
    BalancerStats,
    Child,
    ChildStats,
    Lease,
    Server,
    as_child,
)

if TYPE_CHECKING:
    from ..request import Request

__all__ = ["Failover", "Mirror"]


@final
class Failover(Group):
    """Send everything to *main* while it is up, else to *fallback* (Traefik ``failover``).

    More fallbacks can be appended with `add`; the first child that is up, in insertion order,
    takes the request.  Children are usually balancers, whose health propagates up to here.
    """

    kind = "failover"
    weighted = False

    def __init__(
        self,
        main: Server | str | Balancer,
        fallback: Server | str | Balancer,
        *,
        name: str | None = None,
        clock: Clock | None = None,
        passive: PassiveHealth | None = None,
    ) -> None:
        super().__init__([main, fallback], name=name, clock=clock, passive=passive)

    @classmethod
    def _from_children(cls, children: Iterable[ChildSpec], **options: Any) -> Self:
        specs = list(children)
        if len(specs) < 2:
            raise ConfigError(f"Failover needs a main and a fallback, got {specs!r}")
        main, fallback, *more = specs
        new = cls(main, fallback, **options)  # type: ignore[arg-type]
        for spec in more:
            new.add(spec)  # type: ignore[arg-type]
        return new

    def _first(self) -> _Member | None:
        for m in self._members.values():
            if m.active:
                return m
        return None

    def _choose(self, request: Request | None) -> _Member:
        m = self._first()
        if m is None:
            raise self._unavailable()
        return m

    def _preview(self) -> str:
        m = self._first()
        return m.key if m is not None else "none"


class _MirrorTarget:
    __slots__ = ("child", "count", "percent")

    def __init__(self, child: Child, percent: float) -> None:
        self.child = child
        self.percent = percent
        self.count = 0


@final
class Mirror(Balancer):
    """Send each request to *main* and copy a percentage of them to mirrors (Traefik ``mirroring``).

    `acquire` returns the main lease; ``lease.mirrors`` holds one lease per mirror to copy the
    request to (their answers are to be discarded).  Like Traefik, the choice is deterministic: a
    mirror with ``percent=10`` gets the 1st, 11th, 21st… request, exactly 10 % of them.  A mirror
    with nothing available is skipped; it never affects the main request.  The mirror is up when
    its main service is.  ``pick`` returns the main server only and copies nothing.
    """

    kind = "mirror"

    def __init__(
        self,
        main: Server | str | Balancer,
        mirrors: Iterable[tuple[Server | str | Balancer, float]] = (),
        *,
        name: str | None = None,
    ) -> None:
        mirrors = list(mirrors)  # read once: an unnamed mirror's name derives from them
        super().__init__(name, children=[main, *mirrors])
        where = f"Mirror {self.name!r}"
        self._main: Child = as_child(main, where)
        self._targets: list[_MirrorTarget] = []
        self._total = 0
        for spec in mirrors:
            if not (isinstance(spec, tuple) and len(spec) == 2):
                raise ConfigError(
                    f"{where}: a mirror must be given as (child, percent), got {spec!r}"
                )
            child, percent = spec
            if (
                isinstance(percent, bool)
                or not isinstance(percent, int | float)
                or not (math.isfinite(percent) and 0 <= percent <= 100)
            ):
                raise ConfigError(
                    f"{where}: mirror percent must be between 0 and 100, got {percent!r}"
                )
            self._targets.append(_MirrorTarget(as_child(child, where), float(percent)))
        for node in self._child_nodes():
            if node._contains_node(self):
                raise ConfigError(f"{where}: {node.name!r} would make a cycle")
        if isinstance(self._main, Balancer):
            # Status is transparent through a mirror: the main service's flips are ours.
            self._main.add_status_listener(self._notify)

    @property
    def main(self) -> Child:
        """The service that answers the requests."""
        return self._main

    @property
    def up(self) -> bool:
        """Whether the main service is up."""
        return self._main.up if isinstance(self._main, Balancer) else True

    def _select(self, request: Request | None, lease: Lease | None) -> Server:
        main = self._main
        server = main._select(request, lease) if isinstance(main, Balancer) else main
        if lease is not None and self._targets:
            self._total += 1
            for t in self._targets:
                # Traefik: mirror when count * 100 < total * percent, so the share is exact.
                if t.count * 100 < self._total * t.percent:
                    t.count += 1
                    copy = self._mirror_lease(t.child, request)
                    if copy is not None:
                        lease._mirrors.append(copy)
        return server

    @staticmethod
    def _mirror_lease(child: Child, request: Request | None) -> Lease | None:
        if isinstance(child, Server):
            lease = Lease()
            lease._server = child
            return lease
        try:
            return child.acquire(request)
        except NoServerAvailable:
            return None

    def _child_nodes(self) -> Iterator[Balancer]:
        for child in (self._main, *(t.child for t in self._targets)):
            if isinstance(child, Balancer):
                yield child

    def statistics(self) -> BalancerStats:
        """The main service (weight 100) and each mirror (weight = percent, picks = copies)."""

        def state(child: Child) -> str:
            return "up" if not isinstance(child, Balancer) or child.up else "down"

        main = ChildStats(name=self._main.name, weight=100.0, state=state(self._main))
        mirrors = tuple(
            ChildStats(name=t.child.name, weight=t.percent, state=state(t.child), picks=t.count)
            for t in self._targets
        )
        return BalancerStats(name=self.name, kind="Mirror", up=self.up, children=(main, *mirrors))

    def __repr__(self) -> str:
        def show(child: Child, extra: str = "") -> str:
            down = isinstance(child, Balancer) and not child.up
            return child.name + extra + (" down" if down else "")

        copies = ", ".join(show(t.child, f"={t.percent:g}%") for t in self._targets)
        return f"<Mirror {self.name!r} [main: {show(self._main)} | mirrors: {copies or 'none'}]>"
