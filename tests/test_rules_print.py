"""Printing rules as canonical v1, v2 and v3 text, and refusing what a syntax cannot say."""

from __future__ import annotations

import pytest

from routekit.rules import (
    AddPrefix,
    And,
    ClientIP,
    Header,
    Host,
    HostTemplate,
    Not,
    Or,
    Path,
    PathPrefix,
    PathRegexp,
    PathStrip,
    PathTemplate,
    Query,
    QueryRegexp,
    QueryTemplate,
    ReplacePathRegex,
    Rule,
    UnrepresentableRule,
    parse_rule,
)


def text(node: object, syntax: str) -> str:
    return Rule.from_expr(node).to_string(syntax)  # type: ignore[arg-type]


def test_canonical_v3_text() -> None:
    rule = parse_rule('host("A.com")&&(path(`/a`)||!METHOD(`get`))')
    assert rule.to_string() == "Host(`a.com`) && (Path(`/a`) || !Method(`GET`))"
    assert str(rule) == rule.to_string("v3")


def test_double_quotes_only_when_needed() -> None:
    assert text(Path("/a`b"), "v3") == 'Path("/a`b")'
    assert text(Path("/a\tb\n"), "v3") == 'Path("/a\\tb\\n")'
    assert text(Path("/a\x00\x7f\u200b"), "v3") == 'Path("/a\\x00\\x7f\\u200b")'
    assert text(Path('/é"'), "v3") == 'Path(`/é"`)'


def test_v2_merges_alternatives_of_one_matcher() -> None:
    node = Or((Host("a"), Host("b"), Path("/x"), Path("/y/{id}".replace("{id}", "z"))))
    assert text(node, "v2") == "Host(`a`, `b`) || Path(`/x`, `/y/z`)"
    assert text(And((Or((Host("a"), Host("b"))), Path("/"))), "v2") == (
        "Host(`a`, `b`) && Path(`/`)"
    )
    assert text(Or((Host("a"), Host("b"))), "v3") == "Host(`a`) || Host(`b`)"


def test_v2_spellings() -> None:
    assert text(Header("x-a", "1"), "v2") == "Headers(`X-A`, `1`)"
    assert text(Query("k", "v"), "v2") == "Query(`k=v`)"
    # v2 reads `k=` as "any value of k" (gorilla Queries): that is a QueryTemplate, and v3's
    # "k present with an empty value" has no v2 spelling.
    assert text(QueryTemplate("k", ""), "v2") == "Query(`k=`)"
    assert text(QueryTemplate("k", "{n:[0-9]+}"), "v1") == "Query:k={n:[0-9]+}"
    with pytest.raises(UnrepresentableRule, match="cannot express this value"):
        text(Query("k"), "v2")
    assert text(HostTemplate("{s:[a-z]+}.a.com"), "v2") == "HostRegexp(`{s:[a-z]+}.a.com`)"
    assert text(PathTemplate("/p/{id}"), "v2") == "Path(`/p/{id}`)"


def test_v1_text() -> None:
    node = And((Or((Host("a.com"), Host("b.com"))), PathPrefix("/api"), Header("X-A", "1")))
    assert text(node, "v1") == "Host:a.com,b.com;PathPrefix:/api;Headers:X-A,1"
    assert text(And((PathStrip(("/a", "/b")), AddPrefix("/p"))), "v1") == (
        "PathStrip:/a,/b;AddPrefix:/p"
    )
    assert text(ReplacePathRegex("^/api/(.*)", "/$1"), "v1") == "ReplacePathRegex:^/api/(.*) /$1"
    assert text(Query("k", "v"), "v1") == "Query:k=v"


