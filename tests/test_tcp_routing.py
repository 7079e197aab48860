"""TCP rules and the TCP route table: Traefik's HostSNI checks, ordering and the index."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import routekit
from routekit import ConfigError, RuleSyntaxError
from routekit.routing import Route, TCPRouteTable
from routekit.rules import Rule, TCPConnection, parse_rule, parse_tcp_rule
from routekit.testing import connections, rules


@pytest.mark.parametrize("value", ["*.*.example.com", "a.*.com", "*a.com", "a*", "**", "*.a.*"])
def test_wildcard_only_as_first_label(value: str) -> None:
    for parse in (parse_tcp_rule, parse_rule):
        matcher = "HostSNI" if parse is parse_tcp_rule else "Host"
        with pytest.raises(RuleSyntaxError, match="wildcard only as the whole first label"):
            parse(f"{matcher}(`{value}`)")


def test_wildcard_error_points_at_the_star() -> None:
    with pytest.raises(RuleSyntaxError) as info:
        parse_tcp_rule("HostSNI(`*.*.example.com`)")
    assert info.value.position == len("HostSNI(`*.")


@pytest.mark.parametrize("value", ["a b.com", "[::1]", "a/b", "a@b"])
def test_hostsni_refuses_what_traefik_refuses(value: str) -> None:
    # Traefik v3 hostOrIP: ^(\*\.)?[[:word:]\.\-\:]+$
    with pytest.raises(RuleSyntaxError, match="not a valid server name"):
        parse_tcp_rule(f"HostSNI(`{value}`)")


@pytest.mark.parametrize("value", ["*", "*.a.com", "a_b.example.com", "10.0.0.1", "::1"])
def test_hostsni_accepts_what_traefik_accepts(value: str) -> None:
    assert parse_tcp_rule(f"HostSNI(`{value}`)").domains() == (() if value == "*" else (value,))


@pytest.mark.parametrize("syntax", ["v2", "v3"])
def test_non_ascii_hostsniregexp_refused(syntax: str) -> None:
    with pytest.raises(RuleSyntaxError, match="non-ASCII") as info:
        parse_tcp_rule("HostSNIRegexp(`é.com`)", syntax=syntax)  # type: ignore[arg-type]
    assert "xn--" in (info.value.hint or "")


def test_v2_star_first_matches_every_connection() -> None:
    rule = parse_tcp_rule("HostSNI(`*`, `a.com`)", syntax="v2")
    assert rule.matches(TCPConnection()) and rule.matches(TCPConnection(sni="z.org"))
    # Not the exact catch-all, so Traefik's GetRulePriority gives it its length.
    assert rule.priority == len("HostSNI(`*`, `a.com`)")


def test_v2_later_star_needs_a_server_name() -> None:
    # hostSNIV2 returns false on an empty server name unless `*` is the first value.
    rule = parse_tcp_rule("HostSNI(`a.com`, `*`)", syntax="v2")
    assert not rule.matches(TCPConnection())
    assert rule.matches(TCPConnection(sni="z.org")) and rule.matches(TCPConnection(sni="a.com"))
    assert parse_tcp_rule(rule.to_string("v2"), syntax="v2") == rule


def test_domains_like_parse_domains() -> None:
    rule = parse_rule("(Host(`A.com`) || Host(`*.b.com`)) && !Host(`c.com`) || Host(`a.com`)")
    assert rule.domains() == ("a.com", "*.b.com")
    assert parse_rule("Host:x.com,y.com;Path:/").domains() == ("x.com", "y.com")
    assert parse_rule("Host(`*`) && PathPrefix(`/`)").domains() == ()
    assert parse_tcp_rule("HostSNI(`db.a.com`) && ALPN(`h2`)").domains() == ("db.a.com",)
    assert parse_rule("PathPrefix(`/`)").domains() == ()


def test_top_level_names() -> None:
    assert routekit.parse_tcp_rule is parse_tcp_rule
    assert routekit.TCPConnection is TCPConnection
    assert routekit.TCPRouteTable is TCPRouteTable


def _table(*routes: tuple[str, str, int | None]) -> TCPRouteTable:
    return TCPRouteTable(
        Route(name, rule, name, priority, protocol="tcp") for name, rule, priority in routes
    )


def test_tcp_table_orders_as_traefik() -> None:
    table = _table(
        ("catchall", "HostSNI(`*`)", None),
        ("wild", "HostSNI(`*.a.com`)", None),
        ("exact", "HostSNI(`db.a.com`)", None),
        ("pg", "HostSNI(`db.a.com`) && ALPN(`postgresql`)", None),
        ("office", "ClientIP(`10.0.0.0/8`)", None),
    )
    names = [r.name for r in table.routes]
    assert names[-1] == "catchall"  # priority -1
    assert names[0] == "pg"  # the longest rule

    def target(conn: TCPConnection) -> str | None:
        match = table.match(conn)
        assert match == table.match_linear(conn)
        return None if match is None else match.target

    assert target(TCPConnection(sni="db.a.com", alpn=("postgresql",))) == "pg"
    assert target(TCPConnection(sni="DB.A.COM")) == "exact"
    assert target(TCPConnection(sni="x.a.com")) == "wild"
    assert target(TCPConnection(sni="x.y.a.com", client_ip="10.1.1.1:5432")) == "office"
    assert target(TCPConnection(sni="", client_ip="192.0.2.1")) == "catchall"
    match = table.match(TCPConnection())
    assert match is not None and table.catch_all(match)
    exact = table.match(TCPConnection(sni="db.a.com"))
    assert exact is not None and not table.catch_all(exact)


def test_tcp_table_without_catch_all_answers_none() -> None:
    table = _table(("exact", "HostSNI(`db.a.com`)", None))
    assert table.match(TCPConnection(sni="other.a.com")) is None
    assert table.match(TCPConnection()) is None


def test_tables_refuse_the_other_protocol() -> None:
    with pytest.raises(ConfigError, match="Host cannot be used in a TCP route"):
        TCPRouteTable([Route("h", "Host(`a.com`)", 1)])
    with pytest.raises(ConfigError, match="HostSNI cannot be used in an HTTP route"):
        routekit.RouteTable([Route("t", "HostSNI(`a.com`)", 1, protocol="tcp")])
    # ClientIP belongs to both.
    assert len(TCPRouteTable([Route("c", "ClientIP(`::1`)", 1, protocol="tcp")])) == 1


def test_tcp_route_has_no_v1_syntax() -> None:
    with pytest.raises(ConfigError, match="no v1"):
        Route("t", "Host:a.com", 1, syntax="v1", protocol="tcp")


_PROVIDERS = st.sampled_from(["file", "docker", None])


@st.composite
def _tables(draw: st.DrawFn) -> TCPRouteTable:
    drawn: list[Rule] = draw(st.lists(rules("tcp"), max_size=10))
    routes = []
    for i, rule in enumerate(drawn):
        priority = draw(st.one_of(st.none(), st.sampled_from([-1, 1, 20])))
        routes.append(Route(f"r{i}", rule, i, priority, provider=draw(_PROVIDERS)))
    return TCPRouteTable(routes, provider_precedence=("docker", "file"))


@settings(max_examples=300, deadline=None)
@given(_tables(), st.lists(connections(), min_size=1, max_size=8))
def test_indexed_match_equals_linear_scan(table: TCPRouteTable, conns: list[TCPConnection]) -> None:
    for conn in conns:
        assert table.match(conn) == table.match_linear(conn)
