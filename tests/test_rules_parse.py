"""Parsing v2/v3 rules: grammar, matcher tables, values, and the errors users see."""

from __future__ import annotations

import pickle

import pytest

from routekit import Request, RuleSyntaxError
from routekit.config import reads_config
from routekit.rules import (
    ALPN,
    And,
    ClientIP,
    Header,
    HeaderRegexp,
    Host,
    HostRegexp,
    HostSNI,
    HostSNITemplate,
    HostTemplate,
    Method,
    Not,
    Or,
    Path,
    PathPrefix,
    PathPrefixTemplate,
    PathRegexp,
    PathTemplate,
    Query,
    QueryRegexp,
    QueryTemplate,
    Rule,
    parse_rule,
    parse_tcp_rule,
)


def expr(text: str, syntax: str = "v3") -> object:
    return parse_rule(text, syntax=syntax).expr  # type: ignore[arg-type]


def error(text: str, syntax: str = "v3") -> RuleSyntaxError:
    with pytest.raises(RuleSyntaxError) as info:
        parse_rule(text, syntax=syntax)  # type: ignore[arg-type]
    return info.value


# -- grammar -------------------------------------------------------------------------------------


def test_and_binds_tighter_than_or() -> None:
    assert expr("Host(`a`) || Host(`b`) && Path(`/`)") == Or(
        (Host("a"), And((Host("b"), Path("/"))))
    )
    assert expr("(Host(`a`) || Host(`b`)) && Path(`/`)") == And(
        (Or((Host("a"), Host("b"))), Path("/"))
    )


def test_and_or_are_flattened() -> None:
    assert expr("Host(`a`) && (Path(`/`) && Method(`GET`))") == And(
        (Host("a"), Path("/"), Method("GET"))
    )
    assert expr("((Host(`a`)))") == Host("a")


def test_negation_is_pushed_to_the_leaves() -> None:
    assert expr("!(Host(`a`) && Path(`/b`))") == Or((Not(Host("a")), Not(Path("/b"))))
    assert expr("!(Host(`a`) || !Path(`/b`))") == And((Not(Host("a")), Path("/b")))
    assert expr("!!Host(`a`)") == Host("a")


def test_backticks_and_double_quotes_with_go_escapes() -> None:
    assert expr('Path("/a\\tb")') == Path("/a\tb")
    assert expr('Path("/\\x41\\u00e9\\101\\U0001F600\\"\\\\")') == Path('/AéA😀"\\')
    assert expr("Path(`/a\\tb`)") == Path("/a\\tb")  # no escapes in raw strings


def test_raw_strings_drop_carriage_returns_like_go() -> None:
    assert expr("Path(`/a\rb`)") == Path("/ab")


def test_trailing_comma_is_accepted_as_in_go() -> None:
    assert expr("Host(`a.com`,)") == Host("a.com")


@pytest.mark.parametrize("name", ["PathPrefix", "pathprefix", "PATHPREFIX", "Pathprefix"])
def test_the_four_spellings_of_a_matcher(name: str) -> None:
    assert expr(f"{name}(`/api`)") == PathPrefix("/api")


def test_other_spellings_are_unknown_with_a_hint() -> None:
    err = error("pathPrefix(`/api`)")
    assert err.problem == "unknown matcher 'pathPrefix'"
    assert err.position == 0
    assert err.hint is not None and "PathPrefix, pathprefix, PATHPREFIX, Pathprefix" in err.hint


# -- errors --------------------------------------------------------------------------------------


def test_error_shows_rule_and_caret() -> None:
    err = error("Host(`a`) && Path(`b`)")
    assert err.position == 19  # under the value's first character
    assert str(err).splitlines()[1:3] == ["  Host(`a`) && Path(`b`)", "                     ^"]
    assert err.hint == "write Path(`/b`)"


def test_v3_host_takes_one_value_with_traefik_message_and_hint() -> None:
    err = error("Host(`a.com`, `b.com`)")
    assert err.problem == "unexpected number of parameters; got 2, expected one of [1]"
    assert err.hint == (
        "Host takes one domain in v3: use Host(`a.com`) || Host(`b.com`), or the v2 syntax"
    )
    assert err.syntax == "v2" and err.position == 14


