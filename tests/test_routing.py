"""Route, RouteTable, Match, explain and shadowed: what a user sees."""

from __future__ import annotations

import pytest

from routekit.errors import ConfigError, RuleSyntaxError
from routekit.request import Request
from routekit.routing import Explanation, Match, Route, RouteTable, Shadowing
from routekit.rules import parse_rule


def req(host: str = "a.com", path: str = "/", method: str = "GET", **kw: object) -> Request:
    return Request(method=method, host=host, path=path, **kw)  # type: ignore[arg-type]


def names(table: RouteTable) -> list[str]:
    return [r.name for r in table.routes]


# -- Route ----------------------------------------------------------------------------------------


def test_route_parses_text_and_defaults_priority_to_rule_length_in_bytes() -> None:
    route = Route("api", "Host(`example.org`)", target="svc")
    assert route.rule == parse_rule("Host(`example.org`)")
    assert route.priority == 19  # Traefik's own doc example
    assert not route.explicit_priority
    # Bytes, not characters: a non-ASCII path counts its UTF-8 length.
    assert Route("u", "PathPrefix(`/é`)", target=1).priority == len("PathPrefix(`/é`)".encode())


def test_route_priority_zero_means_default_and_explicit_wins_even_negative() -> None:
    assert Route("a", "Path(`/x`)", "t", priority=0).priority == len("Path(`/x`)")
    assert Route("a", "Path(`/x`)", "t", priority=500).priority == 500
    negative = Route("a", "Path(`/x`)", "t", priority=-3)
    assert negative.priority == -3
    assert negative.explicit_priority


def test_route_takes_a_parsed_rule_and_a_v1_rule_text() -> None:
    rule = parse_rule("Host(`a.com`)")
    assert Route("a", rule, "t").rule is rule
    v1 = Route("old", "Host:a.com;PathPrefix:/api", "t")
    assert v1.rule.matches(req("a.com", "/api/x"))
    assert v1.priority == len("Host:a.com;PathPrefix:/api")


def test_route_rejects_bad_input_with_routekit_errors() -> None:
    with pytest.raises(RuleSyntaxError):
        Route("a", "Host(`a.com`", "t")
    with pytest.raises(ConfigError, match="non-empty name"):
        Route("", "Host(`a.com`)", "t")
    with pytest.raises(ConfigError, match="priority must be an integer"):
        Route("a", "Host(`a.com`)", "t", priority="10")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="above the maximum"):
        Route("a", "Host(`a.com`)", "t", priority=2**63)
    assert Route("a", "Host(`a.com`)", "t", priority=2**63 - 1001).priority == 2**63 - 1001
    with pytest.raises(ConfigError, match="rule must be a Rule"):
        Route("a", 42, "t")  # type: ignore[arg-type]


def test_route_is_a_frozen_value() -> None:
    a = Route("a", "Host(`a.com`)", "t", provider="file")
    assert a == Route("a", "Host(`a.com`)", "t", provider="file")
    assert a.qualified_name == "a@file"
    with pytest.raises(AttributeError):
        a.name = "b"  # type: ignore[misc]


# -- order ----------------------------------------------------------------------------------------


def test_table_orders_by_priority_then_provider_precedence_then_name() -> None:
    table = RouteTable(
        [
            Route("z-none", "Path(`/a`)", 1, priority=10),
            Route("b-docker", "Path(`/a`)", 1, priority=10, provider="docker"),
            Route("a-docker", "Path(`/a`)", 1, priority=10, provider="docker"),
            Route("c-file", "Path(`/a`)", 1, priority=10, provider="file"),
            Route("d-consul", "Path(`/a`)", 1, priority=10, provider="consul"),
            Route("top", "Path(`/a`)", 1, priority=11),
            Route("low", "Path(`/a`)", 1, priority=-1, provider="file"),
        ],
        provider_precedence=["file", "docker"],
    )
    assert names(table) == [
        "top",  # highest priority
        "c-file",  # listed first
        "a-docker",  # listed second, then by name
        "b-docker",
        "d-consul",  # not listed: after the listed ones
        "z-none",  # no provider: last
        "low",
    ]
    assert table.match(req(path="/a")) == Match(table.routes[0])


