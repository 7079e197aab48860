"""`table.explain(request)`: the answer to "why doesn't my route match?"."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, final

import attrs

from ..request import Request
from ..rules import (
    ClientIP,
    Header,
    HeaderRegexp,
    Host,
    HostRegexp,
    HostTemplate,
    Method,
    Node,
    Not,
    Query,
    QueryRegexp,
    QueryTemplate,
)
from ._route import Match, Route

__all__ = ["Explanation", "Verdict", "describe_failure", "explain"]

#: Targets can be large objects (a service with its balancer): their repr is cut to this length.
_MAX_TARGET: Final = 100


@final
@attrs.frozen
class Verdict:
    """One route's outcome for a request: matched or not and, if not, what failed.

    Attributes:
        route: the route.
        rank: its position in the table's order (0 is tried first).
        matched: whether its rule matches the request.
        failed: the leaf matchers that made it fail (empty when it matched).
        reasons: each failed matcher rendered with what the request had.
    """

    route: Route
    rank: int
    matched: bool
    failed: tuple[Node, ...] = ()
    reasons: tuple[str, ...] = ()


@final
@attrs.frozen
class Explanation:
    """The verdict of every route in match order, and the match the table returns."""

    request: Request
    verdicts: tuple[Verdict, ...]
    match: Match | None

    @property
    def winner(self) -> Route | None:
        """The route the request goes to, or None (Traefik answers 404)."""
        return self.match.route if self.match is not None else None

    def __str__(self) -> str:
        r = self.request
        query = f"?{r.query_string}" if r.query_string else ""
        lines = [f"request: {r.method} {r.scheme}://{r.raw_host}{r.raw_path}{query}"]
        if r.client_ip:
            lines[0] += f" from {r.client_ip}"
        winner = self.winner
        for v in self.verdicts:
            route = v.route
            provider = f", provider {route.provider}" if route.provider else ""
            head = (
                f"  {v.rank + 1}. {route.name} (priority {route.priority}{provider}): {route.rule}"
            )
            lines.append(head)
            if v.matched:
                if route is winner:
                    lines.append("       matched: WINNER")
                else:
                    lines.append(
                        f"       matched, but {winner.name if winner else '?'} comes first"
                    )
            else:
                lines.extend(f"       no: {reason}" for reason in v.reasons)
        if self.match is None:
            lines.append("no route matched (404)")
        else:
            params = f" with {dict(self.match.params)}" if self.match.params else ""
            target = repr(self.match.route.target)
            if len(target) > _MAX_TARGET:
                target = target[: _MAX_TARGET - 1] + "…"
            lines.append(f"winner: {self.match.route.name} → {target}{params}")
        return "\n".join(lines)


def explain(routes: Sequence[Route], request: Request, match: Match | None) -> Explanation:
    """Judge every route of *routes* (already in match order) against *request*."""
    verdicts = []
    for rank, route in enumerate(routes):
        failed = route.rule.explain(request)
        verdicts.append(
            Verdict(
                route=route,
                rank=rank,
                matched=not failed,
                failed=failed,
                reasons=tuple(describe_failure(node, request) for node in failed),
            )
        )
    return Explanation(request=request, verdicts=tuple(verdicts), match=match)


def describe_failure(node: Node, request: Request) -> str:
    """Render a failed leaf matcher with what the request had, e.g. host 'b.com'."""
    if isinstance(node, Not):
        return f"{node} did not match: {_subject(node.child, request)} matched {node.child}"
    return f"{node} did not match {_subject(node, request)}"


def _subject(node: Node, request: Request) -> str:
    """What the request had for the part of it that *node* looks at."""
    if isinstance(node, Host | HostRegexp | HostTemplate):
        return f"host {request.host!r}" if request.host else "an empty host"
    if isinstance(node, Method):
        return f"method {request.method!r}"
    if isinstance(node, Header | HeaderRegexp):
        values = request.headers.get_all(node.name)
        if not values:
            return f"a request without a {node.name} header"
        return f"header {node.name}: " + ", ".join(repr(v) for v in values)
    if isinstance(node, Query | QueryRegexp | QueryTemplate):
        qvalues = request.query.get(node.key)
        if qvalues is None:
            return f"a request without query parameter {node.key!r}"
        return f"query {node.key}=" + ", ".join(repr(v) for v in qvalues)
    if isinstance(node, ClientIP):
        return f"client IP {request.client_ip!r}" if request.client_ip else "an unknown client IP"
    # Every other HTTP matcher (Path*, PathPrefix*, PathRegexp, v1 strip matchers) reads the path.
    return f"path {request.path!r}" if request.path else "an empty path"
