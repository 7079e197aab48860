"""Matching semantics, item by item from Traefik's own tests (semantics appendix, 8-24, 31-34)."""

from __future__ import annotations

import pytest

from routekit import Request
from routekit.rules import (
    AddPrefix,
    And,
    ClientIP,
    Header,
    Host,
    Not,
    Or,
    Path,
    PathPrefixStrip,
    PathStrip,
    ReplacePath,
    TCPConnection,
    parse_rule,
    parse_tcp_rule,
)


def matches(rule: str, syntax: str = "v3", **request: object) -> bool:
    return parse_rule(rule, syntax=syntax).matches(Request(**request))  # type: ignore[arg-type]


# -- Host (8-12) ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host", ["example.com", "EXAMPLE.com", "example.com:8080", " example.com ", "example.com."]
)
def test_host_compares_the_canonical_host(host: str) -> None:
    assert matches("Host(`Example.Com`)", host=host)
    assert matches("Host(`example.com.`)", host=host)


def test_host_ipv6_without_brackets() -> None:
    assert matches("Host(`::1`)", host="[::1]:8080")
    assert matches("Host(`::1`)", host="[::1]")


def test_punycode_rule_does_not_match_utf8_host() -> None:
    assert matches("Host(`xn--bcher-kva.example`)", host="xn--bcher-kva.example")
    assert not matches("Host(`xn--bcher-kva.example`)", host="bücher.example")


def test_host_wildcards_replace_exactly_one_label() -> None:
    rule = "Host(`*.example.com`)"
    assert matches(rule, host="a.example.com")
    assert matches(rule, host="A.Example.com:443")
    assert not matches(rule, host="example.com")
    assert not matches(rule, host="a.b.example.com")
    assert not matches(rule, host=".example.com")
    assert matches("Host(`*`)", host="")
    assert matches("Host(`*`)", host="anything.at.all")
    assert not matches("Host(`example.com`)", host="")


# -- HostRegexp (13-14) --------------------------------------------------------------------------


def test_v3_host_regexp_is_plain_unanchored_re2_on_canonical_host() -> None:
    assert matches("HostRegexp(`^[a-z]+\\.example\\.com$`)", host="API.example.com:80")
    assert matches("HostRegexp(`example`)", host="www.example.org")
    assert not matches("HostRegexp(`{sub:[a-z]+}.example.com`)", host="a.example.com")


def test_v2_host_regexp_is_an_anchored_case_insensitive_template() -> None:
    assert matches("HostRegexp(`{dummy:[a-z-]+\\.bar\\.com}`)", "v2", host="FOO.bar.com")
    assert not matches("HostRegexp(`{sub:[a-z]+}.bar.com`)", "v2", host="a.bar.com.evil")
    # Literal text is regexp-quoted: this template only matches its own literal text.
    assert not matches("HostRegexp(`^[A-Z]+\\.com$`)", "v2", host="ABC.com")
    assert parse_rule("HostRegexp(`(example.com`)", syntax="v2").matches(
        Request(host="(example.com")
    )


# -- paths (15-18) -------------------------------------------------------------------------------


def test_paths_use_the_routing_path() -> None:
    assert matches("Path(`/foo bar`)", path="/foo%20bar")
    assert not matches("Path(`/foo/bar`)", path="/foo%2Fbar")
    assert matches("Path(`/foo%2Fbar`)", path="/foo%2Fbar")
    assert matches("Path(`/{path:css}`)", path="/%7Bpath:css%7D")


def test_v3_path_is_exact_and_prefix_is_raw() -> None:
    assert not matches("Path(`/css`)", path="/css/")
    assert matches("PathPrefix(`/css`)", path="/css.css")
    assert matches("PathPrefix(`/css`)", path="/css")
    assert not matches("PathPrefix(`/css`)", path="/cs")


def test_v3_path_regexp_is_unanchored_and_case_sensitive() -> None:
    assert matches("PathRegexp(`[0-9]+`)", path="/a/42/b")
    assert not matches("PathRegexp(`^/API`)", path="/api")


def test_v2_path_templates() -> None:
    assert matches("Path(`/css{path:(?:/.*)?}`)", "v2", path="/css/a.css")
    assert matches("Path(`/css{path:(?:/.*)?}`)", "v2", path="/css")
    assert matches("PathPrefix(`/css-{name:[0-9]?}`)", "v2", path="/css-1/x")
    assert not matches("Path(`/p/{id:[0-9]+}`)", "v2", path="/p/12/x")
    assert parse_rule("Path(`/p/{id:[0-9]+}`)", syntax="v2").params(Request(path="/p/12")) == {
        "id": "12"
    }


