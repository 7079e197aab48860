"""TOML codecs: Traefik v2/v3 and v1 dynamic files → the model, and back, with positions."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from routekit import ConfigError
from routekit.config import (
    CircuitBreaker,
    Configuration,
    Headers,
    IPAllowList,
    Router,
    Server,
    Service,
    dumps_dynamic,
    loads_dynamic,
)

V2 = """\
# Dynamic configuration
[http.routers.api]
  rule = "Host(`api.example.com`)"
  service = "api"
  entryPoints = ["web"]   # public
  middlewares = ["strip", "auth"]
  [http.routers.api.tls]

[http.routers.web]
  rule = "PathPrefix(`/`)"
  service = "split"
  priority = 1

[[http.services.api.loadBalancer.servers]]
  url = "http://10.0.0.1:80"
[[http.services.api.loadBalancer.servers]]
  url = "http://10.0.0.2:80"
  weight = 3
[http.services.api.loadBalancer.healthCheck]
  path = "/health"
  interval = "10s"
[http.services.api.loadBalancer.sticky.cookie]
  name = "lb"
  httpOnly = true

[http.services.split.weighted]
  services = [{ name = "api", weight = 3 }, { name = "mirror" }]
[http.services.mirror.mirroring]
  service = "api"
  mirrors = [{ name = "api", percent = 10 }]

[http.middlewares.strip.stripPrefix]
  prefixes = ["/api"]
[http.middlewares.auth.basicAuth]
  users = ["test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/"]
[http.middlewares.limit.rateLimit]
  average = 100
  period = "1m"

[tcp.routers.db]
  rule = "HostSNI(`db.example.com`)"
  service = "db"
  [tcp.routers.db.tls]
    passthrough = true
[[tcp.services.db.loadBalancer.servers]]
  address = "10.0.0.5:5432"

[[tls.certificates]]
  certFile = "/certs/a.crt"
  keyFile = "/certs/a.key"
[tls.options.modern]
  minVersion = "VersionTLS13"
"""

V1 = """\
[frontends.f1]
backend = "b1"
passHostHeader = false
entrypoints = ["http"]
  [frontends.f1.routes.r1]
  rule = "Host:a.com"
  [frontends.f1.routes.r2]
  rule = "PathPrefix:/api"

[frontends.f2]
backend = "b1"
priority = 10
whitelistSourceRange = ["10.0.0.0/8"]
  [frontends.f2.routes.main]
  rule = "Host:b.com"