def test_query_arity_is_one_or_two() -> None:
    assert error("Query(`a`, `b`, `c`)").problem.endswith("expected one of [1 2]")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty rule"),
        ("   ", "empty rule"),
        ("Host()", "Host has no value"),
        ("Host(``)", "empty value in Host"),
        ("Host('a')", "single-quoted strings are not allowed"),
        ("Host(example.com)", "values must be quoted strings, not 'example.com'"),
        ("Host(`a`", "expected ',' or ')' but found end of rule"),
        ("Host(`a`) Path(`/`)", "unexpected name 'Path'"),
        ("Host(`a`) & Path(`/`)", "unexpected '&'"),
        ("Host(`a) ", "string literal not terminated"),
        ('Host("a\\q")', "unknown escape sequence \\q"),
        ('Host("\\xZZ")', "invalid \\x escape: want two hex digits"),
        ('Host("\\ud800")', "escape sequence is an invalid Unicode code point"),
        ('Path("/\\xff")', "byte escapes do not form valid UTF-8"),
        ("Foo(`a`)", "unknown matcher 'Foo'"),
        ("&& Host(`a`)", "expected a matcher but found '&&'"),
        ("Host", "expected '(' after Host but found end of rule"),
        ("Host(`a`) && ", "expected a matcher but found end of rule"),
    ],
)
def test_malformed_rules(text: str, problem: str) -> None:
    assert error(text).problem == problem


def test_non_ascii_host_is_rejected_with_punycode_hint() -> None:
    err = error("Host(`bücher.example`)")
    assert err.problem == "non-ASCII characters are not allowed in Host"
    assert err.position == 7
    assert err.hint == "write it in punycode: xn--bcher-kva.example"


@pytest.mark.parametrize("syntax", ["v2", "v3"])
def test_non_ascii_host_regexp_is_rejected(syntax: str) -> None:
    # Traefik refuses it in both syntaxes (hostRegexp and hostRegexpV2); escapes stay allowed.
    with pytest.raises(RuleSyntaxError) as info:
        parse_rule("HostRegexp(`locàlhost`)", syntax=syntax)  # type: ignore[arg-type]
    assert info.value.problem == "non-ASCII characters are not allowed in HostRegexp"
    assert info.value.position == 15
    assert parse_rule(r"HostRegexp(`loc\x{e0}lhost`)").matches(Request(host="locàlhost"))


def test_v3_paths_must_start_with_slash() -> None:
    assert error("PathPrefix(`api`)").problem == "PathPrefix value must start with '/'"
    assert expr("PathRegexp(`api`)") == PathRegexp("api")  # PathRegexp need not


def test_client_ip_values_must_be_ips_or_cidrs() -> None:
    assert expr("ClientIP(`10.0.0.1/8`)") == ClientIP("10.0.0.0/8")
    assert expr("ClientIP(`::1`)") == ClientIP("::1")
    err = error("ClientIP(`10.0.0.300`)")
    assert err.problem.startswith("invalid value for ClientIP")
    assert err.position == 10


def test_regexp_errors_point_inside_the_pattern() -> None:
    err = error("HostRegexp(`a(b`)")
    assert err.problem.startswith("invalid value for HostRegexp")
    assert 12 <= err.position <= 15


def test_v2_names_in_v3_get_a_hint() -> None:
    err = error("Headers(`a`, `b`)")
    assert err.hint is not None and "Header(`name`, `value`)" in err.hint


def test_v1_text_in_v3_gets_a_hint() -> None:
    err = error("Host:a.com", "v3")
    assert err.hint == "this looks like a v1 rule (Name:value)" and err.syntax == "v1"
    assert 'hint: this looks like a v1 rule (Name:value) (parse_rule(..., syntax="v1"))' in str(err)


