"""validate(): every problem reported with path, source and hint; bad elements left out."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routekit.config import loads_dynamic, reads_config, validate
from routekit.errors import ConfigError


def _check(text: str) -> tuple[list[str], object]:
    config, problems = loads_dynamic(text, source="d.toml")
    assert problems == []
    result = validate(config)
    return [
        f"{p.path}: {p.message}" + (f" ({p.hint})" if p.hint else "") for p in result.problems
    ], result.config


GOOD = """
[http.routers.api]
rule = "Host(`a.io`)"
service = "api"
[[http.services.api.loadBalancer.servers]]
url = "http://10.0.0.1:80"
"""


def test_a_good_configuration_has_no_problems() -> None:
    problems, _ = _check(GOOD)
    assert problems == []


def test_unknown_service_is_reported_with_did_you_mean_and_the_router_left_out() -> None:
    problems, config = _check(GOOD + '[http.routers.bad]\nrule = "Host(`b`)"\nservice = "apii"\n')
    assert problems == ["http.routers.bad.service: unknown service 'apii' (did you mean 'api'?)"]
    assert list(config.http.routers) == ["api"]  # type: ignore[attr-defined]


def test_an_unknown_reference_without_a_close_name_lists_the_known_ones() -> None:
    text = GOOD + (
        '[http.routers.web]\nrule = "Host(`w`)"\nservice = "zzz"\nmiddlewares = ["auth"]\n'
        '[http.routers.none]\nrule = "Host(`n`)"\nservice = ""\n'
    )
    problems, config = _check(text)
    assert problems == [
        "http.routers.web.service: unknown service 'zzz' (known: api)",
        "http.routers.web.middlewares: unknown middleware 'auth' (no middleware is defined)",
        "http.routers.none.service: no service given (name a service here)",
    ]
    assert list(config.http.routers) == ["api"]  # type: ignore[attr-defined]


def test_problem_sources_point_into_the_file() -> None:
    text = GOOD + '[http.routers.bad]\nrule = "Host(`b`)"\nservice = "apii"\n'
    config, _ = loads_dynamic(text, source="d.toml")
    (problem,) = validate(config).problems
    assert problem.source == "d.toml:9:1"


def test_provider_qualified_references_are_left_to_the_watcher() -> None:
    problems, _ = _check(GOOD + '[http.routers.x]\nrule = "Host(`x`)"\nservice = "api@docker"\n')
    assert problems == []


def test_service_problems() -> None:
    text = """
[http.services.empty.loadBalancer]
[[http.services.badurl.loadBalancer.servers]]
url = "ftp//nowhere"
[[http.services.negative.loadBalancer.servers]]
url = "http://a"
weight = -1
[http.services.both.loadBalancer]
servers = [{url = "http://a"}]
[http.services.both.weighted]
services = [{name = "negative"}]
[http.services.loop1.failover]
service = "loop2"
fallback = "negative"
[http.services.loop2.weighted]
services = [{name = "loop1"}]
"""
    problems, config = _check(text)
    assert (
        "http.services.empty.loadBalancer.servers: no servers: requests routed here are answered"
        " 503 (add at least one server url)" in problems
    )
    assert any(
        p.startswith("http.services.badurl.loadBalancer.servers.0.url: bad URL") for p in problems
    )
    assert (
        "http.services.negative.loadBalancer.servers.0.weight: weight -1 is out of range"
        " (0 to 9223372036854775807)" in problems
    )
    assert any("exactly one of" in p and "loadBalancer and weighted" in p for p in problems)
    assert any(p.startswith("http.services.loop1: loop: loop1 → loop2 → loop1") for p in problems)
    assert list(config.http.services) == ["empty"]  # type: ignore[attr-defined]  # 503, kept


def test_middleware_problems_and_chain_loops() -> None:
    text = (
        GOOD
        + """