[backends.b1.servers.s1]
url = "http://10.0.0.1:80"
weight = 2
[backends.b1.servers.s2]
url = "http://10.0.0.2:80"
[backends.b1.loadbalancer.stickiness]
cookieName = "lb"
[backends.b1.healthcheck]
path = "/health"
interval = "5s"
[backends.b1.circuitbreaker]
expression = "NetworkErrorRatio() > 0.5"
"""


def _load(text: str) -> Configuration:
    config, problems = loads_dynamic(text, source="dynamic.toml")
    assert problems == []
    return config


def test_v2_file_loads_into_the_model() -> None:
    config = _load(V2)
    api = config.http.routers["api"]
    assert api.rule == "Host(`api.example.com`)"
    assert api.entry_points == ("web",)
    assert api.tls is not None
    lb = config.http.services["api"].load_balancer
    assert lb is not None
    assert [(s.url, s.weight) for s in lb.servers] == [
        ("http://10.0.0.1:80", 1),
        ("http://10.0.0.2:80", 3),
    ]
    assert lb.health_check is not None and lb.health_check.interval == 10.0
    assert lb.sticky is not None and lb.sticky.cookie is not None
    assert lb.sticky.cookie.http_only
    weighted = config.http.services["split"].weighted
    assert weighted is not None and [(s.name, s.weight) for s in weighted.services] == [
        ("api", 3),
        ("mirror", 1),
    ]
    assert config.http.middlewares["limit"].period == 60.0  # type: ignore[union-attr]
    db_tls = config.tcp.routers["db"].tls
    assert db_tls is not None and db_tls.passthrough
    assert config.tls.certificates[0].cert_file == "/certs/a.crt"
    assert config.tls.options["modern"].min_version == "VersionTLS13"


def test_sources_give_line_and_column() -> None:
    config = _load(V2)
    assert config.source_of("http.routers.api") == "dynamic.toml:2:1"
    assert config.source_of("http.routers.api.rule") == "dynamic.toml:3:3"
    assert (
        config.source_of("http.services.api.loadBalancer.servers.1.weight") == "dynamic.toml:18:3"
    )


@pytest.mark.parametrize("text", [V2, V1], ids=["v2", "v1"])
def test_round_trip_load_dump_load_is_identity(text: str) -> None:
    config = _load(text)
    again = _load(dumps_dynamic(config))
    assert again == config
    assert _load(dumps_dynamic(again, into=dumps_dynamic(config))) == config


def test_dump_into_an_existing_file_keeps_comments_and_layout() -> None:
    config = _load(V2)
    router = config.http.routers["web"]
    changed = Configuration(
        http=config.http.__class__(
            routers=config.http.routers.set("web", Router(rule=router.rule, service="api")),
            services=config.http.services,
            middlewares=config.http.middlewares,
        ),
        tcp=config.tcp,
        tls=config.tls,
    )
    out = dumps_dynamic(changed, into=V2)
    assert "# Dynamic configuration" in out
    assert 'entryPoints = ["web"]   # public' in out
    assert _load(out) == changed
    assert "priority = 1\n" not in out


def test_every_problem_has_a_path_a_position_and_a_hint() -> None:
    text = (
        '[http.routers.a]\nrule = "Host(`a`)"\nservce = "x"\n\n'
        '[http.routers.b]\nrule = "Host(`b`)"\nservice = "s"\n'
    )
    config, problems = loads_dynamic(text, source="d.toml")
    assert [str(p) for p in problems] == [
        "d.toml:3:1: http.routers.a.servce: unknown key 'servce' (did you mean 'service'?)"
    ]
    # The bad router is left out; the good one stays.
    assert list(config.http.routers) == ["b"]


def test_wrong_types_are_reported_not_raised() -> None:
    text = (
        '[http.services.s.loadBalancer]\npassHostHeader = "maybe"\nservers = [{url = "http://a"}]\n'
    )
    config, problems = loads_dynamic(text, source="d.toml")
    assert config.http.services == {}
    assert problems[0].path == "http.services.s.loadBalancer.passHostHeader"
    assert "true or false" in problems[0].message
    assert problems[0].source == "d.toml:2:1"


def test_broken_toml_is_one_problem_with_its_position() -> None:
    config, problems = loads_dynamic('[http.routers.a]\nrule = "unterminated\n', source="d.toml")
    assert config == Configuration()
    assert len(problems) == 1
    assert problems[0].source == "d.toml:2:21"
    assert "not valid TOML" in problems[0].message


def test_ip_white_list_is_read_as_ip_allow_list() -> None:
    config = _load('[http.middlewares.w.ipWhiteList]\nsourceRange = ["10.0.0.0/8"]\n')
    assert config.http.middlewares["w"] == IPAllowList(source_range=("10.0.0.0/8",))
    assert "ipAllowList" in dumps_dynamic(config)


def test_v1_frontends_and_backends_become_routers_and_services() -> None:
    config = _load(V1)
    f1 = config.http.routers["f1"]
    # v1 priority: sum of the routes' rule lengths unless priority > 0.
    assert f1.priority == len("Host:a.com") + len("PathPrefix:/api")
    assert config.http.routers["f2"].priority == 10
    assert f1.service == "b1" and f1.entry_points == ("http",)
    lb = config.http.services["b1"].load_balancer
    assert lb is not None
    assert [(s.url, s.weight) for s in lb.servers] == [
        ("http://10.0.0.1:80", 2),
        ("http://10.0.0.2:80", 1),
    ]
    assert not lb.pass_host_header
    assert lb.sticky is not None and lb.sticky.cookie is not None
    assert lb.sticky.cookie.name == "lb"
    assert lb.health_check is not None and lb.health_check.interval == 5.0
    assert config.http.middlewares["b1-circuitbreaker"] == CircuitBreaker(
        expression="NetworkErrorRatio() > 0.5"
    )
    assert "b1-circuitbreaker" in f1.middlewares
    assert config.http.middlewares["f2-ipallowlist"] == IPAllowList(source_range=("10.0.0.0/8",))
    assert config.source_of("http.routers.f2") == "dynamic.toml:10:1"


def test_v1_unknown_keys_are_reported_with_a_hint() -> None:
    text = (
        '[frontends.f]\nbackend = "b"\nentrypoint = ["http"]\n'
        '[frontends.f.routes.r]\nrule = "Host:a"\n'
    )
    config, problems = loads_dynamic(text, source="v1.toml")
    assert config.http.routers == {}
    assert problems[0].path == "frontends.f.entrypoint"
    assert problems[0].hint == "did you mean 'entryPoints'?"
    assert problems[0].source == "v1.toml:3:1"


EXAMPLES = sorted(
    (Path(__file__).resolve().parent.parent / "docs" / "compat").glob("dynamic-*.toml")
)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_files_in_docs_round_trip(path: Path) -> None:
    text = path.read_text()
    config, problems = loads_dynamic(text, source=path.name)
    assert [p for p in problems if p.severity == "error"] == []
    assert config.http.routers and config.http.services
    again, problems = loads_dynamic(dumps_dynamic(config))
    assert problems == [] and again == config
    # Written into itself, the file comes back unchanged, comments and layout included (a v1
    # file becomes its v2/v3 translation, keeping its comments at the top).
    written = dumps_dynamic(config, into=text)
    if "frontends" not in text:
        assert written == text
    assert written.startswith("# A Traefik")
    assert loads_dynamic(written)[0] == config


def test_both_example_styles_are_present() -> None:
    assert [p.name for p in EXAMPLES] == ["dynamic-v1.toml", "dynamic-v2.toml"]


EDITABLE = """\
# mine
[http.routers.a]
rule = "Host(`a`)"   # the rule
service = "s"
priority = 0  # the default, written out
EntryPoints = ["web"]

