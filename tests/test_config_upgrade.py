"""`upgrade_rules`: v1/v2 router rules written in v3, matching what they matched."""

from __future__ import annotations

from routekit import Request
from routekit.config import (
    Configuration,
    HTTPConfiguration,
    Router,
    TCPConfiguration,
    TCPRouter,
    upgrade_rules,
    validate,
)
from routekit.rules import parse_rule


def _http(**routers: Router) -> Configuration:
    return Configuration(http=HTTPConfiguration(routers=routers))


def test_v1_modifiers_become_middlewares_before_the_routers_own() -> None:
    rule = "Host:a.com;PathPrefixStrip:/api"
    config = _http(r=Router(rule=rule, service="s", rule_syntax="v1", middlewares=("auth",)))
    upgraded, problems = upgrade_rules(config)
    assert problems == ()
    router = upgraded.http.routers["r"]
    assert router.rule == "Host(`a.com`) && PathPrefix(`/api`)"
    assert router.rule_syntax is None
    assert router.priority == len(rule)
    assert router.middlewares == ("r-stripprefix", "auth")
    assert upgraded.http.middlewares["r-stripprefix"].prefixes == ("/api",)  # type: ignore[union-attr]


def test_an_explicit_priority_is_kept_and_an_unchanged_length_is_not_written() -> None:
    config = _http(
        a=Router(rule="Host(`a.com`, `b.com`)", rule_syntax="v2", priority=7),
        b=Router(rule="Path(`/x`)", rule_syntax="v2"),
    )
    upgraded, _ = upgrade_rules(config)
    assert upgraded.http.routers["a"].priority == 7
    assert upgraded.http.routers["b"] == Router(rule="Path(`/x`)")


def test_the_translation_matches_the_same_requests() -> None:
    old = "HostRegexp(`{sub:[a-z]+}.a.com`) && Path(`/x`)"
    upgraded, problems = upgrade_rules(_http(r=Router(rule=old)), default_syntax="v2")
    assert [p.severity for p in problems] == ["warning"]  # the template variable is not captured
    new = parse_rule(upgraded.http.routers["r"].rule)
    before = parse_rule(old, syntax="v2")
    for host in ("api.a.com", "API.a.com", "a.com", "x.y.a.com"):
        request = Request(host=host, path="/x")
        assert new.matches(request) == before.matches(request)


def test_routers_without_a_syntax_are_v3_unless_a_default_is_given() -> None:
    config = _http(r=Router(rule="Host(`a.com`)"))
    assert upgrade_rules(config) == (config, ())


def test_what_cannot_be_translated_is_reported_and_kept_in_its_syntax() -> None:
    config = Configuration(
        http=HTTPConfiguration(routers={"bad": Router(rule="Path:/é\udcff", rule_syntax="v1")}),
        tcp=TCPConfiguration(routers={"t": TCPRouter(rule="HostSNI(`a.com`)", rule_syntax="v1")}),
    )
    upgraded, problems = upgrade_rules(config, source="conf.toml")
    assert {p.path for p in problems} >= {"tcp.routers.t.rule"}
    assert all(p.source == "conf.toml" and p.severity == "error" for p in problems)
    assert upgraded.tcp.routers["t"].rule_syntax == "v1"
    # A rule that does not parse is left to validation, which reports it in its own words.
    assert upgraded.http.routers["bad"] == config.http.routers["bad"]
    assert validate(upgraded).errors


def test_a_default_syntax_that_fails_becomes_explicit() -> None:
    config = Configuration(tcp=TCPConfiguration(routers={"t": TCPRouter(rule="HostSNI(`a`)")}))
    upgraded, problems = upgrade_rules(config, default_syntax="v1")
    assert "v1 has no TCP routers" in problems[0].message
    assert upgraded.tcp.routers["t"].rule_syntax == "v1"
