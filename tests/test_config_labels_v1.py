"""Traefik v1 Docker labels / Consul tags → Configuration."""

from __future__ import annotations

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
from routekit.config._labels import ContainerInfo, labels_to_config, tags_to_labels
from routekit.config._labels_v1 import is_v1
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
