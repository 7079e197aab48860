"""v1 rules (``Host:a.com;PathPrefix:/api``): Traefik 1.7's ``parseRules``, nodes, errors."""

from __future__ import annotations

from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routekit import Request, RuleSyntaxError
from routekit.rules import (
    AddPrefix,
    And,
    Header,
    HeaderRegexp,
    Host,
    HostTemplate,
    Method,
    Or,
    Path,
    PathPrefix,
    PathPrefixStrip,
    PathPrefixStripRegex,
    PathPrefixTemplate,
    PathStrip,
    PathStripRegex,
    PathTemplate,
    Query,
    QueryTemplate,
    ReplacePath,
    ReplacePathRegex,
)
from routekit.rules._regex import template_regexp
from routekit.rules._v1 import (
    V1_FUNCTIONS,
    go_trim_space,
    looks_like_v1,
    parse_v1,
    split_v1,
)

# -- the splitter: strings.FieldsFunc on ";", ":" and "," ------------------------------------------


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("Host:a.com", [("Host", ["a.com"])]),
        (
            "Host:a.com,b.com;PathPrefix:/api",
            [("Host", ["a.com", "b.com"]), ("PathPrefix", ["/api"])],
        ),
        # empty fields are dropped everywhere: trailing ";", ";;", ",,"
        ("Host:a.com;;;Path:/;", [("Host", ["a.com"]), ("Path", ["/"])]),
        ("Host:a,,b,", [("Host", ["a", "b"])]),
        # names and values are trimmed
        (
            "  Host : a.com , b.com ; Method: GET",
            [("Host", ["a.com", "b.com"]), ("Method", ["GET"])],
        ),
        # later ":" are kept in the value, but "::" collapses (FieldsFunc drops the empty field)
        ("Host:h:8080", [("Host", ["h:8080"])]),
        ("HostRegexp:{sub:[a-z]+}.x", [("HostRegexp", ["{sub:[a-z]+}.x"])]),
        ("Path:/a::b", [("Path", ["/a:b"])]),
        # a leading ":" is an empty field too, so the name is still found
        (":Host:a", [("Host", ["a"])]),
        # Go's TrimSpace does not trim U+001F, Python's str.strip would
        ("Host:a\x1f", [("Host", ["a\x1f"])]),
    ],
)
def test_split_like_traefik(rule: str, expected: list[tuple[str, list[str]]]) -> None:
    segments = split_v1(rule)
    assert [(s.name.text, [a.text for a in s.args]) for s in segments] == expected


def test_split_keeps_positions_of_values() -> None:
    rule = "Host: a.com ,b.com;Path::/x"
    segments = split_v1(rule)
    for segment in segments:
        assert rule[segment.name.position :].startswith(segment.name.text)
    assert [a.position for a in segments[0].args] == [6, 13]
    # "::" collapsed to ":" in the value; the value still points at its first character
    assert segments[1].args[0].text == "/x"
    assert rule[segments[1].args[0].position] == "/"


def test_go_trim_space() -> None:
    assert go_trim_space("\u00a0 x \t") == ("x", 2)
    assert go_trim_space("\x1cx") == ("\x1cx", 0)


# -- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "problem", "position"),
    [
        ("", "empty rule", 0),
        ("   ", "empty rule", 0),
        (";;", "empty rule", 0),
        ("Hots:a.com", "unknown v1 function 'Hots'", 0),
        ("Host:a;  Pathprefix:/x", "unknown v1 function 'Pathprefix'", 9),
        ("Host", "Host has no value", 4),
        ("Host:", "Host has no value", 5),
        ("Host:,,", "Host has no value", 7),
        ("Host:a; :::", "missing function name", 7),
        ("Host:a;:::", "missing function name", 7),
        ("Host:a, ,b", "empty value in Host", 7),
        ("Headers:X-A", "Headers takes name, value pairs", 8),
        ("Headers:X-A,1,X-B", "Headers takes name, value pairs", 14),
        ("Query:a=b,/x", "Query takes key=value pairs", 10),
        ("Query:a=b=c", "Query takes key=value pairs", 10),
        ("AddPrefix:/a,/b", "AddPrefix takes one value, got 2", 13),
        ("ReplacePathRegex:^/a", "separated by one space", 17),
        ("ReplacePathRegex:^/a /b /c", "separated by one space", 17),
        ("HostRegexp:{sub", "invalid value in HostRegexp", 11),
        ("HeadersRegexp:X-A,(a", "invalid value in HeadersRegexp", 18),
        ("Query:{k}=v", "template in a Query key", 6),
    ],
)
def test_errors_name_the_problem_and_point_at_it(rule: str, problem: str, position: int) -> None:
    with pytest.raises(RuleSyntaxError) as info:
        parse_v1(rule)
    assert problem in info.value.problem
    assert info.value.position == position
    assert info.value.rule == rule
    lines = str(info.value).splitlines()
    assert lines[1] == "  " + rule.replace("\x00", "\\x00")
    assert lines[2].index("^") == 2 + position


