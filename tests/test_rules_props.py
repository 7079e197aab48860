"""Properties of the rule language, checked with hypothesis."""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from routekit import Request, RuleSyntaxError
from routekit.rules import (
    Rule,
    UnrepresentableRule,
    parse_rule,
    parse_tcp_rule,
)
from routekit.testing import requests, rules

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SYNTAXES = st.sampled_from(["auto", "v1", "v2", "v3"])


def _parse(text: str, syntax: str) -> Rule:
    if syntax == "tcp":
        return parse_tcp_rule(text, syntax="v3")
    return parse_rule(text, syntax=syntax)  # type: ignore[arg-type]


@SETTINGS
@given(
    st.sampled_from(["v3", "v2", "v1", "tcp"]).flatmap(lambda s: st.tuples(st.just(s), rules(s)))
)
def test_parse_of_print_is_identity(case: tuple[str, Rule]) -> None:
    syntax, rule = case
    printed = "v3" if syntax == "tcp" else syntax
    text = rule.to_string(printed)
    assert _parse(text, syntax) == rule
    assert rule.to_string(printed) == text  # printing is deterministic


@SETTINGS
@given(rules("v3"))
def test_v3_rules_print_in_v3_and_str_is_v3(rule: Rule) -> None:
    assert str(rule) == rule.to_string("v3")
    assert parse_rule(str(rule)) == rule


@SETTINGS
@given(st.sampled_from(["v1", "v2", "v3"]).flatmap(rules))
def test_str_of_any_rule_parses_back_as_v3_or_in_its_own_syntax(rule: Rule) -> None:
    try:
        syntax = "v3" if rule.to_string("v3") else rule.syntax
    except UnrepresentableRule:
        syntax = rule.syntax
    assert parse_rule(str(rule), syntax=syntax) == rule  # type: ignore[arg-type]


@SETTINGS
@given(rules("v2"), st.sampled_from(["v1", "v3"]))
def test_printing_elsewhere_either_round_trips_or_refuses_clearly(rule: Rule, syntax: str) -> None:
    try:
        text = rule.to_string(syntax)
    except UnrepresentableRule as exc:
        assert str(exc)
        return
    assert parse_rule(text, syntax=syntax) == rule  # type: ignore[arg-type]


@settings(max_examples=500, deadline=None)
@given(st.text(), SYNTAXES)
def test_arbitrary_text_raises_only_rule_syntax_error(text: str, syntax: str) -> None:
    try:
        rule = parse_rule(text, syntax=syntax)  # type: ignore[arg-type]
    except RuleSyntaxError as exc:
        assert 0 <= exc.position <= len(text)
        assert "^" in str(exc)
    else:
        assert isinstance(rule, Rule)


_ALPHABET = st.sampled_from([*"()`\"'\\!&|,:;= {}[]*.^$/aHPQ", "&&", "||", "Host", "Path"])


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str]:
    syntax = draw(st.sampled_from(["v1", "v2", "v3"]))
    text = draw(rules(syntax)).source
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(_ALPHABET)
        if action == "insert":
            text = text[:i] + piece + text[i:]
        elif action == "delete":
            text = text[:i] + text[i + 1 :]
        else:
            text = text[:i] + piece + text[i + 1 :]
    return syntax, text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), SYNTAXES)
def test_mutated_rules_raise_only_rule_syntax_error(case: tuple[str, str], syntax: str) -> None:
    _, text = case
    try:
        parse_rule(text, syntax=syntax)  # type: ignore[arg-type]
    except RuleSyntaxError as exc:
        assert 0 <= exc.position <= len(text)


@settings(max_examples=300, deadline=None)
@given(st.text(), st.sampled_from(["auto", "v2", "v3"]))
def test_arbitrary_tcp_text_raises_only_rule_syntax_error(text: str, syntax: str) -> None:
    try:
        rule = parse_tcp_rule(text, syntax=syntax)  # type: ignore[arg-type]
    except RuleSyntaxError as exc:
        assert 0 <= exc.position <= len(text)
    else:
        assert isinstance(rule, Rule)


@SETTINGS
@given(rules("v3"), requests())
def test_negation_inverts_matching(rule: Rule, request: Request) -> None:
    negated = parse_rule(f"!({rule.to_string('v3')})")
    assert negated.matches(request) is not rule.matches(request)


@SETTINGS
@given(st.sampled_from(["v3", "v2", "v1"]).flatmap(rules), requests())
def test_explain_is_empty_exactly_when_the_rule_matches(rule: Rule, request: Request) -> None:
    failing = rule.explain(request)
    assert (failing == ()) is rule.matches(request)
    assert all(not node.matches(request) for node in failing)
    assert (rule.params(request) is None) is (not rule.matches(request))


def test_generated_rules_and_requests_collide() -> None:
    # A property of the strategies: pairs that match and pairs that do not both exist within a
    # short search, otherwise properties about matching would be vacuous.
    pairs = st.tuples(st.sampled_from(["v3", "v2", "v1"]).flatmap(rules), requests())
    settings_ = settings(max_examples=200, database=None, phases=[Phase.generate])
    hit = find(pairs, lambda p: p[0].matches(p[1]), settings=settings_)
    miss = find(pairs, lambda p: not p[0].matches(p[1]), settings=settings_)
    assert hit[0].matches(hit[1]) and not miss[0].matches(miss[1])