def test_hints_to_use_the_other_syntax_speak_python_here_and_toml_in_files() -> None:
    err = error("Headers(`a`, `b`)")
    assert err.syntax == "v2" and str(err).endswith('(parse_rule(..., syntax="v2"))')
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and again.syntax == "v2"
    text = '[http.routers.r]\nrule = "Headers(`a`, `b`)"\nservice = "s"\n'
    (problem, *_) = reads_config(text).problems
    assert problem.hint is not None and problem.hint.endswith(
        'Headers is v2 syntax; set the router\'s ruleSyntax to "v2"'
    )
    assert "parse_rule" not in str(problem)


@pytest.mark.parametrize(
    ("rule", "protocol", "message"),
    [
        ("HostSNI(`a.com`)", "http", "HostSNI is a TCP matcher, not an HTTP one"),
        ("Host(`a`) && HostSNIRegexp(`a`)", "http", "HostSNIRegexp is a TCP matcher"),
        ("ALPN(`h2`)", "http", "ALPN is a TCP matcher, not an HTTP one"),
        ("PathPrefix(`/`)", "tcp", "PathPrefix is an HTTP matcher, not a TCP one"),
    ],
)
def test_a_matcher_of_the_other_protocol_is_named_as_such(
    rule: str, protocol: str, message: str
) -> None:
    parse = parse_rule if protocol == "http" else parse_tcp_rule
    with pytest.raises(RuleSyntaxError) as info:
        parse(rule)
    assert info.value.problem.startswith(message)
    assert info.value.hint is not None and "did you mean" not in info.value.hint


def test_nesting_depth_is_limited_with_a_clear_error() -> None:
    err = error("(" * 500 + "Host(`a`)" + ")" * 500)
    assert err.problem == "rule nests too deeply (more than 100 levels)"
    err = error("!" * 5000 + "Host(`a`)")
    assert "nests too deeply" in err.problem
    assert expr("(" * 50 + "Host(`a`)" + ")" * 50) == Host("a")


def test_long_flat_rules_do_not_recurse() -> None:
    text = " && ".join(f"Path(`/{i}`)" for i in range(1000))
    node = expr(text)
    assert isinstance(node, And) and len(node.children) == 1000


# -- v3 matchers ---------------------------------------------------------------------------------


def test_v3_matchers() -> None:
    assert expr("Host(`Example.COM.`)") == Host("example.com")
    assert expr("HostRegexp(`^[a-z]+\\.com$`)") == HostRegexp("^[a-z]+\\.com$")
    assert expr("Method(`get`)") == Method("GET")
    assert expr("Header(`content-type`, `json`)") == Header("Content-Type", "json")
    assert expr("HeaderRegexp(`X-A`, `^a`)") == HeaderRegexp("X-A", "^a")
    assert expr("Query(`k`)") == Query("k", "")
    assert expr("Query(`k`, `v`)") == Query("k", "v")
    assert expr("QueryRegexp(`k`, `^v`)") == QueryRegexp("k", "^v")
    assert expr("QueryRegexp(`k`)") == Query("k")  # one argument behaves as Query(`k`)
    assert expr("PathRegexp(`^/a/[0-9]+$`)") == PathRegexp("^/a/[0-9]+$")


def test_v3_has_no_v2_matchers() -> None:
    for text in ("HostHeader(`a`)", "Headers(`a`, `b`)", "HeadersRegexp(`a`, `b`)"):
        assert error(text).problem.startswith("unknown matcher")


# -- v2 ------------------------------------------------------------------------------------------


def test_v2_multi_values_are_or() -> None:
    assert expr("Host(`a`, `b`)", "v2") == Or((Host("a"), Host("b")))
    assert expr("HostHeader(`a`)", "v2") == Host("a")
    assert expr("Method(`GET`, `post`)", "v2") == Or((Method("GET"), Method("POST")))
    assert expr("ClientIP(`10.0.0.1`, `::1`)", "v2") == Or((ClientIP("10.0.0.1"), ClientIP("::1")))