def test_v2_templates_accept_capturing_groups_as_traefik_does() -> None:
    # Traefik's own v2 tests: capturing groups inside a variable are accepted and only group.
    assert matches("Path(`/css{path:(/.*)?}`)", "v2", path="/css/components/component.css")
    assert not matches("Path(`/css{path:(/.*)?}`)", "v2", path="/css.css")
    rule = parse_rule(r"HostRegexp(`{subdomain:(foo\.)?bar\.com}`)", syntax="v2")
    assert rule.matches(Request(host="foo.bar.com")) and rule.matches(Request(host="bar.com"))
    assert not rule.matches(Request(host="fooubar.com"))
    assert rule.params(Request(host="foo.bar.com")) == {"subdomain": "foo.bar.com"}
    assert parse_rule(rule.to_string("v2"), syntax="v2") == rule


def test_empty_path_of_a_bare_url() -> None:
    request = Request.from_url("https://example.com")
    assert not parse_rule("Path(`/`)").matches(request)
    assert parse_rule("Host(`example.com`)").matches(request)


# -- method, headers, query, ClientIP (19-24) ----------------------------------------------------


def test_method_value_is_upper_cased_request_method_compared_as_sent() -> None:
    assert matches("Method(`get`)", method="GET")
    assert not matches("Method(`GET`)", method="get")
    assert not matches("Method(`POST`)", method="GET")


def test_header_names_case_insensitive_values_exact() -> None:
    assert matches("Header(`x-env`, `prod`)", headers=[("X-ENV", "dev"), ("x-env", "prod")])
    assert not matches("Header(`X-Env`, `prod`)", headers=[("X-Env", "Prod")])
    assert Header("x-forwarded-for", "a").name == "X-Forwarded-For"


def test_header_and_query_regexps_are_unanchored_any_value() -> None:
    assert matches(
        "HeaderRegexp(`Accept`, `json`)",
        headers=[("accept", "text/html"), ("accept", "application/json")],
    )
    assert matches("QueryRegexp(`q`, `[0-9]`)", path="/?q=a&q=b2")
    assert not matches("QueryRegexp(`q`, `^[0-9]$`)", path="/?q=12")


def test_query_semantics() -> None:
    assert matches("Query(`k`)", path="/?k")
    assert matches("Query(`k`)", path="/?k=")
    assert not matches("Query(`k`)", path="/?k=true")
    assert matches("Query(`k`, `v`)", path="/?k=a&k=v")
    assert not matches("Query(`K`, `v`)", path="/?k=v")
    assert matches("QueryRegexp(`k`)", path="/?k")
    assert not matches("QueryRegexp(`k`)", path="/?k=1")


def test_v2_query_values_are_gorilla_templates() -> None:
    # Traefik's own v2 tests: pairs all match, each split on its first "=".
    assert matches("Query(`foo=bar`, `bar=baz`)", "v2", path="/?foo=bar&bar=baz")
    assert not matches("Query(`foo=bar`, `bar=baz`)", "v2", path="/?bar=baz")
    assert matches("Query(`foo=b=ar`)", "v2", path="/?foo=b=ar")
    assert not matches("Query(`foo=b=ar`)", "v2", path="/?foo=bar")
    # An empty value matches any value of a present key; a template matches a whole value.
    assert matches("Query(`id=`)", "v2", path="/?id=abc") and matches(
        "Query(`id=`)", "v2", path="/?id"
    )
    assert not matches("Query(`id=`)", "v2", path="/?other=1")
    assert matches("Query(`id={id:[0-9]+}`)", "v2", path="/?id=12")
    assert not matches("Query(`id={id:[0-9]+}`)", "v2", path="/?id=12a")
    for text in ("Query(`id=`)", "Query(`id={id:[0-9]+}`)"):
        rule = parse_rule(text, syntax="v2")
        assert parse_rule(rule.to_string("v2"), syntax="v2") == rule


@pytest.mark.parametrize(
    ("client_ip", "expected"),
    [
        ("10.0.0.1", True),
        ("10.1.2.3:5555", True),
        ("11.0.0.1", False),
        ("::ffff:10.0.0.1", True),
        ("not-an-ip", False),
        ("10.0.0.1:port:x", False),
        (None, False),
    ],
)
def test_client_ip_uses_the_peer_address_only(client_ip: str | None, expected: bool) -> None:
    request = Request(client_ip=client_ip, headers={"X-Forwarded-For": "10.0.0.1"})
    assert parse_rule("ClientIP(`10.0.0.0/8`)").matches(request) is expected


