"""`RouteTable`: routes in a documented total order, matched through an index."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, final

from ..errors import ConfigError, Problem
from ..request import Request
from ._index import RouteIndex, may_have_params
from ._route import Match, Route

if TYPE_CHECKING:
    from ._explain import Explanation
    from ._lint import Shadowing

__all__ = ["RouteTable", "order_key"]

_NO_PARAMS: Final[Mapping[str, str]] = MappingProxyType({})


def order_key(route: Route, precedence: Mapping[str, int]) -> tuple[int, int, str]:
    """The sort key of *route*: priority descending, provider precedence, name ascending.

    Traefik sorts on priority only (`v3.0:pkg/muxer/http/mux.go`, an unstable `sort.Sort`), so
    equal priorities come out in map order; v3.7 adds ``providers.precedence`` as a second key.
    routekit completes it into a total order: a provider listed earlier wins, a provider not listed
    loses to every listed one, a route without a provider comes last, then names ascending.
    """
    provider = route.provider
    last = len(precedence)
    rank = last + 1 if provider is None else precedence.get(provider, last)
    return (-route.priority, rank, route.name)


@final
class RouteTable:
    """An immutable set of routes, matched in priority order through a host/path index.

    Args:
        routes: the routes, in any order; names must be unique.
        provider_precedence: provider names, the one that wins ties first.

    Raises:
        ConfigError: a route name appears twice, or an item is not a :class:`Route`.
    """

    __slots__ = ("_fixed", "_index", "_routes", "provider_precedence")

    def __init__(self, routes: Iterable[Route], *, provider_precedence: Sequence[str] = ()) -> None:
        routes = list(routes)
        problems = [
            Problem(f"routes[{i}]", f"expected a Route, got {type(r).__name__}")
            for i, r in enumerate(routes)
            if not isinstance(r, Route)
        ]
        counts = Counter(r.name for r in routes if isinstance(r, Route))
        problems += [
            Problem(f"routes.{name}", f"the route name {name!r} is used {n} times")
            for name, n in sorted(counts.items())
            if n > 1
        ]
        if isinstance(provider_precedence, str):
            problems.append(
                Problem("provider_precedence", "expected a sequence of provider names, got a str")
            )
        if problems:
            raise ConfigError(problems)
        self.provider_precedence: tuple[str, ...] = tuple(provider_precedence)
        precedence: dict[str, int] = {}
        for i, provider in enumerate(self.provider_precedence):
            precedence.setdefault(provider, i)
        self._routes: tuple[Route, ...] = tuple(
            sorted(routes, key=lambda r: order_key(r, precedence))
        )
        self._index = RouteIndex([r.rule.expr for r in self._routes])
        # A rule without templates always has empty params: its Match is built once.
        self._fixed: tuple[Match | None, ...] = tuple(
            None if may_have_params(r.rule.expr) else Match(r, _NO_PARAMS) for r in self._routes
        )

    @property
    def routes(self) -> tuple[Route, ...]:
        """The routes in match order: the first one that matches a request wins."""
        return self._routes

    def match(self, request: Request) -> Match | None:
        """The highest-ranked route whose rule matches *request*, with its params; else None."""
        rank = self._index.find(request)
        if rank < 0:
            return None
        fixed = self._fixed[rank]
        if fixed is not None:
            return fixed
        route = self._routes[rank]
        return Match(route, route.rule.params(request) or _NO_PARAMS)

    def match_linear(self, request: Request) -> Match | None:
        """Same answer as :meth:`match`, by trying every route in order (the reference)."""
        for route in self._routes:
            params = route.rule.params(request)  # None: no match
            if params is not None:
                return Match(route, params or _NO_PARAMS)
        return None

    def explain(self, request: Request) -> Explanation:
        """Why each route matches *request* or not, in match order, and which one wins."""
        from ._explain import explain

        return explain(self._routes, request, self.match(request))

    def shadowed(self) -> list[Shadowing]:
        """Routes that can never win: a higher-ranked route matches every request they match."""
        from ._lint import shadowed

        return shadowed(self._routes, self._index)

    def __len__(self) -> int:
        return len(self._routes)

    def __iter__(self) -> Iterator[Route]:
        return iter(self._routes)

    def __contains__(self, item: object) -> bool:
        return item in self._routes

    def __repr__(self) -> str:
        names = ", ".join(r.name for r in self._routes[:5])
        more = f", … {len(self._routes) - 5} more" if len(self._routes) > 5 else ""
        return f"<RouteTable of {len(self._routes)} routes: {names}{more}>"