[http.middlewares.a.chain]
middlewares = ["b"]
[http.middlewares.b.chain]
middlewares = ["a"]
[http.middlewares.re.replacePathRegex]
regex = "^/(unclosed"
[http.middlewares.ip.ipAllowList]
sourceRange = ["10.0.0.0/33"]
[http.middlewares.ok.stripPrefix]
prefixes = ["/x"]
"""
    )
    problems, config = _check(text)
    assert any(p.startswith("http.middlewares.a: loop: a → b → a") for p in problems)
    assert any(
        p.startswith("http.middlewares.re.replacePathRegex.regex: bad regular expression")
        for p in problems
    )
    assert (
        "http.middlewares.ip.ipAllowList.sourceRange: not an IP or CIDR: '10.0.0.0/33'" in problems
    )
    assert list(config.http.middlewares) == ["ok"]  # type: ignore[attr-defined]


def test_dependents_of_a_left_out_element_are_left_out_with_a_reason() -> None:
    text = """
[http.routers.r]
rule = "Host(`a`)"
service = "s"
[http.services.s.loadBalancer]
strategy = "nope"
"""
    problems, config = _check(text)
    assert "http.routers.r: uses the service 's', which is left out" in problems
    assert config.http.routers == {}  # type: ignore[attr-defined]


def test_priority_out_of_range() -> None:
    problems, _ = _check(
        GOOD.replace('service = "api"', 'service = "api"\npriority = 9223372036854775000')
    )
    assert any(p.startswith("http.routers.api.priority: priority") for p in problems)


def test_strict_loading_raises_config_error_listing_every_problem() -> None:
    from routekit.config import loads_config

    text = (
        GOOD
        + '[http.routers.b]\nrule = "Host(`b`)"\nservice = "nope"\n'
        + '[http.routers.c]\nrule = "x"\nservce = "api"\n'
    )
    with pytest.raises(ConfigError) as info:
        loads_config(text, source="d.toml")
    assert len(info.value.problems) == 2
    assert "2 problems in the configuration" in str(info.value)
    config = reads_config(text, source="d.toml").config
    assert list(config.http.routers) == ["api"]
    assert len(reads_config(text).errors) == 2


_keys = st.sampled_from(
    ["http", "tcp", "tls", "routers", "services", "middlewares", "rule", "service", "priority",
     "loadBalancer", "servers", "url", "weight", "weighted", "chain", "stripPrefix", "prefixes",
     "entryPoints", "frontends", "backends", "routes", "backend", "x", "tls", "healthCheck",
     "interval", "sticky", "cookie", "certificates", "options", "mirroring", "failover"]
)  # fmt: skip
_scalars = st.one_of(
    st.text(max_size=8),
    st.integers(),
    st.booleans(),
    st.floats(allow_nan=False),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(_keys, st.text(max_size=5)), inner, max_size=4),
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_keys, _values, max_size=4))
def test_random_documents_never_crash_the_loader(doc: dict[str, object]) -> None:
    import tomlkit

    try:
        text = tomlkit.dumps(doc)
    except Exception:
        return
    result = reads_config(text)
    for problem in result.problems:
        assert problem.message
    try:
        load_config_strict(text)
    except ConfigError as exc:
        assert exc.problems


def load_config_strict(text: str) -> None:
    from routekit.config import loads_config

    loads_config(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_random_text_never_crashes_the_loader(text: str) -> None:
    result = reads_config(text + "\n")
    assert all(isinstance(p.message, str) for p in result.problems)


def test_a_rule_that_does_not_parse_is_reported_with_the_caret() -> None:
    problems, config = _check(GOOD + '[http.routers.bad]\nrule = "Host(`b`"\nservice = "api"\n')
    assert len(problems) == 1
    assert problems[0].startswith("http.routers.bad.rule: ")
    assert "Host(`b`" in problems[0] and "^" in problems[0]
    assert list(config.http.routers) == ["api"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ('sameSite = "weird"', "must be none, lax or strict, got 'weird'"),
        ('domain = "ex.com; Secure"', "must be a host name without spaces or ';'"),
        ('path = "/a;b"', "must not contain ';' or line breaks"),
    ],
)
def test_sticky_cookie_attributes_are_checked(option: str, expected: str) -> None:
    from routekit.config import reads_config

    text = (
        '[http.services.s.loadBalancer]\nservers = [{url = "http://a:80"}]\n'
        f'[http.services.s.loadBalancer.sticky.cookie]\nname = "lb"\n{option}\n'
    )
    result = reads_config(text, source="x.toml")
    (problem,) = result.problems
    key = option.split(" ", maxsplit=1)[0]
    assert problem.path == f"http.services.s.loadBalancer.sticky.cookie.{key}"
    assert expected in problem.message
    assert "s" not in result.config.http.services

    weighted = (
        '[http.services.w.weighted]\nservices = [{name = "s"}]\n'
        f"[http.services.w.weighted.sticky.cookie]\n{option}\n"
    )
    paths = [p.path for p in reads_config(weighted, source="x.toml").problems]
    assert f"http.services.w.weighted.sticky.cookie.{key}" in paths


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("a{99999999999}", "RE2 allows at most 1000"),
        ("(?=lookahead)", "bad regular expression"),  # Go's regexp has no lookaround
        ("\\", "bad regular expression"),
    ],
)
def test_middleware_regexps_are_checked_with_go_syntax(pattern: str, expected: str) -> None:
    text = (
        GOOD + f"[http.middlewares.re.replacePathRegex]\nregex = '{pattern}'\nreplacement = '/'\n"
    )
    problems, config = _check(text)
    (problem,) = problems
    assert problem.startswith("http.middlewares.re.replacePathRegex.regex:") and expected in problem
    assert config.http.middlewares == {}  # type: ignore[attr-defined]


@pytest.mark.parametrize("weight", [-1, 2**63, 10**400])
def test_weights_have_go_s_int_range(weight: int) -> None:
    text = GOOD.replace('url = "http://10.0.0.1:80"', f'url = "http://a"\nweight = {weight}')
    text += f"""
