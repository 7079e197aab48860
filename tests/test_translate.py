"""Translation of v1 and v2 rules into v3 rules plus middlewares."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routekit import Request, RuleSyntaxError, testing
from routekit.rules import (
    Rule,
    TCPConnection,
    Translation,
    UnrepresentableRule,
    parse_rule,
    parse_tcp_rule,
    to_v3,
    translate,
)

# -- examples --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("v1", "v3"),
    [
        ("Host:a.com", "Host(`a.com`)"),
        (
            "Host:a.com,b.com;PathPrefix:/api",
            "(Host(`a.com`) || Host(`b.com`)) && PathPrefix(`/api`)",
        ),
        ("Method:get,POST", "Method(`GET`) || Method(`POST`)"),
        ("Headers:x-env,prod", "Header(`X-Env`, `prod`)"),
        ("HeadersRegexp:X-Env,^pr", "HeaderRegexp(`X-Env`, `^pr`)"),
        ("Query:a=1,b=2", "Query(`a`, `1`) && Query(`b`, `2`)"),
        ("HostRegexp:{sub:[a-z]+}.a.com", r"HostRegexp(`(?i)^[a-z]+\.a\.com$`)"),
        ("Path:/u/{id:[0-9]+}", "PathRegexp(`^/u/[0-9]+$`)"),
        ("PathPrefix:/u/{id}", "PathRegexp(`^/u/[^/]+`)"),
        # v1 accepted prefixes without "/", which never match; v3 refuses them: an equivalent regexp
        ("PathPrefix:api", "PathRegexp(`^api`)"),
    ],
)
def test_v1_to_v3(v1: str, v3: str) -> None:
    result = translate(v1)
    assert result.rule.to_string("v3") == v3
    assert result.middlewares == ()
    assert result.priority == len(v1)


@pytest.mark.parametrize(
    ("v2", "v3"),
    [
        ("Host(`a.com`, `b.com`)", "Host(`a.com`) || Host(`b.com`)"),
        ("HostHeader(`a.com`)", "Host(`a.com`)"),
        ("Headers(`X-A`, `1`) && Query(`k=v`)", "Header(`X-A`, `1`) && Query(`k`, `v`)"),
        ("HostRegexp(`{sub:[a-z]+}.x.com`)", r"HostRegexp(`(?i)^[a-z]+\.x\.com$`)"),
        ("Path(`/p/{id}`)", "PathRegexp(`^/p/[^/]+$`)"),
        ("PathPrefix(`/p/{id:[0-9]+}`)", "PathRegexp(`^/p/[0-9]+`)"),
        ("!Method(`GET`, `HEAD`)", "!Method(`GET`) && !Method(`HEAD`)"),
        ("ClientIP(`10.0.0.0/8`, `::1`)", "ClientIP(`10.0.0.0/8`) || ClientIP(`::1`)"),
    ],
)
def test_v2_to_v3(v2: str, v3: str) -> None:
    result = translate(v2, syntax="v2")
    assert result.rule.to_string("v3") == v3
    assert result.priority == len(v2.encode())


def test_modifiers_become_middlewares_in_traefik_order() -> None:
    rule = "Host:a.com;ReplacePath:/r;AddPrefix:/v1;PathPrefixStrip:/api,/api/v2"
    result = translate(rule)
    assert (
        result.rule.to_string("v3")
        == "Host(`a.com`) && (PathPrefix(`/api`) || PathPrefix(`/api/v2`))"
    )
    assert result.middlewares == (
        # strip candidates longest first, as rules.go sorts them
        ("strip-prefix-1", {"stripPrefix": {"prefixes": ["/api/v2", "/api"]}}),
        ("add-prefix-1", {"addPrefix": {"prefix": "/v1"}}),
        ("replace-path-1", {"replacePath": {"path": "/r"}}),
    )
    assert result.priority == len(rule)


def test_every_modifier() -> None:
    result = translate(
        "PathStrip:/a;PathStripRegex:/a/{id};"
        "ReplacePathRegex:^/(.*) /x/$1;ReplacePath:/r;AddPrefix:/p"
    )
    assert [name for name, _ in result.middlewares] == [
        "strip-prefix-regex-1",
        "strip-prefix-1",
        "add-prefix-1",
        "replace-path-regex-1",
        "replace-path-1",
    ]
    definitions = dict(result.middlewares)
    assert definitions["strip-prefix-regex-1"] == {"stripPrefixRegex": {"regex": ["^/a/[^/]+"]}}
    assert definitions["replace-path-regex-1"] == {
        "replacePathRegex": {"regex": "^/(.*)", "replacement": "/x/$1"}
    }
    assert result.rule.to_string("v3") == "Path(`/a`) && PathRegexp(`^/a/[^/]+$`)"


def test_last_strip_of_a_rule_wins_as_in_traefik() -> None:
    result = translate("PathPrefixStrip:/a;PathPrefixStrip:/a/b")
    assert result.middlewares == (("strip-prefix-1", {"stripPrefix": {"prefixes": ["/a/b"]}}),)
    assert any("keeps only the last" in note for note in result.notes)


def test_modifiers_only_match_everything() -> None:
    result = translate("AddPrefix:/p")
    assert result.rule.to_string("v3") == "Host(`*`)"
    assert result.rule.matches(Request(host="", path="/anything"))
    assert result.notes


def test_templates_are_noted() -> None:
    result = translate("Path:/u/{id}")
    assert any("templates" in note for note in result.notes)
    assert translate("Host:a.com").notes == ()


def test_translation_of_a_parsed_rule_keeps_its_priority() -> None:
    rule = parse_rule("Host:a.com;PathPrefixStrip:/api")
    result = translate(rule)
    assert isinstance(result, Translation)
    assert result.priority == rule.priority == 31
    # the v3 text is shorter: the priority must be set explicitly on the v3 router
    assert len(result.rule.to_string("v3")) != result.priority


def test_v3_rules_translate_to_themselves() -> None:
    text = "Host(`a.com`) && PathPrefix(`/api`)"
    assert translate(text).rule == parse_rule(text)


def test_tcp_templates_become_regexps() -> None:
    rule = parse_tcp_rule("HostSNIRegexp(`{sub:[a-z]+}.a.com`)", syntax="v2")
    result = translate(rule)
    assert result.rule.to_string("v3") == r"HostSNIRegexp(`(?i)^[a-z]+\.a\.com$`)"
    assert result.rule.matches(TCPConnection(sni="www.a.com"))
    assert not result.rule.matches(TCPConnection(sni="www.b.a.com"))


def test_non_ascii_v1_host_becomes_an_equivalent_regexp() -> None:
    # v3 refuses non-ASCII HostRegexp values too, so the character is written as an RE2 escape.
    result = translate("Host:ä.com")
    text = result.rule.to_string("v3")
    assert text == r"HostRegexp(`^\x{e4}\.com$`)"
    assert parse_rule(text) == result.rule
    assert result.rule.matches(Request(host="Ä.com"))
    assert not result.rule.matches(Request(host="a.com"))
    assert result.notes


def test_non_ascii_v1_host_template_becomes_an_ascii_regexp() -> None:
    result = translate("HostRegexp:{sub:[a-zé]+}.café.fr")
    text = result.rule.to_string("v3")
    assert text.isascii() and parse_rule(text) == result.rule
    for host in ("é.café.fr", "ÉA.CAFÉ.fr"):
        assert result.rule.matches(Request(host=host))
    assert not result.rule.matches(Request(host="x.cafe.fr"))


def test_to_v3() -> None:
    assert to_v3("Host:a.com;Path:/x") == "Host(`a.com`) && Path(`/x`)"
    with pytest.raises(UnrepresentableRule, match="translate"):
        to_v3("PathPrefixStrip:/api")


def test_bad_text_raises_rule_syntax_error() -> None:
    with pytest.raises(RuleSyntaxError, match="unknown v1 function 'Hots'"):
        translate("Hots:a.com")


# -- property: the translated rule matches exactly what the original matches ---------------------

_HOSTS = ["a.com", "A.com", "b.a.com", "x.b.a.com", "*.a.com", "b.com", "ä.com"]
_HOST_TEMPLATES = ["{sub:[a-z]+}.a.com", "{s}.a.com", "a.com", "{x:a|b}.com", "{x:[A-Z]}.com"]
_PATHS = ["/", "/a", "/a/b", "/a/", "/a/{id:[0-9]+}", "/a/{id}", "a", "/a.b", "/{x:a|b}/c"]
_METHODS = ["GET", "post", "Put"]
_HEADER_NAMES = ["X-A", "x-b"]
_HEADER_VALUES = ["1", "v", "^1", "v$"]
_QUERIES = ["k=v", "k=", "id={id:[0-9]+}", "a=b=c=d", "k=w"]


def _values(options: list[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(options), min_size=1, max_size=3)


_V1_SEGMENTS = st.one_of(
    _values(_HOSTS).map(lambda v: ("Host", v)),
    _values(_HOST_TEMPLATES).map(lambda v: ("HostRegexp", v)),
    *(
        _values(_PATHS).map(lambda v, n=name: (n, v))  # type: ignore[misc]
        for name in ("Path", "PathPrefix", "PathStrip", "PathPrefixStrip")
    ),
    *(
        _values([p for p in _PATHS if p.startswith("/")]).map(lambda v, n=name: (n, v))  # type: ignore[misc]
        for name in ("PathStripRegex", "PathPrefixStripRegex")
    ),
    _values(_METHODS).map(lambda v: ("Method", v)),
    st.tuples(st.sampled_from(_HEADER_NAMES), st.sampled_from(_HEADER_VALUES)).map(
        lambda kv: ("Headers", list(kv))
    ),
    st.tuples(st.sampled_from(_HEADER_NAMES), st.sampled_from(_HEADER_VALUES)).map(
        lambda kv: ("HeadersRegexp", list(kv))
    ),
    _values(_QUERIES).map(lambda v: ("Query", v)),
    st.sampled_from(
        [
            ("AddPrefix", ["/p"]),
            ("ReplacePath", ["/r"]),
            ("ReplacePathRegex", ["^/a(.*) /b$1"]),
        ]
    ),
)


@st.composite
def v1_rules(draw: st.DrawFn) -> str:
    segments = draw(st.lists(_V1_SEGMENTS, min_size=1, max_size=4))
    space = draw(st.sampled_from(["", " "]))
    return ";".join(f"{name}:{space}{(',' + space).join(values)}" for name, values in segments)


def _call(name: str, values: list[str]) -> str:
    return f"{name}({', '.join(f'`{v}`' for v in values)})"


_V2_LEAVES = st.one_of(
    _values(["a.com", "b.a.com", "B.com"]).map(lambda v: _call("Host", v)),
    _values(["a.com"]).map(lambda v: _call("HostHeader", v)),
    _values(_HOST_TEMPLATES).map(lambda v: _call("HostRegexp", v)),
    _values([p for p in _PATHS if p.startswith("/")]).map(lambda v: _call("Path", v)),
    _values([p for p in _PATHS if p.startswith("/")]).map(lambda v: _call("PathPrefix", v)),
    _values(_METHODS).map(lambda v: _call("Method", v)),
    st.tuples(st.sampled_from(_HEADER_NAMES), st.sampled_from(_HEADER_VALUES)).map(
        lambda kv: _call("Headers", list(kv))
    ),
    st.tuples(st.sampled_from(_HEADER_NAMES), st.sampled_from(_HEADER_VALUES)).map(
        lambda kv: _call("HeadersRegexp", list(kv))
    ),
    _values(["k=v", "k=w", "a=b"]).map(lambda v: _call("Query", v)),
    _values(["10.0.0.0/8", "::1", "192.168.1.1"]).map(lambda v: _call("ClientIP", v)),
)


def v2_rules() -> st.SearchStrategy[str]:
    return st.recursive(
        _V2_LEAVES,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from([" && ", " || "]), inner).map(
                lambda t: f"({t[0]}{t[1]}{t[2]})"
            ),
            inner.map(lambda r: f"!{r}" if r.startswith("(") else f"!({r})"),
        ),
        max_leaves=5,
    )


@st.composite
def requests(draw: st.DrawFn) -> Request:
    host = draw(
        st.sampled_from(
            [
                "a.com",
                "A.COM:8080",
                "b.a.com",
                "x.b.a.com",
                "B.com",
                "a.com.",
                "ä.com",
                "",
                "1.com",
                "a.c",
            ]
        )
    )
    path = draw(
        st.sampled_from(
            [
                "/",
                "/a",
                "/a/",
                "/a/b",
                "/a/12",
                "/a/x",
                "/a/12/x",
                "/a.b",
                "/b/c",
                "/p/a",
                "a",
                "",
                "/api",
            ]
        )
    )
    method = draw(st.sampled_from(["GET", "POST", "post", "PUT"]))
    headers = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["x-a", "X-B", "x-c"]), st.sampled_from(["1", "v", "12", "v1", "x"])
            ),
            max_size=3,
        )
    )
    query = draw(
        st.sampled_from(["", "k=v", "k=", "k", "k=w", "id=12", "id=x", "a=b&c=d", "k=v&k=w"])
    )
    client_ip = draw(st.sampled_from([None, "10.1.2.3", "192.168.1.1:5000", "[::1]:80"]))
    return Request(
        method=method, host=host, path=path, query=query, headers=headers, client_ip=client_ip
    )


def _check_equivalent(text: str, syntax: str, request: Request) -> None:
    original = parse_rule(text, syntax=syntax)  # type: ignore[arg-type]
    result = translate(original)
    assert result.rule.matches(request) == original.matches(request), (text, result.rule)
    v3 = result.rule.to_string("v3")
    assert parse_rule(v3, syntax="v3") == result.rule
    assert result.priority == len(text.encode())


@settings(max_examples=400, deadline=None)
@given(v1_rules(), requests())
def test_translated_v1_rule_matches_the_same_requests(text: str, request: Request) -> None:
    _check_equivalent(text, "v1", request)


@settings(max_examples=300, deadline=None)
@given(v2_rules(), requests())
def test_translated_v2_rule_matches_the_same_requests(text: str, request: Request) -> None:
    _check_equivalent(text, "v2", request)


# -- the same properties over the shared strategies of routekit.testing ---------------------------


@settings(max_examples=300, deadline=None)
@given(testing.rules(syntax="v1"), testing.requests())
def test_shared_v1_rules_translate_exactly(rule: Rule, request: Request) -> None:
    # the v1 text of a generated rule parses back to it through the v1 parser ...
    assert parse_rule(rule.source, syntax="v1") == rule
    # ... and its translation matches the same requests
    result = translate(rule)
    assert result.rule.matches(request) == rule.matches(request), (rule.source, result.rule)
    assert parse_rule(result.rule.to_string("v3"), syntax="v3") == result.rule


@settings(max_examples=300, deadline=None)
@given(testing.rules(syntax="v2"), testing.requests())
def test_shared_v2_rules_translate_exactly(rule: Rule, request: Request) -> None:
    result = translate(rule)
    assert result.rule.matches(request) == rule.matches(request), (rule.source, result.rule)
    assert parse_rule(result.rule.to_string("v3"), syntax="v3") == result.rule


def test_translated_middlewares_follow_the_rule_rewrites_order() -> None:
    rule = parse_rule("ReplacePath:/x;AddPrefix:/p;ReplacePathRegex:^/a /b;PathPrefixStrip:/api")
    kinds = [next(iter(definition)) for _, definition in translate(rule).middlewares]
    by_node = {
        "PathPrefixStrip": "stripPrefix",
        "AddPrefix": "addPrefix",
        "ReplacePathRegex": "replacePathRegex",
        "ReplacePath": "replacePath",
    }
    assert kinds == [by_node[type(n).__name__] for n in rule.rewrites]
