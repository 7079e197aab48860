"""`route_tables()`: hypothesis strategy for `RouteTable` values.

Tables mix the rules of :func:`routekit.testing.rules` with rules built over a small pool of hosts
and paths (the shapes the table's index handles: ``Host``, ``Host && PathPrefix``, ``Host &&
Path``, ``PathPrefix`` alone, ``Or`` of hosts, ``*.x`` wildcards, v1 modifiers), so that many
routes share hosts and prefixes, overlap and tie on priority — the cases where an index could
disagree with a linear scan.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal

from hypothesis import strategies as st

from ..routing import Route, RouteTable
from ..rules import (
    AddPrefix,
    And,
    Header,
    Host,
    Method,
    Node,
    Not,
    Or,
    Path,
    PathPrefix,
    PathRegexp,
    Rule,
)
from ._requests import HOSTS

__all__ = ["PATHS", "indexed_rules", "route_tables"]

#: Paths and prefixes over the pool of `requests()`: prefixes of one another on purpose, some
#: ending inside a segment (``/api/v`` covers ``/api/v1``: Traefik's prefix is a raw string one).
PATHS: Final = (
    "/",
    "/a",
    "/api",
    "/api/",
    "/api/v",
    "/api/v1",
    "/api/v1/u",
    "/api/v1/users",
    "/api/v1/users/42",
    "/static",
    "/static/css",
    "/users",
    "/users/42",
    "/a b",
)


def _leaf_strategies(
    hosts: Sequence[str], paths: Sequence[str]
) -> dict[str, st.SearchStrategy[Node]]:
    host = st.sampled_from(hosts).map(Host)
    suffixes = sorted({h.partition(".")[2] for h in hosts if "." in h})
    wildcard = st.sampled_from(suffixes).map(lambda suffix: Host(f"*.{suffix}"))
    path_values = st.sampled_from(paths)
    return {
        "host": st.one_of(host, host, host, wildcard),
        "path": st.one_of(
            path_values.map(PathPrefix), path_values.map(PathPrefix), path_values.map(Path)
        ),
        "extra": st.one_of(
            st.sampled_from(["GET", "POST"]).map(Method),
            st.just(Header("X-Env", "prod")),
            st.sampled_from(["^/api/v[0-9]", "s$", "/css"]).map(PathRegexp),
            st.sampled_from(hosts).map(lambda h: Not(Host(h))),
            path_values.map(lambda p: Not(PathPrefix(p))),
            st.just(AddPrefix("/x")),
        ),
    }


def indexed_rules(
    hosts: Sequence[str] = HOSTS, paths: Sequence[str] = PATHS
) -> st.SearchStrategy[Rule]:
    """Rules over *hosts* and *paths* in the shapes a `RouteTable` indexes, with extra matchers."""
    leaves = _leaf_strategies(hosts, paths)
    host_part = st.one_of(
        leaves["host"],
        st.lists(leaves["host"], min_size=2, max_size=3).map(lambda hs: Or.of(*hs)),
    )
    conjunction = st.tuples(
        st.one_of(st.none(), host_part),
        st.one_of(
            st.none(),
            leaves["path"],
            st.lists(leaves["path"], min_size=2, max_size=2).map(lambda ps: Or.of(*ps)),
        ),
        st.lists(leaves["extra"], max_size=2),
    ).map(lambda t: [n for n in (t[0], t[1], *t[2]) if n is not None])
    node = conjunction.filter(bool).map(lambda nodes: And.of(*nodes))
    either = st.one_of(
        node, node, st.lists(node, min_size=2, max_size=3).map(lambda ns: Or.of(*ns))
    )
    return either.map(Rule.from_expr)


def route_tables(
    syntax: Literal["v3", "v2", "v1"] = "v3",
    *,
    rules: st.SearchStrategy[Rule] | None = None,
    min_size: int = 0,
    max_size: int = 12,
    providers: Sequence[str | None] = ("file", "docker", "consul", None),
    provider_precedence: Sequence[str] = ("file", "docker"),
    priorities: st.SearchStrategy[int | None] | None = None,
) -> st.SearchStrategy[RouteTable]:
    """Tables of up to *max_size* uniquely named routes with overlapping rules and tied priorities.

    Args:
        syntax: passed to :func:`routekit.testing.rules` for the part of the rules it makes.
        rules: the rule strategy; by default a mix of ``rules(syntax=syntax)`` and
            :func:`indexed_rules`.
        providers: the providers routes are drawn from (``None``: no provider).
        provider_precedence: the table's ``provider_precedence``.
        priorities: explicit priorities; by default mostly the rule's length, else small values
            (negative ones included) so that ties happen.
    """
    if rules is None:
        from ._rules import rules as any_rules

        shaped = indexed_rules()
        rules = st.one_of(shaped, shaped, any_rules(syntax=syntax))
    if priorities is None:
        priorities = st.one_of(st.none(), st.none(), st.sampled_from([-5, -1, 1, 3, 20, 30]))
    route = st.tuples(rules, priorities, st.sampled_from(list(providers)))
    precedence = tuple(provider_precedence)

    def build(items: list[tuple[Rule, int | None, str | None]]) -> RouteTable:
        return RouteTable(
            (
                Route(f"r{i}", rule, f"target-{i}", priority, provider=provider)
                for i, (rule, priority, provider) in enumerate(items)
            ),
            provider_precedence=precedence,
        )

    return st.lists(route, min_size=min_size, max_size=max_size).map(build)