[http.services.w.weighted]
services = [{{ name = "api", weight = {weight} }}]
[tcp.services.t.weighted]
services = [{{ name = "u", weight = {weight} }}]
[tcp.services.u.loadBalancer]
servers = [{{ address = "10.0.0.1:80" }}]
"""
    # Past 64 bits the file cannot even be read as Traefik reads it; below 0 it is read and
    # refused by validation.  Either way each weight is a problem at its own path.
    result = reads_config(text, source="d.toml")
    paths = [p.path.replace("[0]", ".0") for p in result.problems if "range" in p.message]
    assert paths == [
        "http.services.api.loadBalancer.servers.0.weight",
        "http.services.w.weighted.services.0.weight",
        "tcp.services.t.weighted.services.0.weight",
    ]


def test_empty_names_and_names_with_at_are_left_out_in_every_collection() -> None:
    from routekit.config import (
        AddPrefix,
        Configuration,
        HTTPConfiguration,
        TLSConfiguration,
        TLSOptions,
    )

    config = Configuration(
        http=HTTPConfiguration(
            middlewares={"": AddPrefix(prefix="/a"), "ok": AddPrefix(prefix="/")}
        ),
        tls=TLSConfiguration(options={"x@y": TLSOptions()}),
    )
    result = validate(config)
    assert [(p.path, p.message) for p in result.problems] == [
        ("http.middlewares.", "an empty name"),
        ("tls.options.x@y", "'@' is not allowed in a name ('x@y')"),
    ]
    assert list(result.config.http.middlewares) == ["ok"] and result.config.tls.options == {}


def test_tcp_middlewares_are_read_checked_and_referenced() -> None:
    from routekit.config import TCPInFlightConn, TCPIPAllowList, reads_config

    text = """