def test_unknown_function_hints() -> None:
    with pytest.raises(RuleSyntaxError) as info:
        parse_v1("pathPrefix:/api")
    assert info.value.hint == "did you mean 'PathPrefix'? (v1 function names are case-sensitive)"
    with pytest.raises(RuleSyntaxError) as info:
        parse_v1("Host(`a.com`)")
    assert info.value.hint is not None and "v2/v3 rule" in info.value.hint
    with pytest.raises(RuleSyntaxError) as info:
        parse_v1("Frobnicate:x")
    assert info.value.hint is not None and info.value.hint.startswith("v1 functions: Host, ")


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list(":;,= {}()[]\\/.*+?|^$ab\tHostPathQuery=")), max_size=40)
)
def test_only_rule_syntax_errors_escape_on_symbol_soup(text: str) -> None:
    try:
        parse_v1(text)
    except RuleSyntaxError as exc:
        assert 0 <= exc.position <= len(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_only_rule_syntax_errors_escape_on_any_text(text: str) -> None:
    try:
        parse_v1(text)
    except RuleSyntaxError as exc:
        assert exc.rule == text


_WORDS = st.sampled_from([*V1_FUNCTIONS, "Nope", "host", ""])
_VALUES = st.text(alphabet=st.sampled_from(list("ab/.{}[]:=*+?()| \\^$-09,")), max_size=12)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(_WORDS, st.lists(_VALUES, max_size=4)), max_size=4), st.text(max_size=6))
def test_only_rule_syntax_errors_escape_on_rule_shaped_text(
    segments: list[tuple[str, list[str]]], junk: str
) -> None:
    text = ";".join(f"{name}:{','.join(values)}" for name, values in segments) + junk
    try:
        parse_v1(text)
    except RuleSyntaxError as exc:
        assert 0 <= exc.position <= len(text)


# -- nodes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "tree"),
    [
        ("Host:A.com,b.com", Or((Host("a.com"), Host("b.com")))),
        # HostRegexp: types.CanonicalDomain lower-cases the whole template
        ("HostRegexp:{sub:[A-Z]+}.X.com", HostTemplate("{sub:[a-z]+}.x.com")),
        ("HostRegexp:a.com", HostTemplate("a.com")),
        ("Path:/a,/b/{id:[0-9]+}", Or((Path("/a"), PathTemplate("/b/{id:[0-9]+}")))),
        ("PathPrefix:/a,/b/{id}", Or((PathPrefix("/a"), PathPrefixTemplate("/b/{id}")))),
        ("PathStrip:/a,/b", PathStrip(("/a", "/b"))),
        ("PathPrefixStrip:/a", PathPrefixStrip(("/a",))),
        ("PathStripRegex:/a/{id}", PathStripRegex(("/a/{id}",))),
        ("PathPrefixStripRegex:/a/{id}", PathPrefixStripRegex(("/a/{id}",))),
        ("Method:get,POST", Or((Method("GET"), Method("POST")))),
        ("Headers:X-A,1,x-b,2", And((Header("X-A", "1"), Header("X-B", "2")))),
        # gorilla keeps header pairs in a map: a repeated name keeps its last value
        ("Headers:X-A,1,X-A,2", Header("X-A", "2")),
        ("HeadersRegexp:X-A,^v[0-9]", HeaderRegexp("X-A", "^v[0-9]")),
        ("Query:a=1,b=2", And((Query("a", "1"), Query("b", "2")))),
        # split on every "=": a=b=c=d is two pairs
        ("Query:a=b=c=d", And((Query("a", "b"), Query("c", "d")))),
        # gorilla: an empty value matches any value of a present key
        ("Query:k=", QueryTemplate("k", "")),
        ("Query:id={id:[0-9]+}", QueryTemplate("id", "{id:[0-9]+}")),
        ("AddPrefix:/p", AddPrefix("/p")),
        ("ReplacePath:/r", ReplacePath("/r")),
        ("ReplacePathRegex: ^/api/(.*) /$1", ReplacePathRegex("^/api/(.*)", "/$1")),
        (
            "Host:a.com;PathPrefixStrip:/api;AddPrefix:/v1",
            And((Host("a.com"), PathPrefixStrip(("/api",)), AddPrefix("/v1"))),
        ),
    ],
)
def test_nodes(rule: str, tree: object) -> None:
    assert parse_v1(rule) == tree


