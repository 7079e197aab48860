"""`RouteTable`: routes in a documented total order, matched through an index."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, final

from ..errors import ConfigError, Problem
from ..request import Request
from ..rules import (
    ALPN,
    And,
    ClientIP,
    HostSNI,
    HostSNIRegexp,
    HostSNITemplate,
    Node,
    Not,
    Or,
    TCPConnection,
)
from ._index import RouteIndex, may_have_params
from ._route import Match, Route

if TYPE_CHECKING:
    from ._explain import Explanation
    from ._lint import Shadowing

__all__ = ["RouteTable", "TCPRouteTable", "order_key"]

_NO_PARAMS: Final[Mapping[str, str]] = MappingProxyType({})
_CATCH_ALL: Final = HostSNI("*")


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


class _Table:
    """What the HTTP and the TCP route tables share: validation, the total order, the index."""

    __slots__ = ("_fixed", "_index", "_routes", "provider_precedence")

    #: Whether the table holds TCP routes (whose rules read a `TCPConnection`).
    _tcp = False
    _protocol = "an HTTP"

    def __init__(self, routes: Iterable[Route], *, provider_precedence: Sequence[str] = ()) -> None:
        routes = list(routes)
        problems = [
            Problem(f"routes[{i}]", f"expected a Route, got {type(r).__name__}")
            for i, r in enumerate(routes)
            if not isinstance(r, Route)
        ]
        problems += [
            Problem(
                f"routes.{r.name}",
                f"{type(node).__name__} cannot be used in {self._protocol} route",
            )
            for r in routes
            if isinstance(r, Route)
            for node in _foreign(r.rule.expr, tcp=self._tcp)
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
        """The routes in match order: the first one that matches wins."""
        return self._routes

    def _answer(self, rank: int, subject: Request | TCPConnection) -> Match | None:
        if rank < 0:
            return None
        fixed = self._fixed[rank]
        if fixed is not None:
            return fixed
        route = self._routes[rank]
        return Match(route, route.rule.params(subject) or _NO_PARAMS)

    def match_linear(self, subject: Request | TCPConnection) -> Match | None:
        """Same answer as ``match``, by trying every route in order (the reference)."""
        for route in self._routes:
            params = route.rule.params(subject)  # None: no match
            if params is not None:
                return Match(route, params or _NO_PARAMS)
        return None

    def __len__(self) -> int:
        return len(self._routes)

    def __iter__(self) -> Iterator[Route]:
        return iter(self._routes)

    def __contains__(self, item: object) -> bool:
        return item in self._routes

    def __repr__(self) -> str:
        names = ", ".join(r.name for r in self._routes[:5])
        more = f", … {len(self._routes) - 5} more" if len(self._routes) > 5 else ""
        return f"<{type(self).__name__} of {len(self._routes)} routes: {names}{more}>"


_TCP_ONLY: Final = (HostSNI, HostSNIRegexp, HostSNITemplate, ALPN)


def _foreign(expr: Node, *, tcp: bool) -> list[Node]:
    """The leaves of *expr* that read what the table's subject does not have."""
    if isinstance(expr, And | Or):
        return [n for child in expr.children for n in _foreign(child, tcp=tcp)]
    if isinstance(expr, Not):
        return _foreign(expr.child, tcp=tcp)
    if isinstance(expr, ClientIP):
        return []  # both protocols know the peer address
    return [] if isinstance(expr, _TCP_ONLY) == tcp else [expr]


@final
class RouteTable(_Table):
    """An immutable set of HTTP routes, matched in priority order through a host/path index.

    Args:
        routes: the routes, in any order; names must be unique.
        provider_precedence: provider names, the one that wins ties first.

    Raises:
        ConfigError: a route name appears twice, an item is not a :class:`Route`, or a rule
            uses a TCP matcher (``HostSNI``, ``ALPN``…).
    """

    __slots__ = ()

    def match(self, request: Request) -> Match | None:
        """The highest-ranked route whose rule matches *request*, with its params; else None."""
        return self._answer(self._index.find(request), request)

    def explain(self, request: Request) -> Explanation:
        """Why each route matches *request* or not, in match order, and which one wins."""
        from ._explain import explain

        return explain(self._routes, request, self.match(request))

    def shadowed(self) -> list[Shadowing]:
        """Routes that can never win: a higher-ranked route matches every request they match."""
        from ._lint import shadowed

        return shadowed(self._routes, self._index)


@final
class TCPRouteTable(_Table):
    """An immutable set of TCP routes, matched in Traefik's TCP router order.

    Traefik's TCP muxer (``pkg/muxer/tcp/mux.go``) tries routes by priority, highest first,
    like the HTTP one: the default priority is the rule's length, ``HostSNI(`*`)`` alone gets
    −1 so that the catch-all comes last, and ties follow ``providers.precedence``.  Exact and
    ``*.x`` server names are indexed; ``ClientIP``, ``ALPN`` and regexps are checked in order.

    Args:
        routes: routes whose rules come from `~routekit.rules.parse_tcp_rule`.
        provider_precedence: provider names, the one that wins ties first.

    Raises:
        ConfigError: a route name appears twice, an item is not a :class:`Route`, or a rule
            uses an HTTP matcher (``Host``, ``Path``…).
    """

    __slots__ = ()
    _tcp = True
    _protocol = "a TCP"

    def match(self, connection: TCPConnection) -> Match | None:
        """The highest-ranked route whose rule matches *connection*; else None."""
        return self._answer(self._index.find_at(connection, connection.sni, ""), connection)

    def catch_all(self, match: Match) -> bool:
        """Whether *match* came from a rule that is exactly ``HostSNI(`*`)``.

        Traefik's TCP muxer reports this so that a non-TLS connection on an entry point with
        HTTP routers goes to a catch-all TCP route only when no HTTP route can take it.
        """
        return match.route.rule.expr == _CATCH_ALL
