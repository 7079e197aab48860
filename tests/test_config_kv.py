"""KV layouts (v2 ``traefik/http/…`` and v1 ``/traefik/frontends/…``) ↔ Configuration."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routekit.config import (
    BasicAuth,
    Configuration,
    HealthCheck,
    HTTPConfiguration,
    LoadBalancer,
    Router,
    RouterTLS,
    Server,
    Service,
    StripPrefix,
    Weighted,
    WeightedService,
)
from routekit.config.providers._kv import config_to_kv, kv_to_config
from routekit.errors import ConfigError

V2 = {
    "traefik/http/routers/api/rule": "Host(`api.example.com`)",
    "traefik/http/routers/api/entrypoints/0": "web",
    "traefik/http/routers/api/entrypoints/1": "websecure",
    "traefik/http/routers/api/middlewares/0": "strip",
    "traefik/http/routers/api/tls/certresolver": "le",
    "traefik/http/services/api/loadbalancer/servers/0/url": "http://10.0.0.1:80",
    "traefik/http/services/api/loadbalancer/servers/1/url": "http://10.0.0.2:80",
    "traefik/http/services/api/loadbalancer/servers/1/weight": "3",
    "traefik/http/services/api/loadbalancer/healthcheck/path": "/health",
    "traefik/http/services/api/loadbalancer/healthcheck/interval": "10s",
    "traefik/http/services/both/weighted/services/0/name": "api",
    "traefik/http/services/both/weighted/services/0/weight": "2",
    "traefik/http/middlewares/strip/stripPrefix/prefixes/0": "/api",
    "elsewhere/http/routers/x/rule": "not read",
}


def test_v2_layout() -> None:
    config, problems = kv_to_config(V2)
    assert problems == ()
    assert config.http.routers == {
        "api": Router(
            rule="Host(`api.example.com`)",
            entry_points=("web", "websecure"),
            middlewares=("strip",),
            tls=RouterTLS(cert_resolver="le"),
        )
    }
    assert config.http.services["api"] == Service(
        load_balancer=LoadBalancer(
            servers=[Server(url="http://10.0.0.1:80"), Server(url="http://10.0.0.2:80", weight=3)],
            health_check=HealthCheck(path="/health", interval=10.0),
        )
    )
    assert config.http.services["both"] == Service(
        weighted=Weighted(services=[WeightedService(name="api", weight=2)])
    )
    assert config.http.middlewares == {"strip": StripPrefix(prefixes=["/api"])}
    assert config.source_of("http.routers.api") is not None


def test_leading_slash_other_root_and_comma_lists() -> None:
    pairs = {
        "/edge/http/routers/r/rule": "Host(`r`)",
        "/edge/http/routers/r/entryPoints": "web,websecure",
        "/edge/http/routers/r/service": "s",
    }
    config, problems = kv_to_config(pairs, root="/edge")
    assert problems == ()
    assert config.http.routers["r"].entry_points == ("web", "websecure")


def test_unknown_keys_are_reported_with_the_kv_key() -> None:
    pairs = {
        "traefik/http/routers/ok/rule": "Host(`ok`)",
        "traefik/http/routers/bad/rulee": "Host(`bad`)",
        "traefik/htp/routers/x/rule": "Host(`x`)",
        "traefik/http/routers/a@b/rule": "Host(`x`)",
    }
    config, problems = kv_to_config(pairs)
    assert set(config.http.routers) == {"ok"}
    by_source = {p.source: p for p in problems}
    assert by_source["traefik/http/routers/bad/rulee"].hint == "did you mean 'rule'?"
    assert "unknown" in by_source["traefik/htp/routers/x/rule"].message
    assert "'@' is not allowed" in by_source["traefik/http/routers/a@b/rule"].message


def test_round_trip() -> None:
    config, _ = kv_to_config(V2)
    kv = config_to_kv(config)
    assert kv["traefik/http/routers/api/entryPoints/1"] == "websecure"
    assert kv["traefik/http/services/api/loadBalancer/healthCheck/interval"] == "10s"
    again, problems = kv_to_config(kv)
    assert problems == ()
    assert again == config


def test_empty_element_is_written_as_true() -> None:
    config = Configuration(
        http=HTTPConfiguration(routers={"r": Router(rule="Host(`r`)", tls=RouterTLS())})
    )
    kv = config_to_kv(config, root="rk")
    assert kv == {"rk/http/routers/r/rule": "Host(`r`)", "rk/http/routers/r/tls": "true"}
    assert kv_to_config(kv, root="rk")[0] == config


# --- v1 ---------------------------------------------------------------------------------------

V1 = {
    "/traefik/backends/backend1/servers/server1/url": "http://172.17.0.2:80",
    "/traefik/backends/backend1/servers/server1/weight": "10",
    "/traefik/backends/backend1/servers/server2/url": "http://172.17.0.3:80",
    "/traefik/backends/backend1/loadbalancer/method": "wrr",
    "/traefik/backends/backend1/healthcheck/path": "/ping",
    "/traefik/backends/backend1/healthcheck/interval": "5s",
    "/traefik/frontends/frontend1/backend": "backend1",
    "/traefik/frontends/frontend1/routes/test_1/rule": "Host:test.localhost",
    "/traefik/frontends/frontend1/entrypoints": "http,https",
    "/traefik/frontends/frontend1/priority": "7",
    "/traefik/frontends/frontend1/auth/basic/users/0": "test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/",
}


def test_v1_layout() -> None:
    config, problems = kv_to_config(V1)
    assert problems == ()
    router = config.http.routers["frontend1"]
    assert router.service == "backend1"
    assert router.priority == 7
    assert router.entry_points == ("http", "https")
    assert [config.http.middlewares[m] for m in router.middlewares] == [
        BasicAuth(users=["test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/"])
    ]
    lb = config.http.services["backend1"].load_balancer
    assert lb is not None
    assert [(s.url, s.weight) for s in lb.servers] == [
        ("http://172.17.0.2:80", 10),
        ("http://172.17.0.3:80", 1),
    ]
    assert lb.health_check == HealthCheck(path="/ping", interval=5.0)


def test_v1_alias_switches_the_tree() -> None:
    pairs = {
        "/traefik/alias": "/traefik_configurations/2",
        "/traefik_configurations/1/frontends/old/backend": "b",
        "/traefik_configurations/1/frontends/old/routes/r/rule": "Host:old",
        "/traefik_configurations/2/frontends/new/backend": "b",
        "/traefik_configurations/2/frontends/new/routes/r/rule": "Host:new",
        "/traefik_configurations/2/backends/b/servers/s/url": "http://10.0.0.1:80",
    }
    config, problems = kv_to_config(pairs)
    assert problems == ()
    assert set(config.http.routers) == {"new"}
    assert config.http.routers["new"].priority == len("Host:new")


def test_v1_problems_name_the_key() -> None:
    pairs = {**V1, "/traefik/frontends/frontend1/pririty": "3"}
    config, problems = kv_to_config(pairs)
    assert problems[0].source == "/traefik/frontends/frontend1/pririty"
    assert problems[0].hint == "did you mean 'priority'?"
    assert "frontend1" not in config.http.routers


# --- properties -------------------------------------------------------------------------------

_NAMES = st.text("abcdefghij-_0123456789", min_size=1, max_size=8)
_ROUTERS = st.builds(
    Router,
    rule=st.sampled_from(["Host(`a`)", "PathPrefix(`/x`) && Method(`GET`)", "Host(`é.x`)"]),
    service=_NAMES,
    priority=st.integers(-5, 1000),
    entry_points=st.lists(_NAMES, max_size=3).map(tuple),
    middlewares=st.lists(_NAMES, max_size=2).map(tuple),
    tls=st.none() | st.builds(RouterTLS, cert_resolver=st.sampled_from(["", "le"])),
)
_SERVICES = st.builds(
    lambda urls, sticky: Service(
        load_balancer=LoadBalancer(
            servers=[Server(url=u, weight=w) for u, w in urls], pass_host_header=sticky
        )
    ),
    st.lists(
        st.tuples(st.sampled_from(["http://a:1", "https://b"]), st.integers(0, 9)), max_size=3
    ),
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(_NAMES, _ROUTERS, max_size=4), st.dictionaries(_NAMES, _SERVICES, max_size=3)
)
def test_kv_round_trip_property(routers: dict[str, Router], services: dict[str, Service]) -> None:
    config = Configuration(http=HTTPConfiguration(routers=routers, services=services))
    again, problems = kv_to_config(config_to_kv(config))
    assert problems == ()
    assert again == config


_PARTS = st.sampled_from(
    ["traefik", "http", "tcp", "routers", "services", "middlewares", "rule", "loadbalancer",
     "servers", "0", "1", "url", "x", "", "frontends", "backends", "routes", "alias", "a@b"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.lists(_PARTS, min_size=1, max_size=6).map("/".join), st.text(max_size=8)))
def test_random_kv_pairs_never_crash(pairs: dict[str, str]) -> None:
    config, problems = kv_to_config(pairs)
    assert isinstance(config, Configuration)
    assert all(p.source for p in problems if p.severity == "error")


@pytest.mark.parametrize("name", ["a/b", ""])
def test_names_kv_cannot_say_are_refused_when_writing(name: str) -> None:
    from routekit.config import AddPrefix

    config = Configuration(http=HTTPConfiguration(middlewares={name: AddPrefix(prefix="/a")}))
    with pytest.raises(ConfigError, match="cannot be a KV key"):
        config_to_kv(config)