def _get(path: str = "/", host: str = "a.com", **kw: object) -> Request:
    return Request(host=host, path=path, **kw)  # type: ignore[arg-type]


def test_matching_follows_traefik_1_7() -> None:
    # Host: port stripped, case-insensitive
    assert parse_v1("Host:A.com").matches(_get(host="a.COM:8080"))
    # PathPrefix without "{" is a raw prefix: /api matches /apiary ...
    assert parse_v1("PathPrefix:/api").matches(_get("/apiary"))
    # ... and a value without "/" is accepted but never matches
    assert not parse_v1("PathPrefix:api").matches(_get("/api"))
    # templates
    rule = parse_v1("Path:/user/{id:[0-9]+}")
    assert rule.matches(_get("/user/42"))
    assert not rule.matches(_get("/user/42/x"))
    assert parse_v1("PathPrefix:/user/{id:[0-9]+}").matches(_get("/user/42/x"))
    assert parse_v1("HostRegexp:{sub:[a-z]+}.a.com").matches(_get(host="WWW.a.com"))
    # ";" is and, "," is or
    rule = parse_v1("Host:a.com,b.com;Method:GET")
    assert rule.matches(_get(host="b.com"))
    assert not rule.matches(_get(host="b.com", method="POST"))
    # Headers: "," separates name and value, not alternatives
    rule = parse_v1("Headers:X-Env,prod")
    assert rule.matches(_get(headers={"x-env": "prod"}))
    assert not rule.matches(_get(headers={"x-env": "dev"}))
    # Query
    rule = parse_v1("Query:k=v,id={id:[0-9]+}")
    assert rule.matches(_get(query="k=v&id=12"))
    assert not rule.matches(_get(query="k=v&id=x"))
    assert parse_v1("Query:k=").matches(_get(query="k=anything"))


def test_modifiers_never_affect_matching() -> None:
    rule = parse_v1("AddPrefix:/p;ReplacePath:/r;ReplacePathRegex:^/(.*) /x/$1")
    assert rule.matches(_get("/anything", host=""))
    rule = parse_v1("PathPrefixStrip:/api")
    assert rule.matches(_get("/api/x"))
    assert not rule.matches(_get("/web"))


# -- detection for parse_rule(syntax="auto") ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "v1"),
    [
        ("Host:a.com", True),
        ("  PathPrefixStrip : /api", True),
        ("Host:a.com;Path:/x", True),
        (";Host:a", True),
        ("host:a.com", True),  # not a v1 name, but the v1 parser explains why
        ("Hots:a.com", True),
        ("Host(`a.com`)", False),
        ("Host(`a:b`)", False),
        ("PathPrefix(`/a;Host:x`)", False),
        ("Path(`/a`) && Host(`b:c`)", False),
        ("Foo:bar", False),
        ("", False),
        ("Host", False),
    ],
)
def test_looks_like_v1(text: str, v1: bool) -> None:
    assert looks_like_v1(text) is v1


# -- templates as regexps -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "kind", "regexp"),
    [
        ("{sub:[a-z]+}.a.com", "host", r"[a-z]+\.a\.com"),
        ("{sub}.a.com", "host", r"[^.]+\.a\.com"),
        ("/a/{id}", "path", "/a/[^/]+"),
        ("/a/{x:a|b}/c.d", "path", r"/a/(?:a|b)/c\.d"),
        ("/{x:(?:a)}+", "path", r"/(?:(?:a))\+"),
        ("{v}", "query", ".*"),
    ],
)
def test_template_regexp(
    template: str, kind: Literal["path", "host", "query"], regexp: str
) -> None:
    assert template_regexp(template, kind=kind) == regexp


def test_bare_host_template_variable_is_one_label() -> None:
    # gorilla/mux newRouteRegexp: in a host template "{name}" stands for "[^.]+" (one label),
    # not the path default "[^/]+".
    rule = parse_v1("HostRegexp:{sub}.a.com")
    assert rule.matches(_get(host="x.a.com"))
    assert not rule.matches(_get(host="x.b.a.com"))


def test_lone_surrogate_is_a_syntax_error() -> None:
    with pytest.raises(RuleSyntaxError) as info:
        parse_v1("Host:a\ud800")
    assert info.value.position == 6
    assert "lone surrogate" in info.value.problem