[http.services.s.loadBalancer]
passHostHeader = true
healthCheck = { path = "/h", interval = "10000ms" }
servers = [{url = "http://a", weight = 1}, {url = "http://b", weight = 2}]  # inline

[[http.services.t.loadBalancer.servers]]
  url = "http://c"  # first
[[http.services.t.loadBalancer.servers]]
  url = "http://d"
"""


def test_writing_into_a_file_changes_only_what_changed() -> None:
    config = _load(EDITABLE)
    assert dumps_dynamic(config, into=EDITABLE) == EDITABLE
    router = config.http.routers["a"]
    s_lb = config.http.services["s"].load_balancer
    t_lb = config.http.services["t"].load_balancer
    assert s_lb is not None and t_lb is not None
    edited = attrs.evolve(
        config,
        http=attrs.evolve(
            config.http,
            routers={"a": attrs.evolve(router, entry_points=("web", "websecure"))},
            services={
                "s": Service(load_balancer=attrs.evolve(s_lb, pass_host_header=False)),
                "t": Service(
                    load_balancer=attrs.evolve(
                        t_lb, servers=(t_lb.servers[0], Server(url="http://e", weight=3))
                    )
                ),
            },
        ),
    )
    out = dumps_dynamic(edited, into=EDITABLE)
    assert _load(out) == edited
    assert out == EDITABLE.replace('["web"]', '["web", "websecure"]').replace(
        "passHostHeader = true", "passHostHeader = false"
    ).replace('url = "http://d"\n', 'url = "http://e"\n  weight = 3\n')


def test_writing_into_broken_toml_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        dumps_dynamic(Configuration(), into="[http.routers\n")


def test_auth_and_content_middlewares_round_trip() -> None:
    from routekit.config import ContentType, DigestAuth, ForwardAuth, GrpcWeb, reads_config

    text = """