def test_client_ip_ipv6() -> None:
    rule = parse_rule("ClientIP(`2001:db8::/32`)")
    assert rule.matches(Request(client_ip="[2001:db8::5]:443"))
    assert rule.matches(Request(client_ip="2001:db8::5"))
    assert not rule.matches(Request(client_ip="10.0.0.1"))
    assert ClientIP("::1").matches(Request(client_ip="::1"))
    assert not ClientIP("::1").matches(Request(client_ip="[::1]"))  # no port: unparsable, as Go


# -- logic, explain, rewrites --------------------------------------------------------------------


def test_negation_and_explain() -> None:
    rule = parse_rule("Host(`a.com`) && !PathPrefix(`/admin`) && (Method(`GET`) || Method(`HEAD`))")
    assert rule.matches(Request(host="a.com", path="/x"))
    assert rule.explain(Request(host="a.com", path="/x")) == ()
    failing = rule.explain(Request(method="POST", host="b.com", path="/admin"))
    assert [str(n) for n in failing] == [
        "Host(`a.com`)",
        "!PathPrefix(`/admin`)",
        "Method(`GET`)",
        "Method(`HEAD`)",
    ]


def test_v1_modifiers_never_affect_matching_and_come_in_traefik_order() -> None:
    rule = parse_rule("ReplacePath:/x;AddPrefix:/p;PathPrefixStrip:/api;Host:a.com")
    assert rule.matches(Request(host="a.com", path="/api/users"))
    assert not rule.matches(Request(host="a.com", path="/other"))
    assert rule.rewrites == (PathPrefixStrip(("/api",)), AddPrefix("/p"), ReplacePath("/x"))
    both = parse_rule(
        "ReplacePath:/x;ReplacePathRegex:^/a /b;PathStrip:/s;PathPrefixStripRegex:/{r}"
    )
    assert [type(n).__name__ for n in both.rewrites] == [
        "PathPrefixStripRegex",
        "PathStrip",
        "ReplacePathRegex",
        "ReplacePath",
    ]
    # Strips share one field in Traefik 1.7: the last of the rule wins.
    assert parse_rule("PathStrip:/a;PathPrefixStrip:/b").rewrites == (PathPrefixStrip(("/b",)),)
    only_modifiers = parse_rule("AddPrefix:/p")
    assert only_modifiers.matches(Request(host="x", path="/anything"))
    assert AddPrefix("/p").always_matches and not Host("a").always_matches


def test_strip_matchers_match_like_path_and_prefix() -> None:
    assert PathStrip(("/a", "/b/{id:[0-9]+}")).matches(Request(path="/b/7"))
    assert not PathStrip(("/a",)).matches(Request(path="/a/b"))
    assert PathPrefixStrip(("/a",)).matches(Request(path="/a/b"))
    assert PathStrip(("/b/{id:[0-9]+}",)).variables(Request(path="/b/7")) == {"id": "7"}


def test_params_none_when_no_match() -> None:
    rule = parse_rule("Path(`/u/{name}`)", syntax="v2")
    assert rule.params(Request(path="/v/x")) is None
    assert rule.params(Request(path="/u/bob")) == {"name": "bob"}
    assert parse_rule("Path(`/u`)").params(Request(path="/u")) == {}


# -- TCP (31-34) ---------------------------------------------------------------------------------


def test_tcp_matching() -> None:
    assert parse_tcp_rule("HostSNI(`*`)").matches(TCPConnection())
    assert parse_tcp_rule("HostSNI(`A.com`)").matches(TCPConnection(sni="a.COM"))
    assert parse_tcp_rule("HostSNIRegexp(`.*`)").matches(TCPConnection(sni=""))
    assert parse_tcp_rule("ALPN(`h2`)").matches(TCPConnection(alpn=("http/1.1", "h2")))
    assert not parse_tcp_rule("ALPN(`h2`)").matches(TCPConnection(alpn="http/1.1"))
    assert parse_tcp_rule("ClientIP(`10.0.0.0/8`)").matches(TCPConnection(client_ip="10.2.3.4:1"))
    v2 = parse_tcp_rule("HostSNIRegexp(`{sub:[a-z]+}.example.com`)", syntax="v2")
    assert v2.matches(TCPConnection(sni="api.example.com"))
    assert not v2.matches(TCPConnection(sni="a.b.example.com"))


def test_path_node_equality_ignores_compiled_state() -> None:
    assert Path("/a") == Path("/a")
    assert hash(parse_rule("HostRegexp(`a`)")) == hash(parse_rule("HostRegexp( `a` )"))


def test_normalising_constructors() -> None:
    a, b, c = Host("a"), Path("/b"), Header("c", "1")
    assert And.of(And.of(a, b), c) == And((a, b, c))
    assert Or.of(a) == a
    assert Not.of(Or.of(a, Not(b))) == And((Not(a), b))
    with pytest.raises(ValueError, match="at least one node"):
        And.of()