def test_duplicate_names_are_a_config_error_naming_them() -> None:
    with pytest.raises(ConfigError) as info:
        RouteTable([Route("api", "Path(`/a`)", 1), Route("api", "Path(`/b`)", 2)])
    assert "'api' is used 2 times" in str(info.value)
    with pytest.raises(ConfigError, match="expected a Route"):
        RouteTable(["Host(`a.com`)"])  # type: ignore[list-item]


def test_table_is_a_sequence_like_value() -> None:
    table = RouteTable([Route("b", "Path(`/b`)", 2), Route("a", "Path(`/aa`)", 1)])
    assert len(table) == 2
    assert [r.name for r in table] == ["a", "b"]
    assert table.routes[0] in table
    assert repr(table) == "<RouteTable of 2 routes: a, b>"


# -- match ----------------------------------------------------------------------------------------


def test_match_finds_the_highest_priority_route() -> None:
    table = RouteTable(
        [
            Route("site", "Host(`a.com`)", "site"),
            Route("api", "Host(`a.com`) && PathPrefix(`/api`)", "api"),
            Route("v2", "Host(`a.com`) && PathPrefix(`/api/v2`)", "v2"),
            Route("any-static", "PathPrefix(`/static`)", "static"),
        ]
    )
    assert table.match(req("a.com", "/api/v2/x")).target == "v2"  # type: ignore[union-attr]
    assert table.match(req("a.com", "/api/v1/x")).target == "api"  # type: ignore[union-attr]
    assert table.match(req("a.com", "/apiary")).target == "api"  # type: ignore[union-attr]
    assert table.match(req("a.com", "/")).target == "site"  # type: ignore[union-attr]
    # "Host(`a.com`)" (13) loses to "PathPrefix(`/static`)" (21).
    assert table.match(req("a.com", "/static/x")).target == "static"  # type: ignore[union-attr]
    assert table.match(req("b.com", "/static/x")).target == "static"  # type: ignore[union-attr]
    assert table.match(req("b.com", "/api")) is None


def test_match_host_is_case_insensitive_and_ignores_the_port() -> None:
    table = RouteTable([Route("a", "Host(`API.Example.com`)", "t")])
    assert table.match(req("api.example.COM:8443")) is not None
    assert table.match(req("api.example.com.")) is not None
    assert table.match(req("example.com")) is None


def test_match_v2_multi_host_and_wildcards() -> None:
    table = RouteTable(
        [
            Route("multi", parse_rule("Host(`a.com`, `b.com`)", syntax="v2"), "multi"),
            Route("wild", "Host(`*.c.com`)", "wild"),
            Route("star", "Host(`*`)", "star", priority=-1),
        ]
    )
    assert table.match(req("b.com")).target == "multi"  # type: ignore[union-attr]
    assert table.match(req("x.c.com")).target == "wild"  # type: ignore[union-attr]
    assert table.match(req("x.y.c.com")).target == "star"  # type: ignore[union-attr]
    assert table.match(req("")).target == "star"  # type: ignore[union-attr]


def test_rules_that_cannot_be_indexed_still_win_by_priority() -> None:
    table = RouteTable(
        [
            Route("host", "Host(`a.com`) && PathPrefix(`/api`)", "host"),
            Route("regexp", r"HostRegexp(`^[a-z]+\.com$`) && Method(`POST`)", "re", priority=100),
            Route("not", "!PathPrefix(`/api`)", "not"),
            Route("header", "Header(`X-Env`, `dev`)", "hdr", priority=1000),
        ]
    )
    assert table.match(req("a.com", "/api", method="POST")).target == "re"  # type: ignore[union-attr]
    assert table.match(req("a.com", "/api")).target == "host"  # type: ignore[union-attr]
    assert table.match(req("a.com", "/web")).target == "not"  # type: ignore[union-attr]
    dev = req("a.com", "/api", headers={"x-env": "dev"})
    assert table.match(dev).target == "hdr"  # type: ignore[union-attr]


def test_v1_rule_with_modifiers_is_indexed_by_its_matchers() -> None:
    table = RouteTable(
        [
            Route("strip", "Host:a.com;PathPrefixStrip:/api,/v1;AddPrefix:/x", "strip"),
            Route("other", "Host:a.com", "other"),
        ]
    )
    assert table.match(req("a.com", "/v1/users")).target == "strip"  # type: ignore[union-attr]
    assert table.match(req("a.com", "/web")).target == "other"  # type: ignore[union-attr]


