"""`table.shadowed()`: routes that can never win, decided where that is decidable.

A route B is shadowed by a route A ranked before it when every request B's rule matches is also
matched by A's rule.  Proving that for arbitrary rules (regexps, negations) is out of reach; what
is proved here is a sound implication between rule trees:

- equal nodes imply each other; a v1 modifier (always matches) and ``Host(`*`)`` are implied
  by anything; an exact ``Host(`y.x.com`)`` implies ``Host(`*.x.com`)``;
- ``Path(q)`` and ``PathPrefix(q)`` imply ``PathPrefix(p)`` when *q* starts with *p* (Traefik's
  ``PathPrefix`` is a raw string prefix, so ``/api`` covers ``/apiary``);
- ``And``/``Or`` are decomposed: B implies ``And(a…)`` if it implies each child; ``Or(b…)``
  implies A if each child does; ``And(b…)`` implies A if one child does; B implies ``Or(a…)``
  if it implies one child.

Never a false positive: when the implication cannot be shown, the route is not reported.  The
candidates for A are taken from the table's index (routes whose keys a request of B falls under;
for a B without any key, only the routes without a key) and narrowed to those whose required
leaf, if any, occurs in B, so that `implies` runs on few pairs; collecting the candidates still
costs the size of the buckets B falls under (many routes on one host and path make that
quadratic, with a small constant).  Identical rules are found through a dict, whatever their
shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, final

import attrs

from ..request import Request
from ..rules import And, Host, Node, Not, Or, Path, PathPrefix, Rule
from ._index import ANY, Entry, Key, RouteIndex, analyse
from ._route import Route

__all__ = ["Shadowing", "implies", "shadowed"]


@final
@attrs.frozen
class Shadowing:
    """``route`` can never win because ``by``, ranked before it, matches all its requests."""

    route: Route
    by: Route
    reason: str

    def __str__(self) -> str:
        return f"route {self.route.name!r} can never win: {self.reason}"


def shadowed(routes: Sequence[Route], index: RouteIndex) -> list[Shadowing]:
    """Every route of *routes* (in match order) that a higher-ranked route shadows."""
    unkeyed = [*index.residual, *index.host_residual]
    # Routes without a key can cover a route only through the unindexable parts they share with
    # it (the implication works on equal nodes); a route made of Host/Path/PathPrefix only can
    # be covered by one of them only if it has no checks at all (a rule of v1 modifiers only).
    all_unkeyed = {rank for rank, _ in unkeyed}
    match_all = {rank for rank, checks in unkeyed if all(c == _ANY_HOST for c in checks)}
    # A route whose rule needs a leaf (see `_required_leaf`) can only cover rules containing it:
    # candidates are narrowed by that leaf before `implies` runs, so that many routes sharing a
    # host (or many unkeyed routes) are not compared pairwise.
    required = [_required_leaf(route.rule.expr) for route in routes]
    found: list[Shadowing] = []
    first_with_rule: dict[Rule, int] = {}
    for rank, route in enumerate(routes):
        twin = first_with_rule.setdefault(route.rule, rank)
        if twin < rank:
            found.append(Shadowing(route, routes[twin], _reason(route, routes[twin])))
            continue
        expr = route.rule.expr
        entries = analyse(expr)
        candidates: set[int] = set()
        for key, _ in entries:
            for bucket in _keyed_buckets(key, index):
                candidates.update(r for r, _ in bucket)
        pure = all(not checks and key != ANY for key, checks in entries)
        candidates |= match_all if pure else all_unkeyed
        nodes = _nodes(expr)
        plausible = sorted(
            other
            for other in candidates
            if other < rank and (required[other] is None or required[other] in nodes)
        )
        for other in plausible:
            by = routes[other]
            if implies(expr, by.rule.expr):
                found.append(Shadowing(route, by, _reason(route, by)))
                break
    return found


def _reason(route: Route, by: Route) -> str:
    if route.rule == by.rule:
        what = f"{by.name!r} has the same rule"
    else:
        what = f"{by.name!r} ({by.rule}) matches every request it matches"
    if by.priority > route.priority:
        order = f"priority {by.priority} > {route.priority}"
    else:
        order = f"same priority {by.priority}, {by.name!r} is ordered first"
    return f"{what}, and is tried first ({order})"


def _keyed_buckets(key: Key, index: RouteIndex) -> list[list[Entry]]:
    """The keyed buckets holding every keyed route that may cover a route with this key.

    A request with the key's host (or a host under the wildcard) and the key's path (for a prefix,
    the prefix itself) falls under the key, so any keyed route covering the route has an entry in
    that request's buckets.
    """
    host, wild, exact, prefix = key
    path = exact if exact is not None else prefix if prefix is not None else ""
    out: list[list[Entry]] = []
    if host is not None:
        return index.keyed_buckets(host, path)
    if wild is not None:
        sub = index.wild.get(wild)
        if sub is not None:
            sub.collect(path, out)
    if key != ANY:
        index.nohost.collect(path, out)
    return out


#: ``Host(`*`)`` matches every request, the empty host included (Traefik 3.7).
_ANY_HOST: Final = Host("*")


def _nodes(node: Node) -> set[Node]:
    """Every node of the tree."""
    out = {node}
    if isinstance(node, And | Or):
        for child in node.children:
            out |= _nodes(child)
    elif isinstance(node, Not):
        out |= _nodes(node.child)
    return out


def _required_leaf(a: Node) -> Node | None:
    """A leaf that every rule *b* with ``implies(b, a)`` contains, if there is one.

    `implies` proves a leaf other than ``Host`` and ``PathPrefix`` (and the always-matching ones)
    only by finding it, equal, inside *b*; an ``And`` needs each of its children.  ``Or`` and the
    leaves `implies` reasons about have no such leaf (``None``).
    """
    if isinstance(a, And):
        for child in a.children:
            leaf = _required_leaf(child)
            if leaf is not None:
                return leaf
        return None
    if isinstance(a, Or | Host | PathPrefix) or a.always_matches:
        return None
    return a


def implies(b: Node, a: Node) -> bool:
    """True when every request matching *b* is proved to match *a* (sound, not complete)."""
    if a in (b, _ANY_HOST) or a.always_matches:
        return True
    if isinstance(a, Host) and isinstance(b, Host) and not b.host.startswith("*"):
        # b matches exactly one host: a covers b when a matches that host (`*.x.com` ⊇ `y.x.com`).
        return a.matches(Request(host=b.host))
    if isinstance(a, And):
        return all(implies(b, child) for child in a.children)
    if isinstance(b, Or):
        return all(implies(child, a) for child in b.children)
    if isinstance(b, And) and any(implies(child, a) for child in b.children):
        return True
    if isinstance(a, Or):
        return any(implies(b, child) for child in a.children)
    if isinstance(a, PathPrefix):
        if isinstance(b, PathPrefix):
            return b.prefix.startswith(a.prefix)
        if isinstance(b, Path):
            return b.path.startswith(a.prefix)
    return False
