"""Traefik 1.7 Consul catalog provider: catalog services → Configuration."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routekit.config import (
    BasicAuth,
    CatalogInstance,
    CatalogService,
    CircuitBreaker,
    Configuration,
    consul_catalog_v1_to_config,
)
from routekit.config.providers._consul_v1 import _server_name, get_tag, has_tag
from routekit.errors import ConfigError, MalformedResponse, Problem


def entry(
    service: str,
    node_address: str,
    tags: list[str],
    *,
    address: str = "",
    port: int = 8080,
    status: str = "passing",
    node: str = "node-1",
    serf: str = "passing",
) -> dict[str, Any]:
    """One element of /v1/health/service/<name>, as Consul returns it (trimmed of indexes)."""
    sid = f"{service}-{node}"
    return {
        "Node": {
            "ID": "40e4a748-2192-161a-0510-9bf59fe950b5",
            "Node": node,
            "Address": node_address,
            "Datacenter": "dc1",
            "TaggedAddresses": {"lan": node_address, "wan": node_address},
            "Meta": {"consul-network-segment": ""},
        },
        "Service": {
            "ID": sid,
            "Service": service,
            "Tags": tags,
            "Address": address,
            "Meta": None,
            "Port": port,
            "Weights": {"Passing": 1, "Warning": 1},
            "EnableTagOverride": False,
        },
        "Checks": [
            {
                "Node": node,
                "CheckID": "serfHealth",
                "Name": "Serf Health Status",
                "Status": serf,
                "ServiceID": "",
                "ServiceName": "",
            },
            {
                "Node": node,
                "CheckID": f"service:{sid}",
                "Name": f"Service '{service}' check",
                "Status": status,
                "ServiceID": sid,
                "ServiceName": service,
            },
        ],
    }


def decode(*services: CatalogService, **options: Any) -> tuple[Configuration, tuple[Problem, ...]]:
    return consul_catalog_v1_to_config(services, **options)


def urls(config: Configuration, backend: str) -> list[str]:
    lb = config.http.services[backend].load_balancer
    assert lb is not None
    return [s.url for s in lb.servers]


# -- input ----------------------------------------------------------------------------------------


def test_health_entries_are_read_with_consul_field_names() -> None:
    svc = CatalogService.from_health_entries(
        [entry("web", "10.0.0.1", ["traefik.weight=3", "v2"], address="172.17.0.4", port=80)]
    )
    assert svc.name == "web"
    (inst,) = svc.instances
    assert (inst.service, inst.address, inst.port) == ("web", "172.17.0.4", 80)
    assert (inst.node, inst.node_address, inst.service_id) == ("node-1", "10.0.0.1", "web-node-1")
    assert inst.tags == ("traefik.weight=3", "v2")
    assert dict(inst.checks) == {"serfHealth": "passing", "service:web-node-1": "passing"}
    assert inst.status == "passing"


def test_catalog_entries_use_the_flat_field_names() -> None:
    inst = CatalogInstance.from_catalog_entry(
        {
            "ID": "40e4a748-2192-161a-0510-9bf59fe950b5",
            "Node": "node-1",
            "Address": "192.168.10.10",
            "Datacenter": "dc1",
            "ServiceID": "redis-1",
            "ServiceName": "redis",
            "ServiceTags": ["traefik.protocol=https"],
            "ServiceAddress": "",
            "ServicePort": 8000,
        },
        checks=[{"CheckID": "service:redis-1", "Status": "warning"}],
    )
    assert (inst.service, inst.node_address, inst.address, inst.port) == (
        "redis",
        "192.168.10.10",
        "",
        8000,
    )
    assert inst.status == "warning"


def test_bad_json_shapes_raise_value_error() -> None:
    with pytest.raises(MalformedResponse, match=r"Service\.Port"):
        CatalogInstance.from_health_entry({"Service": {"Port": [1]}})
    with pytest.raises(ValueError, match=r"Service\.Tags"):
        CatalogInstance.from_health_entry({"Service": {"Tags": "a,b"}})
    with pytest.raises(ValueError, match="name="):
        CatalogService.from_health_entries([])
    assert CatalogService.from_health_entries([], name="api").instances == ()


def test_aggregated_status_follows_consul() -> None:
    def status(checks: dict[str, str]) -> str:
        return CatalogInstance(checks=checks).status

    assert status({}) == "passing"
    assert status({"a": "passing", "b": "warning"}) == "warning"
    assert status({"a": "warning", "b": "critical"}) == "critical"
    assert status({"_node_maintenance": "critical", "a": "passing"}) == "maintenance"
    assert status({"_service_maintenance:api": "critical"}) == "maintenance"
    assert status({"a": "bogus"}) == ""


# -- Traefik's own test cases (v1.7 provider/consulcatalog/config_test.go) -----------------------


def test_server_names_match_traefik() -> None:
    tags = [
        "random.foo=bar",
        "traefik.backend.weight=42",
        "traefik.frontend.passHostHeader=true",
        "traefik.protocol=https",
    ]
    assert _server_name("test", "127.0.0.1", 80, tags, 0) == "test-0-us4-27hAOu2ARV7nNrmv6GoKlcA"
    assert _server_name("test", "127.0.0.1", 80, ["random.foo=bar"], 0) == (
        "test-0-O0Tnh-SwzY69M6SurTKP3wNKkzI"
    )


def test_one_frontend_and_one_backend() -> None:
    tags = [
        "random.foo=bar",
        "traefik.backend.weight=42",  # deprecated spelling of traefik.weight
        "traefik.frontend.passHostHeader=true",
        "traefik.protocol=https",
        "traefik.frontend.auth.basic.users=test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/",
        "traefik.backend.circuitbreaker.expression=NetworkErrorRatio() > 0.5",
    ]
    svc = CatalogService.from_health_entries(
        [entry("test", "127.0.0.1", tags, address="127.0.0.1", port=80)]
    )
    config, problems = decode(svc, domain="localhost")
    assert [p.message for p in problems] == ["traefik.backend.weight is deprecated"]
    assert problems[0].severity == "warning"
    router = config.http.routers["frontend-test"]
    assert router.rule == "Host(`test.localhost`)"
    assert router.service == "backend-test"
    assert router.priority == len("Host:test.localhost")
    kinds = {type(config.http.middlewares[m]) for m in router.middlewares}
    assert kinds == {BasicAuth, CircuitBreaker}  # v1 backend options became middlewares
    lb = config.http.services["backend-test"].load_balancer
    assert lb is not None
    assert [(s.url, s.weight) for s in lb.servers] == [("https://127.0.0.1:80", 42)]


def test_three_frontends_and_one_backend() -> None:
    tags = [
        "random.foo=bar",
        "traefik.frontend.rule=Host:A",
        "traefik.frontends.test1.rule=Host:B",
        "traefik.frontends.test2.rule=Host:C",
    ]
    svc = CatalogService.from_health_entries([entry("test", "127.0.0.1", tags, port=80)])
    config, problems = decode(svc, domain="localhost")
    assert problems == ()
    assert {n: (r.rule, r.service) for n, r in config.http.routers.items()} == {
        # v1 host names are matched ignoring case; the translation lower-cases them.
        "frontend-test": ("Host(`a`)", "backend-test"),
        "frontend-test-test1": ("Host(`b`)", "backend-test"),
        "frontend-test-test2": ("Host(`c`)", "backend-test"),
    }
    assert list(config.http.services) == ["backend-test"]


# -- provider behaviour ---------------------------------------------------------------------------


def test_address_is_the_service_address_else_the_node_address() -> None:
    svc = CatalogService.from_health_entries(
        [
            entry("api", "10.0.0.1", [], node="n1"),
            entry("api", "10.0.0.2", [], node="n2", address="172.17.0.3"),
        ]
    )
    config, problems = decode(svc, domain="consul")
    assert problems == ()
    assert sorted(urls(config, "backend-api")) == ["http://10.0.0.1:8080", "http://172.17.0.3:8080"]


def test_strict_checks() -> None:
    svc = CatalogService.from_health_entries(
        [
            entry("api", "10.0.0.1", [], node="ok"),
            entry("api", "10.0.0.2", [], node="warn", status="warning"),
            entry("api", "10.0.0.3", [], node="down", status="critical"),
            entry("api", "10.0.0.4", [], node="gone", serf="critical"),
        ]
    )
    config, _ = decode(svc, domain="consul")
    assert urls(config, "backend-api") == ["http://10.0.0.1:8080"]
    config, _ = decode(svc, domain="consul", strict_checks=False)
    assert sorted(urls(config, "backend-api")) == ["http://10.0.0.1:8080", "http://10.0.0.2:8080"]


def test_a_service_without_healthy_instances_is_not_served() -> None:
    svc = CatalogService.from_health_entries([entry("api", "10.0.0.1", [], status="critical")])
    config, problems = decode(svc, domain="consul")
    assert problems == ()
    assert config == Configuration()


def test_enable_and_exposed_by_default() -> None:
    on = CatalogService.from_health_entries([entry("on", "10.0.0.1", ["traefik.enable=true"])])
    off = CatalogService.from_health_entries([entry("off", "10.0.0.2", ["traefik.enable=false"])])
    plain = CatalogService.from_health_entries([entry("plain", "10.0.0.3", [])])
    config, _ = decode(on, off, plain, domain="consul")
    assert set(config.http.services) == {"backend-on", "backend-plain"}
    config, _ = decode(on, off, plain, domain="consul", exposed_by_default=False)
    assert set(config.http.services) == {"backend-on"}
    # Go's ParseBool accepts "T", "1"…; anything else falls back to exposedByDefault.
    odd = CatalogService.from_health_entries([entry("odd", "10.0.0.4", ["traefik.enable=yes"])])
    config, problems = decode(odd, domain="consul", exposed_by_default=False)
    assert config == Configuration()
    (problem,) = problems
    assert problem.severity == "warning"
    assert problem.source == "tag 'traefik.enable' on Consul service 'odd'"


def test_names_are_lower_cased_and_the_empty_domain_leaves_no_dot() -> None:
    svc = CatalogService.from_health_entries([entry("Billing", "10.0.0.1", [])])
    config, problems = decode(svc)
    assert problems == ()
    router = config.http.routers["frontend-billing"]
    assert router.rule == "Host(`billing`)"  # "Host:billing." loses its trailing dot (1.7)
    assert router.service == "backend-billing"


def test_frontend_rule_template_functions() -> None:
    tags = ["traefik.subdomain=shop", "public", "region=eu"]
    svc = CatalogService.from_health_entries([entry("web", "10.0.0.1", tags)])
    rule = (
        'Host:{{ getAttribute "subdomain" .Attributes "www" }}'
        '.{{ getTag "region" .Attributes "us" }}.{{.Domain}}'
        ';Headers:X-Public,{{ hasTag "PUBLIC" .Attributes }}'
    )
    config, problems = decode(svc, domain="example.com", frontend_rule=rule)
    # traefik.subdomain is no v1 property: with a template that reads tags, only a warning.
    assert [(p.path, p.severity) for p in problems] == [("subdomain", "warning")]
    assert config.http.routers["frontend-web"].rule == (
        "Host(`shop.eu.example.com`) && Header(`X-Public`, `true`)"
    )


def test_the_rule_tag_is_a_template_too() -> None:
    svc = CatalogService.from_health_entries(
        [entry("web", "10.0.0.1", ["traefik.frontend.rule=Host:{{.ServiceName}}.internal"])]
    )
    config, problems = decode(svc)
    assert problems == ()
    assert config.http.routers["frontend-web"].rule == "Host(`web.internal`)"


def test_a_rule_that_cannot_render_leaves_the_frontend_out() -> None:
    svc = CatalogService.from_health_entries(
        [entry("web", "10.0.0.1", ["traefik.frontend.rule=Host:{{.Nope}}"])]
    )
    config, problems = decode(svc)
    (problem,) = problems
    assert problem.source == "tag 'traefik.frontend.rule' on Consul service 'web'"
    assert "no field .Nope" in problem.message
    assert config.http.routers == {}
    assert urls(config, "backend-web") == ["http://10.0.0.1:8080"]


def test_a_bad_provider_rule_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="range"):
        consul_catalog_v1_to_config([], frontend_rule="{{ range .Attributes }}x{{ end }}")


def test_custom_prefix() -> None:
    tags = ["acme.frontend.rule=Host:api.example.com", "acme.weight=5", "traefik.weight=9"]
    svc = CatalogService.from_health_entries([entry("api", "10.0.0.1", tags)])
    config, problems = decode(svc, prefix="acme")
    assert problems == ()  # traefik.* tags are not configuration with another prefix
    assert config.http.routers["frontend-api"].rule == "Host(`api.example.com`)"
    lb = config.http.services["backend-api"].load_balancer
    assert lb is not None and [s.weight for s in lb.servers] == [5]


def test_unknown_and_ignored_tags_are_reported() -> None:
    tags = [
        "traefik.frontend.entryPoint=https",
        "traefik.protocl=https",
        "traefik.port=80",
        "traefik.marker",
        "version=2",
    ]
    svc = CatalogService.from_health_entries([entry("api", "10.0.0.1", tags)])
    config, problems = decode(svc, domain="consul")
    found = {(p.source, p.severity) for p in problems}
    assert found == {
        ("tag 'traefik.frontend.entryPoint' on Consul service 'api'", "error"),
        ("tag 'traefik.protocl' on Consul service 'api'", "error"),
        ("tag 'traefik.port' on Consul service 'api'", "warning"),
        ("tag 'traefik.marker' on Consul service 'api'", "warning"),
    }
    hints = {p.path: p.hint for p in problems}
    assert hints["frontend.entryPoint"] == "did you mean 'traefik.frontend.entrypoints'?"
    assert hints["protocl"] == "did you mean 'traefik.protocol'?"
    assert urls(config, "backend-api") == ["http://10.0.0.1:8080"]


def test_instances_that_disagree_are_reported() -> None:
    svc = CatalogService.from_health_entries(
        [
            entry("api", "10.0.0.1", ["traefik.frontend.rule=Host:a"], node="n1"),
            entry("api", "10.0.0.2", ["traefik.frontend.rule=Host:b"], node="n2"),
        ]
    )
    config, problems = decode(svc)
    (problem,) = problems
    assert problem.severity == "warning" and "disagree" in problem.message
    assert config.http.routers["frontend-api"].rule == "Host(`a`)"


def test_deprecated_load_balancer_tag_sets_the_method() -> None:
    svc = CatalogService.from_health_entries(
        [entry("api", "10.0.0.1", ["traefik.backend.loadbalancer=drr"])]
    )
    _, problems = decode(svc, domain="consul")
    messages = [p.message for p in problems]
    assert "traefik.backend.loadbalancer is deprecated" in messages
    # the method reaches the v1 decoder, which says drr has no v3 equivalent
    assert any("drr" in m for m in messages)


def test_template_functions() -> None:
    tags = ["Traefik.Enable=true", "marker", "a=1=2"]
    assert get_tag("traefik.enable", tags, "x") == "true"
    assert get_tag("MARKER", tags, "x") == "marker"
    assert get_tag("a", tags, "x") == "1=2"
    assert get_tag("missing", tags, "x") == "x"
    assert has_tag("marker", tags) and has_tag("a", tags) and not has_tag("mark", tags)


_TAG = st.one_of(
    st.text(max_size=12),
    st.builds(
        lambda k, v: f"traefik.{k}={v}",
        st.sampled_from(
            [
                "enable",
                "weight",
                "protocol",
                "frontend.rule",
                "frontend.entryPoints",
                "frontend.priority",
                "frontends.x.rule",
                "frontends..rule",
                "backend.weight",
                "backend.loadbalancer",
                "backend.healthcheck.path",
                "frontend.headers.customRequestHeaders",
                "Frontend.Rule",
                "port",
                "",
            ]
        ),
        st.text(max_size=12),
    ),
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["api", "API", "web", "a b", ""]),
            st.lists(_TAG, max_size=6),
            st.sampled_from(["passing", "warning", "critical", "bogus"]),
            st.sampled_from(["", "10.0.0.1", "::1"]),
        ),
        max_size=4,
    ),
    st.booleans(),
)
def test_random_tag_sets_never_crash(
    rows: list[tuple[str, list[str], str, str]], strict: bool
) -> None:
    services = [
        CatalogService(
            name=name,
            instances=(
                CatalogInstance(
                    service=name, node_address=addr, port=80, tags=tags, checks={"c": status}
                ),
            ),
        )
        for name, tags, status, addr in rows
    ]
    config, problems = consul_catalog_v1_to_config(services, domain="d", strict_checks=strict)
    assert isinstance(config, Configuration)
    assert all(isinstance(p, Problem) for p in problems)