def test_match_returns_template_params_of_the_winner() -> None:
    table = RouteTable([Route("item", parse_rule("Path(`/items/{id:[0-9]+}`)", syntax="v2"), "t")])
    match = table.match(req(path="/items/42"))
    assert match is not None
    assert dict(match.params) == {"id": "42"}
    assert table.match(req(path="/items/x")) is None
    plain = RouteTable([Route("p", "Path(`/items`)", "t")]).match(req(path="/items"))
    assert plain is not None
    assert dict(plain.params) == {}


def test_match_and_match_linear_agree_on_a_small_table() -> None:
    table = RouteTable(
        [
            Route("a", "Host(`a.com`) && (PathPrefix(`/x`) || Path(`/y`))", 1),
            Route("b", "PathPrefix(`/`) && !Method(`DELETE`)", 2),
            Route("c", "Host(`a.com`) && Host(`b.com`)", 3, priority=99),
        ]
    )
    for host in ("a.com", "b.com"):
        for path in ("/", "/x", "/xy", "/y", "/y/"):
            for method in ("GET", "DELETE"):
                r = req(host, path, method)
                assert table.match(r) == table.match_linear(r)


# -- explain --------------------------------------------------------------------------------------


def test_explain_says_why_each_route_failed_and_who_won() -> None:
    table = RouteTable(
        [
            Route("api", "Host(`api.a.com`) && PathPrefix(`/v1`)", "api-svc"),
            Route("web", "PathPrefix(`/`)", "web-svc"),
            Route("admin", "Method(`POST`) && Header(`X-Admin`, `1`)", "adm", priority=1),
        ]
    )
    explanation = table.explain(req("b.com", "/v1/x"))
    assert isinstance(explanation, Explanation)
    assert explanation.winner is not None
    assert explanation.winner.name == "web"
    by_name = {v.route.name: v for v in explanation.verdicts}
    assert [v.route.name for v in explanation.verdicts] == ["api", "web", "admin"]
    assert by_name["api"].reasons == ("Host(`api.a.com`) did not match host 'b.com'",)
    assert by_name["web"].matched
    assert by_name["admin"].reasons == (
        "Method(`POST`) did not match method 'GET'",
        "Header(`X-Admin`, `1`) did not match a request without a X-Admin header",
    )
    text = str(explanation)
    assert "request: GET http://b.com/v1/x" in text
    assert "no: Host(`api.a.com`) did not match host 'b.com'" in text
    assert "winner: web → 'web-svc'" in text


def test_explain_reports_no_match() -> None:
    table = RouteTable([Route("api", "Path(`/api`)", "api")])
    explanation = table.explain(req(path="/web"))
    assert explanation.winner is None
    assert "Path(`/api`) did not match path '/web'" in str(explanation)
    assert str(explanation).endswith("no route matched (404)")


# -- shadowed -------------------------------------------------------------------------------------


def test_shadowed_finds_covering_prefixes_and_identical_rules() -> None:
    table = RouteTable(
        [
            Route("api", "Host(`a.com`) && PathPrefix(`/api`)", 1, priority=100),
            Route("api-v1", "Host(`a.com`) && PathPrefix(`/api/v1`)", 2, priority=50),
            Route("all", "PathPrefix(`/`)", 3, priority=90),
            Route("b-site", "Host(`b.com`) && Path(`/index`)", 4, priority=10),
            Route("twin", "Host(`a.com`) && PathPrefix(`/api`)", 5, priority=100),
            Route("regexp", "PathRegexp(`^/api`)", 6, priority=1),
            Route("ok", "Host(`a.com`) && PathPrefix(`/web`)", 7, priority=95),
        ]
    )
    found = {s.route.name: s for s in table.shadowed()}
    assert set(found) == {"api-v1", "b-site", "twin"}
    assert found["api-v1"].by.name == "api"
    assert found["b-site"].by.name == "all"
    assert found["twin"].by.name == "api"
    assert "same rule" in found["twin"].reason
    assert isinstance(found["twin"], Shadowing)
    assert "can never win" in str(found["api-v1"])


def test_shadowed_ignores_lower_priority_covering_routes_and_undecidable_ones() -> None:
    table = RouteTable(
        [
            Route("v1", "Host(`a.com`) && PathPrefix(`/api/v1`)", 1),
            Route("api", "Host(`a.com`) && PathPrefix(`/api`)", 2),
            Route("rx", r"HostRegexp(`^a\.com$`)", 3, priority=1000),
            Route("get", "Host(`a.com`) && Method(`GET`)", 4, priority=999),
        ]
    )
    assert table.shadowed() == []