[tcp.middlewares.limit.inFlightConn]
amount = 0
[tcp.middlewares.old.ipWhiteList]
sourceRange = ["10.0.0.0/8"]
[tcp.middlewares.bad.ipAllowList]
sourceRange = ["10.0.0.0/33"]
[tcp.routers.a]
rule = "HostSNI(`*`)"
service = "s"
middlewares = ["old"]
[tcp.routers.b]
rule = "HostSNI(`*`)"
service = "s"
middlewares = ["limit"]
[tcp.routers.c]
rule = "HostSNI(`*`)"
service = "s"
middlewares = ["nope"]
[tcp.services.s.loadBalancer]
servers = [{address = "10.0.0.1:80"}]
"""
    result = reads_config(text, source="t.toml")
    assert result.config.tcp.middlewares == {"old": TCPIPAllowList(source_range=("10.0.0.0/8",))}
    assert list(result.config.tcp.routers) == ["a"]
    messages = {p.path: p.message for p in result.problems}
    assert "must be at least 1" in messages["tcp.middlewares.limit.inFlightConn.amount"]
    assert "not an IP or CIDR" in messages["tcp.middlewares.bad.ipAllowList.sourceRange"]
    assert "left out" in messages["tcp.routers.b"]
    assert "nope" in messages["tcp.routers.c.middlewares"]
    assert TCPInFlightConn(amount=3).type_key == "inFlightConn"


def test_tcp_middleware_labels() -> None:
    from routekit.config import ContainerInfo, TCPInFlightConn, labels_to_config

    container = ContainerInfo(
        name="db",
        labels={
            "traefik.tcp.middlewares.limit.inflightconn.amount": "5",
            "traefik.tcp.routers.db.rule": "HostSNI(`*`)",
            "traefik.tcp.routers.db.middlewares": "limit",
        },
        addresses={"bridge": "172.17.0.2"},
        ports=(5432,),
    )
    config, problems = labels_to_config([container])
    assert problems == ()
    assert config.tcp.middlewares == {"limit": TCPInFlightConn(amount=5)}
    assert config.tcp.routers["db"].middlewares == ("limit",)


def test_a_rule_error_in_a_file_points_at_the_fault_inside_the_string() -> None:
    from routekit.config import reads_config

    text = (
        '[http.routers.a]\nrule = "Host(`a`) && Foo(`x`)"\n'
        "[http.routers.b]\n  rule   =  'Host(`b`) && Path(`x`)'  # a comment\n"
        '[http.routers.c]\nrule = "Host(`c`) \\u0026\\u0026 Foo(`x`)"\n'
    )
    problems = {p.path: p for p in reads_config(text, source="r.toml").problems}
    assert problems["http.routers.a.rule"].source == "r.toml:2:22"  # the F of Foo
    assert problems["http.routers.a.rule"].offset == 13
    assert problems["http.routers.b.rule"].source == "r.toml:4:33"
    # Escapes make the string's characters differ from the text's: the key's place is kept.
    assert problems["http.routers.c.rule"].source == "r.toml:6:1"


def test_compress_and_forward_auth_options_that_cannot_work_are_located() -> None:
    text = (
        '[http.middlewares.squeeze.compress]\nencodings = ["gzip", "lz4"]\ndefaultEncoding = "br"\n'
        '[http.middlewares.gate.forwardAuth]\naddress = "auth:4181"\n'
        'authResponseHeadersRegex = "X-("\n'
        '[http.middlewares.good.forwardAuth]\naddress = "http://auth:4181/verify"\n'
    )
    result = reads_config(text, source="d.toml")
    found = sorted(str(p) for p in result.problems)
    assert found[:3] == [
        "d.toml:2:1: http.middlewares.squeeze.compress.encodings: unsupported encoding 'lz4' "
        "(zstd, br or gzip)",
        "d.toml:3:1: http.middlewares.squeeze.compress.defaultEncoding: 'br' is not one of the "
        "encodings",
        "d.toml:5:1: http.middlewares.gate.forwardAuth.address: expected an http(s) URL, got "
        "'auth:4181' (e.g. address = \"http://auth:4181/verify\")",
    ]
    assert len(found) == 4
    assert found[3].startswith(
        "d.toml:6:1: http.middlewares.gate.forwardAuth.authResponseHeadersRegex: bad regular "
    )
    assert set(result.config.http.middlewares) == {"good"}