[http.middlewares.auth.forwardAuth]
address = "http://auth.local/verify"
trustForwardHeader = true
authResponseHeaders = ["X-User"]
[http.middlewares.auth.forwardAuth.tls]
insecureSkipVerify = true
[http.middlewares.digest.digestAuth]
users = ["test:traefik:a2688e031edb4be6a3797f3882655c05"]
[http.middlewares.ct.contentType]
autoDetect = true
[http.middlewares.gw.grpcWeb]
allowOrigins = ["*"]
[http.middlewares.bad.forwardAuth]
adress = "x"
"""
    result = reads_config(text, source="mw.toml")
    assert [str(p) for p in result.problems] == [
        "mw.toml:15:1: http.middlewares.bad.forwardAuth.adress: unknown key 'adress' "
        "(did you mean 'address'?)",
    ]
    mws = result.config.http.middlewares
    auth = mws["auth"]
    assert isinstance(auth, ForwardAuth)
    assert auth.address == "http://auth.local/verify" and auth.trust_forward_header
    assert auth.tls is not None and auth.tls.insecure_skip_verify
    assert isinstance(mws["digest"], DigestAuth) and isinstance(mws["gw"], GrpcWeb)
    assert mws["ct"] == ContentType(auto_detect=True)
    again = reads_config(dumps_dynamic(result.config)).config
    assert again == result.config


def test_v1_headers_read_each_option_with_its_type() -> None:
    text = (
        '[backends.b.servers.s]\nurl = "http://10.0.0.1:80"\n'
        '[frontends.f]\nbackend = "b"\n[frontends.f.routes.r]\nrule = "Host:a.com"\n'
        "[frontends.f.headers]\ncontentTypeNosniff = true\nbrowserXSSFilter = true\n"
        "contentSecurityPolicy = \"default-src 'self'\"\nSTSSeconds = 60\n"
        'allowedHosts = ["a.com"]\n[frontends.f.headers.SSLProxyHeaders]\nX-Proto = "https"\n'
    )
    config, problems = loads_dynamic(text)
    assert problems == []
    assert config.http.middlewares["f-headers"] == Headers(
        content_type_nosniff=True,
        browser_xss_filter=True,
        content_security_policy="default-src 'self'",
        sts_seconds=60,
        allowed_hosts=("a.com",),
        ssl_proxy_headers={"X-Proto": "https"},
    )


def test_v1_files_are_told_by_their_keys_in_any_case() -> None:
    text = '[Backends.b.servers.s]\nurl = "http://10.0.0.1:80"\n'
    text += '[Frontends.f]\nbackend = "b"\n[Frontends.f.routes.r]\nrule = "Host:a.com"\n'
    config, problems = loads_dynamic(text)
    assert problems == []
    assert config.http.routers["f"].service == "b"


def test_pass_tls_client_cert_round_trips() -> None:
    from routekit.config import PassTLSClientCert, reads_config

    text = """
[http.middlewares.cert.passTLSClientCert]
pem = true
[http.middlewares.cert.passTLSClientCert.info]
notAfter = true
[http.middlewares.cert.passTLSClientCert.info.subject]
commonName = true
[http.middlewares.cert.passTLSClientCert.info.issuer]
domainComponent = true
"""
    result = reads_config(text)
    assert result.problems == ()
    cert = result.config.http.middlewares["cert"]
    assert isinstance(cert, PassTLSClientCert) and cert.pem
    assert cert.info is not None and cert.info.not_after and not cert.info.sans
    assert cert.info.subject is not None and cert.info.subject.common_name
    assert cert.info.issuer is not None and cert.info.issuer.domain_component
    assert reads_config(dumps_dynamic(result.config)).config == result.config


def test_v1_frontend_auth_sections_become_middlewares(tmp_path: Path) -> None:
    from routekit.config import BasicAuth, DigestAuth, ForwardAuth, reads_config

    users = tmp_path / "users"
    users.write_text("more:{SHA}2PRZAyDhNDqRW2OUFwZQqPNdaSY=\n")
    text = """
[frontends.f]
backend = "b"
  [frontends.f.routes.r]
  rule = "Host:a.com"
  [frontends.f.auth]
  headerField = "X-WebAuth-User"
  [frontends.f.auth.forward]
  address = "https://auth.local/check"
  authResponseHeaders = ["X-Auth-User"]
  [frontends.f.auth.forward.tls]
  insecureSkipVerify = true
[frontends.g]
backend = "b"
  [frontends.g.routes.r]
  rule = "Host:g.com"
  [frontends.g.auth.digest]
  users = ["test:traefik:a2688e031edb4be6a3797f3882655c05"]
  [frontends.g.auth.basic]
  users = ["test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/"]
  usersFile = "/etc/users"
  removeHeader = true
[frontends.h]
backend = "b"
  [frontends.h.routes.r]
  rule = "Host:h.com"
  [frontends.h.auth.forward]
  trustForwardHeader = true