def test_many_prefix_lengths_give_the_same_answers_as_a_scan() -> None:
    # Past a few distinct prefix lengths the index switches to a character trie.
    prefixes = ["/" + "abcdefghij"[:n] for n in range(11)] + ["/abx", "/b", "/abcdef/g"]
    routes = [Route(f"p{i}", f"PathPrefix(`{p}`)", i) for i, p in enumerate(prefixes)]
    routes += [Route(f"e{i}", f"Path(`{p}`)", -i, priority=-i) for i, p in enumerate(prefixes)]
    routes.append(Route("host", "Host(`a.com`) && PathPrefix(`/abc`)", "h", priority=100))
    table = RouteTable(routes)
    for path in ["", "/", "/a", "/abc", "/abcd/", "/abcdefghij/x", "/abx", "/b", "/c", "/abcdef/g"]:
        for host in ("a.com", "b.com"):
            r = req(host, path)
            assert table.match(r) == table.match_linear(r), (host, path)
    assert table.match(req("b.com", "/abcdefghij/x")).target == 10  # type: ignore[union-attr]
    assert table.match(req("a.com", "/abcd")).target == "h"  # type: ignore[union-attr]


def test_host_only_rules_give_the_same_answers_for_many_hosts() -> None:
    # Host-only rules that cannot be indexed are remembered per host, in a bounded cache.
    table = RouteTable(
        [
            Route("digits", r"HostRegexp(`^[0-9]+\.example\.com$`)", "digits"),
            Route("tmpl", parse_rule("HostRegexp(`{sub:[a-f]+}.example.com`)", syntax="v2"), "t"),
            Route("exact", "Host(`12.example.com`) && PathPrefix(`/x`)", "exact", priority=1000),
            Route("not", "!Host(`b.example.com`) && !HostRegexp(`^c`)", "not", priority=-1),
        ]
    )
    for i in range(5000):
        for host in (f"{i}.example.com", f"{i:x}.example.com"):
            r = req(host, "/x")
            assert table.match(r) == table.match_linear(r), host
    assert table.match(req("12.example.com", "/x")).target == "exact"  # type: ignore[union-attr]
    assert table.match(req("12.example.com", "/y")).target == "digits"  # type: ignore[union-attr]
    assert table.match(req("ABC.example.com", "/y")).target == "t"  # type: ignore[union-attr]
    assert table.match(req("go.example.com")).target == "not"  # type: ignore[union-attr]
    assert table.match(req("cg.example.com")) is None
    assert table.match(req("b.example.com")).target == "t"  # type: ignore[union-attr]


def test_shadowed_by_rules_without_a_key() -> None:
    table = RouteTable(
        [
            Route("rx", r"HostRegexp(`^a\.`)", 1, priority=50),
            Route("rx-api", r"HostRegexp(`^a\.`) && PathPrefix(`/api`)", 2, priority=40),
            Route("modifier", "AddPrefix:/x", 3, priority=30),
            Route("plain", "Host(`b.com`) && PathPrefix(`/b`)", 4, priority=20),
        ]
    )
    found = {s.route.name: s.by.name for s in table.shadowed()}
    assert found == {"rx-api": "rx", "plain": "modifier"}


def test_shadowed_by_wildcard_hosts() -> None:
    # `*.x.com` covers exactly one extra label; `*` covers every request (Traefik 3.7).
    table = RouteTable(
        [
            Route("wild", "Host(`*.x.com`)", 1, priority=100),
            Route("exact", "Host(`a.x.com`) && PathPrefix(`/api`)", 2, priority=50),
            Route("deeper", "Host(`a.b.x.com`)", 3, priority=40),
            Route("all", "Host(`*`)", 4, priority=30),
            Route("low", "Host(`z.com`)", 5, priority=10),
            Route("regexp", "HostRegexp(`q`) && Method(`GET`)", 6, priority=5),
        ]
    )
    found = {s.route.name: s.by.name for s in table.shadowed()}
    assert found == {"exact": "wild", "low": "all", "regexp": "all"}
    for name, by in found.items():
        assert all(
            table.match(r).route.name != name  # type: ignore[union-attr]
            for r in (Request(host="a.x.com", path="/api/1"), Request(host="z.com"))
        ), by