def test_v2_header_pairs_and_query_pairs_all_match() -> None:
    assert expr("Headers(`a`, `1`, `b`, `2`)", "v2") == And((Header("A", "1"), Header("B", "2")))
    assert expr("HeadersRegexp(`a`, `^1`)", "v2") == HeaderRegexp("A", "^1")
    # gorilla/mux Queries: an empty value means "any value", a value with "{" is a template.
    assert expr("Query(`a=1`, `b=x=y`, `c=`, `d={n:[0-9]+}`)", "v2") == And(
        (
            Query("a", "1"),
            Query("b", "x=y"),
            QueryTemplate("c", ""),
            QueryTemplate("d", "{n:[0-9]+}"),
        )
    )
    # gorilla keeps header pairs in a map: a repeated name keeps its last value.
    assert expr("Headers(`X`, `1`, `Y`, `2`, `X`, `3`)", "v2") == And(
        (Header("Y", "2"), Header("X", "3"))
    )
    assert (
        error("Headers(`a`, `1`, `b`)", "v2").problem
        == "Headers takes name/value pairs; got 3 values"
    )
    assert error("Query(`a`)", "v2").problem == "v2 Query values are key=value"
    # Traefik's own v2 tests: a malformed template is an error, the caret inside the value.
    err = error("Query(`titi={te:[st}`)", "v2")
    assert err.problem.startswith("invalid value for Query") and err.position == 16
    assert error("Query(`{k}=1`)", "v2").problem == "a template in a Query key is not supported"


def test_v2_templates() -> None:
    assert expr("HostRegexp(`{sub:[a-z]+}.a.com`)", "v2") == HostTemplate("{sub:[a-z]+}.a.com")
    assert expr("Path(`/p/{id:[0-9]+}`)", "v2") == PathTemplate("/p/{id:[0-9]+}")
    assert expr("Path(`/p`)", "v2") == Path("/p")
    assert expr("PathPrefix(`/p/{id}`)", "v2") == PathPrefixTemplate("/p/{id}")
    assert expr("PathPrefix(`/p`)", "v2") == PathPrefix("/p")
    assert error("Path(`/p/{id`)", "v2").problem.startswith("invalid value for Path")


def test_v2_does_not_know_v3_matchers() -> None:
    assert error("PathRegexp(`/a`)", "v2").problem == "unknown matcher 'PathRegexp'"
    assert error("Header(`a`, `b`)", "v2").problem == "unknown matcher 'Header'"


# -- auto, TCP, Rule -----------------------------------------------------------------------------


def test_auto_detects_v1_and_defaults_to_v3() -> None:
    rule = parse_rule("Host:a.com;PathPrefix:/api")
    assert rule.syntax == "v1"
    assert rule.expr == And((Host("a.com"), PathPrefix("/api")))
    assert parse_rule("Host(`a.com`)").syntax == "v3"
    with pytest.raises(RuleSyntaxError):
        parse_rule("Host(`a.com`, `b.com`)")  # auto never means v2


def test_tcp_rules() -> None:
    assert parse_tcp_rule("HostSNI(`A.com`) && ALPN(`h2`)").expr == And(
        (HostSNI("a.com"), ALPN("h2"))
    )
    assert parse_tcp_rule("HostSNIRegexp(`{x:[a-z]+}.com`)", syntax="v2").expr == (
        HostSNITemplate("{x:[a-z]+}.com")
    )
    assert parse_tcp_rule("HostSNI(`a`, `b`)", syntax="v2").expr == Or((HostSNI("a"), HostSNI("b")))
    with pytest.raises(RuleSyntaxError, match="acme-tls/1"):
        parse_tcp_rule("ALPN(`acme-tls/1`)")
    with pytest.raises(RuleSyntaxError, match="Host is an HTTP matcher, not a TCP one"):
        parse_tcp_rule("Host(`a`)")


def test_tcp_catch_all_has_priority_minus_one() -> None:
    # Traefik's TCP GetRulePriority: exactly HostSNI(`*`), whatever the spelling or spacing.
    for text in ("HostSNI(`*`)", 'hostsni( "*" )', "HOSTSNI(`*`)"):
        assert parse_tcp_rule(text).priority == -1
    assert parse_tcp_rule("HostSNI(`*`)", syntax="v2").priority == -1
    assert parse_tcp_rule("HostSNI(`*`) && ALPN(`h2`)").priority == 26
    assert parse_tcp_rule("HostSNIRegexp(`.*`)").priority == 19  # not a catch-all
    assert parse_rule("Host(`*`)").priority == 9  # HTTP rules keep their length