[backends.b.servers.s]
url = "http://10.0.0.1:80"
""".replace("/etc/users", str(users))
    result = reads_config(text, source="v1.toml")
    assert [str(p) for p in result.problems] == [
        "v1.toml:27:3: frontends.h.auth.forward: missing address "
        "(set the authentication server's URL)"
    ]
    config = result.config
    mws = config.http.middlewares
    forward = mws["f-forwardauth"]
    assert isinstance(forward, ForwardAuth)
    assert forward.header_field == "X-WebAuth-User" and forward.tls is not None
    basic = mws["g-basicauth"]
    assert isinstance(basic, BasicAuth)
    assert basic.users_file == str(users) and basic.remove_header
    assert isinstance(mws["g-digestauth"], DigestAuth)
    assert config.http.routers["g"].middlewares == ("g-basicauth", "g-digestauth")
    assert "h" not in config.http.routers


@pytest.mark.parametrize(
    ("text", "source", "message"),
    [
        ("a = " + "[" * 5000 + "]" * 5000 + "\n", "d.toml:1:69", "nest more than 64 levels"),
        ("x = 1\na = " + "{b = " * 3000 + "1" + "}" * 3000, "d.toml:2:", "nest more than 64"),
        ("[http]\n" + "a." * 3000 + "b = 1\n", "d.toml:2:1", "keys nest more than 64"),
        ("[http]\nn = " + "9" * 5000 + "\n", "d.toml:2:5", "more than 4300 digits"),
        ("[http]\nn = 1" + "_9" * 4400 + "\n", "d.toml:2:5", "more than 4300 digits"),
    ],
)
def test_deep_or_huge_toml_is_a_located_problem(text: str, source: str, message: str) -> None:
    config, problems = loads_dynamic(text, source="d.toml")
    assert config == Configuration()
    (problem,) = problems
    assert problem.source is not None and problem.source.startswith(source)
    assert message in problem.message
    with pytest.raises(ConfigError, match=r"nest|digits"):
        dumps_dynamic(Configuration(), into=text)


def test_brackets_and_digits_inside_strings_and_comments_are_not_counted() -> None:
    text = (
        '[http.routers.a]\nrule = "Host(`' + "[" * 100 + '`)"\n# ' + "{" * 100 + "\n"
        "service = '''\n" + "[" * 100 + "'''\n" + "priority = 1\n# " + "9" * 5000 + "\n"
    )
    _, problems = loads_dynamic(text, source="d.toml")
    assert all("nest" not in p.message and "digits" not in p.message for p in problems)


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("sslRedirect = true", "use a redirectScheme middleware"),
        ("SSLTemporaryRedirect = true", "permanent = false"),
        ("sslHost = 'a.com'", "redirectRegex"),
        ("featurePolicy = 'x'", "use permissionsPolicy"),
    ],
)
def test_options_removed_in_v3_say_what_replaces_them(key: str, hint: str) -> None:
    _, problems = loads_dynamic(f"[http.middlewares.m.headers]\n{key}\n", source="d.toml")
    (problem,) = problems
    assert problem.message.startswith("unknown key")
    assert problem.hint is not None and "removed in Traefik v3" in problem.hint
    assert hint in problem.hint


def test_v1_files_read_ssl_redirects_client_certs_and_response_forwarding() -> None:
    from routekit.config import CertInfo, CertSubjectInfo, PassTLSClientCert, RedirectScheme

    text = """
[frontends.f]
backend = "b"
  [frontends.f.routes.r]
  rule = "Host:a.com"
  [frontends.f.headers]
  SSLTemporaryRedirect = true
  [frontends.f.passTLSClientCert]
  pem = true
    [frontends.f.passTLSClientCert.infos]
    sans = true
      [frontends.f.passTLSClientCert.infos.subject]
      commonName = true
[backends.b]
  [backends.b.servers.s]
  url = "http://10.0.0.1"
  [backends.b.responseForwarding]
  flushInterval = "50ms"
"""
    config, problems = loads_dynamic(text, source="v1.toml")
    assert problems == []
    assert [config.http.middlewares[m] for m in config.http.routers["f"].middlewares] == [
        PassTLSClientCert(
            pem=True, info=CertInfo(sans=True, subject=CertSubjectInfo(common_name=True))
        ),
        RedirectScheme(scheme="https", permanent=False),
    ]
    lb = config.http.services["b"].load_balancer
    assert lb is not None and lb.response_forwarding is not None
    assert lb.response_forwarding.flush_interval == 0.05
