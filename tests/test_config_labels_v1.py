"""Traefik v1 Docker labels / Consul tags → Configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routekit.config import (
    BasicAuth,
    CircuitBreaker,
    Configuration,
    Cookie,
    Headers,
    HealthCheck,
    IPAllowList,
    RedirectScheme,
    Sticky,
)
from routekit.config.providers._labels import ContainerInfo, labels_to_config, tags_to_labels
from routekit.config.providers._labels_v1 import is_v1
from routekit.errors import Problem


def container(
    name: str, labels: dict[str, str], *, ip: str = "172.17.0.2", ports: tuple[int, ...] = (80,)
) -> ContainerInfo:
    return ContainerInfo(name=name, labels=labels, addresses={"bridge": ip}, ports=ports)


def decode(
    *cs: ContainerInfo, domain: str = "docker.local"
) -> tuple[Configuration, tuple[Problem, ...]]:
    return labels_to_config(cs, domain=domain)


def test_detection() -> None:
    assert is_v1({"traefik.port": "80"}) is True
    assert is_v1({"traefik.frontend.rule": "Host:a"}) is True
    assert is_v1({"traefik.web.port": "80"}) is True
    assert is_v1({"traefik.port": "80", "traefik.http.routers.r.rule": "Host(`a`)"}) is False
    assert is_v1({"traefik.enable": "true"}) is None
    assert is_v1({}) is None


def test_default_rule_and_names() -> None:
    config, problems = decode(container("/my_app", {"traefik.port": "8080"}, ports=(80, 8080)))
    assert problems == ()
    ((name, router),) = config.http.routers.items()
    assert name == "frontend-Host-my-app-docker-local-0"
    assert router.service == "backend-my-app"
    # v1 priority: the length of the v1 rule, kept explicit so that translation keeps the order.
    assert router.priority == len("Host:my-app.docker.local")
    lb = config.http.services["backend-my-app"].load_balancer
    assert lb is not None and [s.url for s in lb.servers] == ["http://172.17.0.2:8080"]


def test_container_without_labels_is_v1_when_the_provider_has_a_domain() -> None:
    config, _ = decode(container("whoami", {}))
    assert set(config.http.services) == {"backend-whoami"}
    config, _ = labels_to_config([container("whoami", {})])
    assert set(config.http.services) == {"whoami"}  # no domain: v2 defaults


def test_no_rule_and_no_domain_leaves_the_container_out_with_a_warning() -> None:
    # v1.7 containerFilter: "Filtering container with empty frontend rule" — no frontend and
    # no backend either; routekit says so.
    config, problems = decode(container("x", {"traefik.port": "80"}), domain="")
    assert config == Configuration()
    (problem,) = problems
    assert problem.severity == "warning"
    assert str(problem) == (
        "container 'x': no frontend rule and no domain: the container is not served "
        "(set traefik.frontend.rule or traefik.domain)"
    )


def test_one_segment_without_a_rule_leaves_the_whole_container_out() -> None:
    labels = {"traefik.web.port": "80", "traefik.web.frontend.rule": "Host:web.example",
              "traefik.admin.port": "9000"}  # fmt: skip
    config, problems = decode(container("app", labels, ports=(80, 9000)), domain="")
    assert config == Configuration()
    assert [p.severity for p in problems] == ["warning"]


def test_frontends_are_numbered_among_the_containers_served() -> None:
    # v1.7 names a frontend "<rule>-<idx>", idx counting only the containers its filter kept.
    config, problems = decode(
        container("a-off", {"traefik.enable": "false"}),
        container("b-noport", {}, ports=()),
        container("c-web", {"traefik.port": ""}),  # empty: the detected port is used
        container("d-api", {}),
    )
    assert sorted(config.http.routers) == [
        "frontend-Host-c-web-docker-local-0",
        "frontend-Host-d-api-docker-local-1",
    ]
    lb = config.http.services["backend-c-web"].load_balancer
    assert lb is not None and [s.url for s in lb.servers] == ["http://172.17.0.2:80"]
    assert [(p.message, p.source) for p in problems] == [
        ("no port: the container exposes none", "container 'b-noport'")
    ]


def test_compose_replicas_share_one_frontend_and_backend() -> None:
    compose = {"com.docker.compose.project": "shop", "com.docker.compose.service": "api"}
    config, problems = decode(
        container("shop_api_2", {**compose, "traefik.port": "80"}, ip="172.18.0.3"),
        container("shop_api_1", {**compose, "traefik.port": "80"}, ip="172.18.0.2"),
    )
    assert problems == ()
    ((_name, router),) = config.http.routers.items()
    assert router.rule == "Host(`api.shop.docker.local`)"
    assert router.priority == len("Host:api.shop.docker.local")  # the v1 priority, kept
    assert router.service == "backend-api-shop"
    lb = config.http.services["backend-api-shop"].load_balancer
    assert lb is not None
    assert [s.url for s in lb.servers] == ["http://172.18.0.2:80", "http://172.18.0.3:80"]


def test_backend_label_weight_protocol_and_frontend_options() -> None:
    labels = {
        "traefik.backend": "shared",
        "traefik.port": "443",
        "traefik.protocol": "https",
        "traefik.weight": "5",
        "traefik.frontend.rule": "Host:a.example,b.example",
        "traefik.frontend.priority": "50",
        "traefik.frontend.entryPoints": "http,https",
        "traefik.frontend.passHostHeader": "false",
        "traefik.frontend.auth.basic.users": "u:$apr1$x,v:$apr1$y",
        "traefik.frontend.whiteList.sourceRange": "10.0.0.0/8,192.168.0.0/16",
        "traefik.frontend.redirect.entryPoint": "https",
        "traefik.frontend.redirect.permanent": "true",
        "traefik.frontend.headers.customRequestHeaders": "X-A:1||X-B:two",
        "traefik.frontend.headers.STSSeconds": "315360000",
        "traefik.backend.loadbalancer.stickiness": "true",
        "traefik.backend.loadbalancer.stickiness.cookieName": "sticky",
        "traefik.backend.healthcheck.path": "/health",
        "traefik.backend.healthcheck.interval": "10s",
        "traefik.backend.circuitbreaker.expression": "NetworkErrorRatio() > 0.5",
    }
    config, problems = decode(container("app", labels, ports=(443,)))
    assert [p.severity for p in problems] == ["warning"]  # the entry point redirect approximation
    ((_fname, router),) = config.http.routers.items()
    assert router.priority == 50
    assert router.entry_points == ("http", "https")
    assert router.service == "backend-shared"
    middlewares = [config.http.middlewares[m] for m in router.middlewares]
    assert middlewares == [
        BasicAuth(users=("u:$apr1$x", "v:$apr1$y")),
        IPAllowList(source_range=("10.0.0.0/8", "192.168.0.0/16")),
        RedirectScheme(scheme="https", permanent=True),
        Headers(custom_request_headers={"X-A": "1", "X-B": "two"}, sts_seconds=315360000),
        CircuitBreaker(expression="NetworkErrorRatio() > 0.5"),
    ]
    lb = config.http.services["backend-shared"].load_balancer
    assert lb is not None
    assert [(s.url, s.weight) for s in lb.servers] == [("https://172.17.0.2:443", 5)]
    assert lb.pass_host_header is False
    assert lb.sticky == Sticky(cookie=Cookie(name="sticky"))
    assert lb.health_check == HealthCheck(path="/health", interval=10.0)


def test_segments() -> None:
    labels = {
        "traefik.web.port": "80",
        "traefik.web.frontend.rule": "Host:web.example",
        "traefik.admin.port": "9000",
        "traefik.admin.frontend.rule": "Host:admin.example",
        "traefik.admin.weight": "2",
    }
    config, problems = decode(container("app", labels, ports=(80, 9000)))
    assert problems == ()
    assert config.http.routers["frontend-web-app-web"].service == "backend-app-web"
    assert config.http.routers["frontend-admin-app-admin"].rule == "Host(`admin.example`)"
    admin = config.http.services["backend-app-admin"].load_balancer
    assert admin is not None and [(s.url, s.weight) for s in admin.servers] == [
        ("http://172.17.0.2:9000", 2)
    ]


def test_unknown_v1_labels_are_reported_with_a_hint() -> None:
    labels = {
        "traefik.port": "80",
        "traefik.frontend.priorty": "3",
        "traefik.backend.helthcheck.path": "/",
    }
    _, problems = decode(container("x", labels))
    hints = {p.source: p.hint for p in problems}
    assert hints["label 'traefik.frontend.priorty' on container 'x'"] == (
        "did you mean 'traefik.frontend.priority'?"
    )
    assert "label 'traefik.backend.helthcheck.path' on container 'x'" in hints


def test_replicas_with_different_backend_options_warn_and_keep_the_first() -> None:
    a = container("a", {"traefik.backend": "b", "traefik.port": "80",
                        "traefik.backend.loadbalancer.method": "wrr"}, ip="10.0.0.1")  # fmt: skip
    b = container("b", {"traefik.backend": "b", "traefik.port": "80",
                        "traefik.backend.loadbalancer.method": "drr"}, ip="10.0.0.2")  # fmt: skip
    config, problems = decode(a, b)
    assert any("differs" in p.message for p in problems)
    lb = config.http.services["backend-b"].load_balancer
    assert lb is not None and len(lb.servers) == 2


def test_consul_v1_tags() -> None:
    tags = [
        "traefik.frontend.rule=Host:api.consul.local",
        "traefik.weight=3",
        "traefik.enable=true",
    ]
    c = ContainerInfo(
        name="api", labels=tags_to_labels(tags), addresses={"": "10.1.0.5"}, ports=(8080,)
    )
    config, problems = labels_to_config([c], domain="consul.local")
    assert problems == ()
    ((_, router),) = config.http.routers.items()
    assert router.rule == "Host(`api.consul.local`)"
    lb = config.http.services["backend-api"].load_balancer
    assert lb is not None and [(s.url, s.weight) for s in lb.servers] == [
        ("http://10.1.0.5:8080", 3)
    ]


_WORDS = st.sampled_from(
    ["port", "backend", "frontend", "rule", "weight", "protocol", "web", "headers", "auth",
     "basic", "users", "loadbalancer", "stickiness", "healthcheck", "path", "enable", "docker",
     "network", "x", "", "errors", "ratelimit", "rateset"]
)  # fmt: skip
_KEYS = st.lists(_WORDS, min_size=1, max_size=5).map(lambda ws: "traefik." + ".".join(ws))
_VALUES = st.one_of(
    st.sampled_from(["", "80", "true", "Host:a", "a:b||c:d", "1s"]), st.text(max_size=6)
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_KEYS, _VALUES, max_size=8), st.lists(st.integers(1, 65535), max_size=2))
def test_random_v1_label_sets_never_crash(labels: dict[str, str], ports: list[int]) -> None:
    config, problems = labels_to_config(
        [container("c", labels, ports=tuple(ports))], domain="d", syntax="v1"
    )
    assert isinstance(config, Configuration)
    assert all(isinstance(p, Problem) for p in problems)


def test_boolean_header_options_are_booleans() -> None:
    labels = {
        "traefik.frontend.rule": "Host:a.example",
        "traefik.frontend.headers.contentTypeNosniff": "true",
        "traefik.frontend.headers.frameDeny": "true",
    }
    config, problems = decode(container("app", labels))
    assert problems == ()
    ((router),) = config.http.routers.values()
    (headers,) = [config.http.middlewares[m] for m in router.middlewares]
    assert headers == Headers(content_type_nosniff=True, frame_deny=True)


def test_forward_and_digest_auth_labels() -> None:
    from routekit.config import DigestAuth, ForwardAuth

    config, problems = decode(
        container(
            "web",
            {
                "traefik.frontend.rule": "Host:w.com",
                "traefik.port": "80",
                "traefik.frontend.auth.forward.address": "http://auth.local/check",
                "traefik.frontend.auth.forward.trustForwardHeader": "true",
                "traefik.frontend.auth.forward.authResponseHeaders": "X-User,X-Group",
                "traefik.frontend.auth.forward.tls.insecureSkipVerify": "true",
                "traefik.frontend.auth.digest.users": "u:traefik:h",
                "traefik.frontend.auth.headerField": "X-WebAuth-User",
            },
        )
    )
    assert problems == ()
    ((_, router),) = config.http.routers.items()
    chain = [config.http.middlewares[name] for name in router.middlewares]
    forward = next(m for m in chain if isinstance(m, ForwardAuth))
    assert forward.address == "http://auth.local/check" and forward.trust_forward_header
    assert forward.auth_response_headers == ("X-User", "X-Group")
    assert forward.tls is not None and forward.tls.insecure_skip_verify
    assert forward.header_field == "X-WebAuth-User"
    digest = next(m for m in chain if isinstance(m, DigestAuth))
    assert digest.users == ("u:traefik:h",)


@pytest.mark.parametrize("weight", ["²", "٣"])
def test_non_ascii_or_huge_integer_labels_are_problems(weight: str) -> None:
    labels = {"traefik.weight": weight, "traefik.frontend.rule": "Host:c.io"}
    _, problems = labels_to_config([container("c", labels)])
    assert any(p.severity == "error" and "weight" in str(p) for p in problems), problems


#: Every label of Traefik 1.7's Docker provider (provider/label/names.go at v1.7), but the
#: ``errors.<name>.*`` and ``rateLimit.rateSet.<name>.*`` families tested elsewhere.
TRAEFIK_1_7_LABELS = (
    "backend.buffering.maxRequestBodyBytes", "backend.buffering.maxResponseBodyBytes",
    "backend.buffering.memRequestBodyBytes", "backend.buffering.memResponseBodyBytes",
    "backend.buffering.retryExpression", "backend.circuitbreaker",
    "backend.circuitbreaker.expression", "backend.healthcheck.headers",
    "backend.healthcheck.hostname", "backend.healthcheck.interval", "backend.healthcheck.path",
    "backend.healthcheck.port", "backend.healthcheck.scheme", "backend.id",
    "backend.loadbalancer.method", "backend.loadbalancer.stickiness",
    "backend.loadbalancer.stickiness.cookieName", "backend.loadbalancer.stickiness.httpOnly",
    "backend.loadbalancer.stickiness.sameSite", "backend.loadbalancer.stickiness.secure",
    "backend.loadbalancer.sticky", "backend.maxconn.amount", "backend.maxconn.extractorfunc",
    "backend.responseForwarding.flushInterval", "domain", "enable",
    "frontend.auth.basic.removeHeader", "frontend.auth.basic.users",
    "frontend.auth.basic.usersFile", "frontend.auth.digest.removeHeader",
    "frontend.auth.digest.users", "frontend.auth.digest.usersFile",
    "frontend.auth.forward.address", "frontend.auth.forward.authResponseHeaders",
    "frontend.auth.forward.tls.ca", "frontend.auth.forward.tls.caOptional",
    "frontend.auth.forward.tls.cert", "frontend.auth.forward.tls.insecureSkipVerify",
    "frontend.auth.forward.tls.key", "frontend.auth.forward.trustForwardHeader",
    "frontend.auth.headerField", "frontend.entryPoints", "frontend.headers.SSLForceHost",
    "frontend.headers.SSLHost", "frontend.headers.SSLProxyHeaders",
    "frontend.headers.SSLRedirect", "frontend.headers.SSLTemporaryRedirect",
    "frontend.headers.STSIncludeSubdomains", "frontend.headers.STSPreload",
    "frontend.headers.STSSeconds", "frontend.headers.allowedHosts",
    "frontend.headers.browserXSSFilter", "frontend.headers.contentSecurityPolicy",
    "frontend.headers.contentTypeNosniff", "frontend.headers.customBrowserXSSValue",
    "frontend.headers.customFrameOptionsValue", "frontend.headers.customRequestHeaders",
    "frontend.headers.customResponseHeaders", "frontend.headers.forceSTSHeader",
    "frontend.headers.frameDeny", "frontend.headers.hostsProxyHeaders",
    "frontend.headers.isDevelopment", "frontend.headers.publicKey",
    "frontend.headers.referrerPolicy", "frontend.passHostHeader", "frontend.passTLSCert",
    "frontend.passTLSClientCert.infos.issuer.commonName",
    "frontend.passTLSClientCert.infos.issuer.country",
    "frontend.passTLSClientCert.infos.issuer.domainComponent",
    "frontend.passTLSClientCert.infos.issuer.locality",
    "frontend.passTLSClientCert.infos.issuer.organization",
    "frontend.passTLSClientCert.infos.issuer.province",
    "frontend.passTLSClientCert.infos.issuer.serialNumber",
    "frontend.passTLSClientCert.infos.notAfter", "frontend.passTLSClientCert.infos.notBefore",
    "frontend.passTLSClientCert.infos.sans",
    "frontend.passTLSClientCert.infos.subject.commonName",
    "frontend.passTLSClientCert.infos.subject.country",
    "frontend.passTLSClientCert.infos.subject.domainComponent",
    "frontend.passTLSClientCert.infos.subject.locality",
    "frontend.passTLSClientCert.infos.subject.organization",
    "frontend.passTLSClientCert.infos.subject.province",
    "frontend.passTLSClientCert.infos.subject.serialNumber", "frontend.passTLSClientCert.pem",
    "frontend.priority", "frontend.rateLimit.extractorFunc", "frontend.redirect.entryPoint",
    "frontend.redirect.permanent", "frontend.redirect.regex", "frontend.redirect.replacement",
    "frontend.rule", "frontend.whiteList.sourceRange", "frontend.whiteList.useXForwardedFor",
    "frontend.whitelistSourceRange", "port", "portIndex", "portName", "protocol", "tags",
    "weight",
)  # fmt: skip
_LABEL_VALUES = {
    "rule": "Host:a.example", "port": "80", "weight": "2", "protocol": "http", "enable": "true",
    "backend": "b", "domain": "example", "entryPoints": "http,https", "priority": "3",
    "portIndex": "0", "portName": "web", "users": "u:$apr1$x$y", "extractorfunc": "client.ip",
    "method": "wrr", "interval": "10s", "flushInterval": "10ms", "amount": "10",
    "STSSeconds": "60", "maxRequestBodyBytes": "10", "memRequestBodyBytes": "10",
    "maxResponseBodyBytes": "10", "memResponseBodyBytes": "10", "sameSite": "lax",
    "retryExpression": "IsNetworkError() && Attempts() <= 2", "address": "http://auth",
    "expression": "NetworkErrorRatio() > 0.5", "circuitbreaker": "NetworkErrorRatio() > 0.5",
    "scheme": "http", "sourceRange": "10.0.0.0/8", "whitelistSourceRange": "10.0.0.0/8",
    "entryPoint": "https", "regex": "^http://(.*)", "replacement": "https://$1", "path": "/h",
    "customRequestHeaders": "X-A:b", "customResponseHeaders": "X-A:b", "headers": "X-A:b",
    "SSLProxyHeaders": "X-Forwarded-Proto:https", "extractorFunc": "client.ip",
    "STSIncludeSubdomains": "true", "STSPreload": "true",
}  # fmt: skip


@pytest.mark.parametrize("label", TRAEFIK_1_7_LABELS)
def test_every_traefik_1_7_label_is_read(label: str, tmp_path: Path) -> None:
    last = label.rsplit(".", 1)[-1]
    labels = {"traefik.frontend.rule": "Host:a.example", "traefik.port": "80"}
    if label.startswith("frontend.auth.forward.") and last != "address":
        labels["traefik.frontend.auth.forward.address"] = "http://auth"
    # The decoded middlewares are validated too: each auth label comes with valid users.
    users = tmp_path / "users"
    if label.startswith("frontend.auth.basic."):
        users.write_text("u:$apr1$x$y\n")
        labels["traefik.frontend.auth.basic.users"] = "u:$apr1$x$y"
    if label.startswith("frontend.auth.digest."):
        users.write_text("u:traefik:0123456789abcdef0123456789abcdef\n")
        labels["traefik.frontend.auth.digest.users"] = "u:traefik:0123456789abcdef0123456789abcdef"
    value = _LABEL_VALUES.get(last, "x" if last[0].isupper() else "true")
    if last == "users":
        value = labels.get(f"traefik.{label}", value)
    labels[f"traefik.{label}"] = str(users) if last == "usersFile" else value
    if label.startswith("frontend.headers.SSL") and label != "frontend.headers.SSLProxyHeaders":
        labels["traefik.frontend.headers.SSLRedirect"] = "true"
        labels["traefik.frontend.headers.SSLHost"] = "a.example"
        labels[f"traefik.{label}"] = "a.example" if last == "SSLHost" else "true"
    _, problems = decode(container("app", labels))
    unsupported = {"portIndex", "portName", "tags", "backend.id"}
    for problem in problems:
        assert "unknown" not in problem.message, problem
        assert problem.severity == "warning" and (
            label in unsupported or last in unsupported or "becomes" in problem.message
        ), problem


def _middlewares(labels: dict[str, str]) -> list[object]:
    config, problems = decode(
        container("app", {"traefik.frontend.rule": "Host:a.example", **labels})
    )
    assert problems == ()
    ((router),) = config.http.routers.values()
    return [config.http.middlewares[m] for m in router.middlewares]


def test_ssl_redirect_headers_become_redirect_middlewares_before_the_headers() -> None:
    from routekit.config import RedirectRegex

    h = "traefik.frontend.headers."
    assert _middlewares({h + "SSLRedirect": "true", h + "frameDeny": "true"}) == [
        RedirectScheme(scheme="https", permanent=True),
        Headers(frame_deny=True),
    ]
    assert _middlewares({h + "SSLTemporaryRedirect": "true"})[0] == RedirectScheme(
        scheme="https", permanent=False
    )
    assert _middlewares({h + "SSLRedirect": "true", h + "SSLHost": "s.example"})[0] == (
        RedirectRegex(
            regex="^http://[^/]+(.*)$", replacement="https://s.example${1}", permanent=True
        )
    )
    forced = {h + "SSLRedirect": "true", h + "SSLHost": "s.example", h + "SSLForceHost": "true"}
    assert _middlewares(forced)[0] == RedirectRegex(
        regex="^https?://[^/]+(.*)$", replacement="https://s.example${1}", permanent=True
    )


def test_ssl_host_without_a_redirect_is_a_warning() -> None:
    labels = {"traefik.frontend.rule": "Host:a.example", "traefik.frontend.headers.SSLHost": "s"}
    _, problems = decode(container("app", labels))
    (problem,) = problems
    assert problem.severity == "warning" and "no effect without SSLRedirect" in problem.message


def test_pass_tls_client_cert_and_stickiness_cookie_labels() -> None:
    from routekit.config import CertInfo, CertIssuerInfo, PassTLSClientCert

    p = "traefik.frontend.passTLSClientCert."
    labels = {
        p + "pem": "true",
        p + "infos.notAfter": "true",
        p + "infos.issuer.commonName": "true",
        "traefik.backend.loadbalancer.stickiness": "true",
        "traefik.backend.loadbalancer.stickiness.cookieName": "c",
        "traefik.backend.loadbalancer.stickiness.secure": "true",
        "traefik.backend.loadbalancer.stickiness.httpOnly": "true",
        "traefik.backend.loadbalancer.stickiness.sameSite": "strict",
    }
    assert _middlewares(labels) == [
        PassTLSClientCert(
            pem=True,
            info=CertInfo(not_after=True, issuer=CertIssuerInfo(common_name=True)),
        )
    ]
    config, _ = decode(container("app", {"traefik.frontend.rule": "Host:a.example", **labels}))
    (service,) = config.http.services.values()
    assert service.load_balancer is not None
    assert service.load_balancer.sticky == Sticky(
        cookie=Cookie(name="c", secure=True, http_only=True, same_site="strict")
    )
    old = {"traefik.frontend.rule": "Host:a.example", "traefik.frontend.passTLSCert": "true"}
    config, _ = decode(container("app", old))
    assert list(config.http.middlewares.values()) == [PassTLSClientCert(pem=True)]


@pytest.mark.parametrize("rule", ["Query:=a", "PathStripRegex:}", "Host:a.com;PathStripRegex:}"])
def test_a_v1_rule_that_v3_cannot_say_is_a_problem_in_every_codec(rule: str) -> None:
    from routekit.config import kv_to_config, reads_config

    text = f'[frontends.f]\nbackend = "b"\n[frontends.f.routes.r]\nrule = "{rule}"\n'
    text += '[backends.b.servers.s]\nurl = "http://10.0.0.1"\n'
    result = reads_config(text)
    (problem,) = result.problems
    assert problem.path == "frontends.f.routes" and "the rule cannot be routed" in problem.message
    assert result.config.http.routers == {} and "b" in result.config.http.services
    _, problems = decode(container("app", {"traefik.frontend.rule": rule}))
    assert [p.message.startswith("the rule cannot be routed") for p in problems] == [True]
    kv = {"traefik/frontends/f/routes/r/rule": rule, "traefik/frontends/f/backend": "b"}
    config, problems = kv_to_config({**kv, "traefik/backends/b/servers/s/url": "http://a"})
    assert config.http.routers == {} and len(problems) == 1


def test_two_segments_on_one_backend_and_port_are_one_server() -> None:
    labels = {
        "traefik.web.frontend.rule": "Host:a.com",
        "traefik.web.port": "80",
        "traefik.web.backend": "b",
        "traefik.api.frontend.rule": "Host:b.com",
        "traefik.api.port": "80",
        "traefik.api.backend": "b",
        "traefik.admin.frontend.rule": "Host:c.com",
        "traefik.admin.port": "81",
        "traefik.admin.backend": "b",
    }
    config, problems = decode(container("app", labels, ip="10.0.0.5", ports=(80, 81)))
    assert problems == ()
    (service,) = config.http.services.values()
    assert service.load_balancer is not None
    assert sorted(s.url for s in service.load_balancer.servers) == [
        "http://10.0.0.5:80",
        "http://10.0.0.5:81",
    ]
    assert len(config.http.routers) == 3


def test_v1_frontend_rule_of_one_container_is_public() -> None:
    from routekit.config import v1_frontend_rule

    labelled = ContainerInfo(name="web", labels={"traefik.frontend.rule": "Host:a.com"})
    assert v1_frontend_rule(labelled) == "Host:a.com"
    plain = ContainerInfo(name="web_1", labels={"traefik.port": "80"})
    assert v1_frontend_rule(plain, domain="docker.local") == "Host:web-1.docker.local"
    own_domain = ContainerInfo(name="api", labels={"traefik.domain": "example.org"})
    assert v1_frontend_rule(own_domain, domain="docker.local") == "Host:api.example.org"
    assert v1_frontend_rule(ContainerInfo(name="x")) == ""  # no domain: Traefik 1.7 filters it