@pytest.mark.parametrize(
    ("node", "syntax", "reason"),
    [
        (Not(Host("a")), "v1", "v1 has no negation"),
        (Or((Host("a"), Path("/"))), "v1", "only lists alternatives of one matcher"),
        (Or((Header("a", "1"), Header("b", "2"))), "v1", "only lists alternatives"),
        (ClientIP("10.0.0.1"), "v1", "v1 has no ClientIP"),
        (PathTemplate("/p/{id}"), "v3", "template"),
        (HostTemplate("{a}.com"), "v3", "template"),
        (PathRegexp("^/a"), "v2", "plain regexp"),
        (QueryRegexp("k", "v"), "v2", "plain regexp"),
        (AddPrefix("/p"), "v3", "v1 modifier"),
        (PathStrip(("/p",)), "v2", "v1 modifier"),
        (Path("/a,b"), "v1", "cannot be written in v1"),
        (Path("/a{b"), "v2", "starts a template"),
        (PathPrefix("api"), "v3", "must start with '/'"),
        (Host("bücher.de"), "v3", "punycode"),
        (Path(""), "v3", "empty"),
        (Query("k=1", "v"), "v2", "cannot write this query key"),
        (QueryTemplate("k", "{n}"), "v3", "template"),
        (Path("/\ud800"), "v3", "surrogate"),
    ],
)
def test_unrepresentable(node: object, syntax: str, reason: str) -> None:
    with pytest.raises(UnrepresentableRule, match=reason) as info:
        text(node, syntax)
    assert isinstance(info.value, ValueError)


def test_modifier_error_points_to_translate() -> None:
    with pytest.raises(UnrepresentableRule, match=r"routekit\.rules\.translate"):
        parse_rule("PathPrefixStrip:/api").to_string("v3")


def test_unknown_syntax() -> None:
    with pytest.raises(ValueError, match="syntax must be"):
        Rule.from_expr(Host("a")).to_string("v4")


@pytest.mark.parametrize(
    ("source", "syntax"),
    [
        ("Host(`a.com`) || Host(`b.com`) && !Path(`/x`)", "v3"),
        ("!(Host(`a`) || Path(`/`)) && Method(`PUT`)", "v3"),
        ("Host(`a`, `b`) && (Path(`/x`, `/y/{id:[0-9]+}`) || Method(`GET`))", "v2"),
        ("Host:a.com,b.com;PathPrefix:/api;Query:a=b", "v1"),
    ],
)
def test_printed_text_parses_back(source: str, syntax: str) -> None:
    rule = parse_rule(source, syntax=syntax)  # type: ignore[arg-type]
    assert parse_rule(rule.to_string(syntax), syntax=syntax) == rule  # type: ignore[arg-type]


def test_v1_errors_point_to_a_newer_syntax_not_to_translate() -> None:
    for text in ("!Host(`a`)", "PathRegexp(`^/a`)", "(Host(`a`) && Path(`/a`)) || Host(`b`)"):
        with pytest.raises(UnrepresentableRule) as info:
            parse_rule(text).to_string("v1")
        assert "to_string('v3')" in str(info.value)
        assert "translate" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "syntax"),
    [
        ("Host:a.com;PathPrefixStrip:/legacy", "v1"),
        ("PathPrefix:/a;ReplacePathRegex:^/a/(.*) /b/$1", "v1"),
        ("HostRegexp(`{sub:[a-z]+}.a.com`)", "v2"),
        ("HostRegexp:{sub:[a-z]+}.a.com", "v1"),
    ],
)
def test_str_of_a_rule_v3_cannot_express_is_its_own_text(text: str, syntax: str) -> None:
    rule = parse_rule(text, syntax=syntax)  # type: ignore[arg-type]
    with pytest.raises(UnrepresentableRule):
        rule.to_string("v3")
    assert str(rule) == rule.to_string(syntax)
    assert parse_rule(str(rule), syntax=syntax) == rule  # type: ignore[arg-type]


@pytest.mark.parametrize("template", ["A", r"{x:\PL+}.a.com", "{x:[A-Z]+}.a.com"])
def test_v1_refuses_a_host_template_it_would_lower_case(template: str) -> None:
    rule = parse_rule(f"HostRegexp(`{template}`)", syntax="v2")
    with pytest.raises(UnrepresentableRule, match="lower-cases"):
        rule.to_string("v1")
