"""Property tests: the indexed RouteTable answers exactly what a priority-ordered scan answers."""

from __future__ import annotations

from typing import Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routekit import testing
from routekit.request import Request
from routekit.routing import Route, RouteTable
from routekit.testing import route_tables

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

requests = testing.requests()


def plain_scan(table: RouteTable, request: Request) -> Route | None:
    """The reference: sort by the documented key ourselves and try each rule in turn."""
    precedence = {p: i for i, p in reversed(list(enumerate(table.provider_precedence)))}

    def key(route: Route) -> tuple[int, int, str]:
        if route.provider is None:
            rank = len(precedence) + 1
        else:
            rank = precedence.get(route.provider, len(precedence))
        return (-route.priority, rank, route.name)

    for route in sorted(table.routes, key=key):
        if route.rule.matches(request):
            return route
    return None


@SETTINGS
@given(route_tables(max_size=16), st.lists(requests, min_size=1, max_size=8))
def test_index_equals_linear_scan(table: RouteTable, reqs: list[Request]) -> None:
    for request in reqs:
        fast = table.match(request)
        assert fast == table.match_linear(request)
        expected = plain_scan(table, request)
        assert (fast.route if fast else None) == expected


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(route_tables(min_size=20, max_size=50), st.lists(requests, min_size=5, max_size=20))
def test_index_equals_linear_scan_on_larger_tables(table: RouteTable, reqs: list[Request]) -> None:
    for request in reqs:
        assert table.match(request) == table.match_linear(request)


@SETTINGS
@given(route_tables(max_size=16), st.lists(requests, min_size=1, max_size=8))
def test_shadowed_routes_never_win(table: RouteTable, reqs: list[Request]) -> None:
    shadowings = table.shadowed()
    for s in shadowings:
        assert table.routes.index(s.by) < table.routes.index(s.route)
    for request in reqs:
        match = table.match(request)
        for s in shadowings:
            if s.route.rule.matches(request):
                assert s.by.rule.matches(request)
            assert match is None or match.route != s.route


@settings(max_examples=200, deadline=None)
@given(route_tables(max_size=10), requests, st.randoms(use_true_random=False))
def test_order_does_not_depend_on_input_order(
    table: RouteTable, request: Request, rnd: object
) -> None:
    routes = list(table.routes)
    rnd.shuffle(routes)  # type: ignore[attr-defined]
    again = RouteTable(routes, provider_precedence=table.provider_precedence)
    assert again.routes == table.routes
    assert again.match(request) == table.match(request)


@settings(max_examples=200, deadline=None)
@given(route_tables(max_size=10), requests)
def test_explain_agrees_with_match(table: RouteTable, request: Request) -> None:
    explanation = table.explain(request)
    match = table.match(request)
    assert explanation.winner == (match.route if match else None)
    assert [v.route for v in explanation.verdicts] == list(table.routes)
    for verdict in explanation.verdicts:
        assert verdict.matched == verdict.route.rule.matches(request)
        assert bool(verdict.reasons) != verdict.matched
    first = next((v.route for v in explanation.verdicts if v.matched), None)
    assert first == explanation.winner
    assert str(explanation).splitlines()[0].startswith("request: ")


@pytest.mark.parametrize("syntax", ["v1", "v2"])
def test_index_equals_linear_scan_for_v1_and_v2_rules(syntax: Literal["v1", "v2"]) -> None:
    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(route_tables(syntax, max_size=12), st.lists(requests, min_size=1, max_size=8))
    def check(table: RouteTable, reqs: list[Request]) -> None:
        for request in reqs:
            assert table.match(request) == table.match_linear(request)

    check()


@SETTINGS
@given(route_tables(max_size=16))
def test_lint_narrowing_only_skips_pairs_implies_rejects(table: RouteTable) -> None:
    # The lint skips a candidate whose required leaf is missing from the rule it would cover;
    # that is only sound if `implies` could never have proved such a pair.
    from routekit.routing._lint import _nodes, _required_leaf, implies

    rules = [route.rule.expr for route in table.routes]
    for a in rules:
        leaf = _required_leaf(a)
        for b in rules:
            if leaf is not None and leaf not in _nodes(b):
                assert not implies(b, a)