def test_rule_keeps_source_and_priority() -> None:
    rule = parse_rule("Host(`example.org`)")
    assert rule.source == "Host(`example.org`)"
    assert rule.priority == 19
    assert parse_rule("Host( `example.org` )").priority == 21
    assert parse_rule("Host( `example.org` )") == rule
    assert Rule.from_expr(Host("example.org")) == rule
    assert Rule.from_expr(Host("example.org")).source == "Host(`example.org`)"


def test_bad_arguments_to_parse_rule_are_programming_errors() -> None:
    with pytest.raises(ValueError, match="syntax must be one of"):
        parse_rule("Host(`a`)", syntax="v4")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        parse_rule(b"Host(`a`)")  # type: ignore[arg-type]


def test_rules_have_explicit_length_and_matcher_limits() -> None:
    from routekit.rules import MAX_MATCHERS, MAX_RULE_LENGTH

    long = "Host(`" + "a" * MAX_RULE_LENGTH + "`)"
    with pytest.raises(RuleSyntaxError, match=f"more than {MAX_RULE_LENGTH}") as info:
        parse_rule(long)
    assert len(str(info.value)) < 400  # a window around the fault, not the whole rule
    many = " || ".join(f"Host(`h{i}.com`)" for i in range(MAX_MATCHERS + 1))
    for text, syntax in ((many, "v3"), (";".join(["Host:a.com"] * 1001), "v1")):
        with pytest.raises(RuleSyntaxError, match=f"more than {MAX_MATCHERS}"):
            parse_rule(text, syntax=syntax)  # type: ignore[arg-type]
    with pytest.raises(RuleSyntaxError, match=f"more than {MAX_MATCHERS}"):
        parse_tcp_rule(" || ".join(f"HostSNI(`h{i}.com`)" for i in range(MAX_MATCHERS + 1)))
    assert parse_rule(" || ".join(f"Host(`h{i}.com`)" for i in range(MAX_MATCHERS)))


def test_an_error_deep_in_a_long_rule_shows_a_window_with_the_caret_under_the_fault() -> None:
    rule = "Host(`a`) && " * 30 + "Hots(`b`)"
    err = error(rule)
    _, shown, caret = str(err).splitlines()[:3]
    assert shown.startswith("  …") and shown.endswith("Hots(`b`)")
    assert shown[caret.index("^") :].startswith("Hots")


def test_parsed_rules_are_cached_by_text_syntax_and_protocol() -> None:
    from routekit.rules import RULE_CACHE_SIZE, clear_rule_cache

    clear_rule_cache()
    first = parse_rule("Host(`cache.example.com`)")
    assert parse_rule("Host(`cache.example.com`)") is first  # a re-list parses nothing again
    assert parse_rule("Host(`cache.example.com`)", syntax="v2") is not first
    assert parse_rule("Host(`cache.example.com`)", syntax="v2").syntax == "v2"
    assert parse_rule("Host:cache.example.com").syntax == "v1"
    assert parse_tcp_rule("HostSNI(`cache.example.com`)") is parse_tcp_rule(
        "HostSNI(`cache.example.com`)"
    )
    # A fault is raised every time: errors are not cached, and the message stays precise.
    for _ in range(2):
        with pytest.raises(RuleSyntaxError, match="unknown matcher"):
            parse_rule("Hots(`cache.example.com`)")
    # Bounded: a flood of distinct rules does not grow memory without end.
    for i in range(RULE_CACHE_SIZE + 10):
        parse_rule(f"Host(`h{i}.example.com`)")
    assert parse_rule("Host(`cache.example.com`)") is not first
    clear_rule_cache()
    assert parse_rule("Host(`h1.example.com`)") == parse_rule("Host(`h1.example.com`)")
