"""Traefik v2/v3 Consul catalog provider: catalog services and tags → Configuration."""

from __future__ import annotations

from typing import Any

import pytest

from routekit import ConfigError
from routekit.config import (
    CatalogService,
    ClientCertificate,
    ConnectCertificates,
    consul_catalog_to_config,
)


def entry(
    service: str,
    tags: list[str],
    *,
    node: str = "node-1",
    address: str = "10.0.0.1",
    port: int = 8080,
    sid: str | None = None,
    status: str = "passing",
) -> dict[str, Any]:
    """One element of ``GET /v1/health/service/<name>``, as Consul returns it (trimmed)."""
    return {
        "Node": {"Node": node, "Address": address, "Datacenter": "dc1"},
        "Service": {
            "ID": sid or f"{service}-{node}",
            "Service": service,
            "Tags": tags,
            "Address": address,
            "Port": port,
        },
        "Checks": [
            {"CheckID": "serfHealth", "Status": "passing"},
            {"CheckID": f"service:{service}", "Status": status},
        ],
    }


def catalog(*entries: dict[str, Any]) -> list[CatalogService]:
    by_name: dict[str, list[dict[str, Any]]] = {}
    for e in entries:
        by_name.setdefault(e["Service"]["Service"], []).append(e)
    return [CatalogService.from_health_entries(es) for es in by_name.values()]


def test_instances_become_one_service_with_a_default_router() -> None:
    tags = ["traefik.http.routers.web.rule=Host(`web.example.com`)"]
    config, problems = consul_catalog_to_config(
        catalog(entry("web", tags), entry("web", tags, node="node-2", address="10.0.0.2"))
    )
    assert problems == ()
    assert config.http.routers["web"].rule == "Host(`web.example.com`)"
    servers = config.http.services["web"].load_balancer.servers  # type: ignore[union-attr]
    assert [s.url for s in servers] == ["http://10.0.0.1:8080", "http://10.0.0.2:8080"]
    # Instances that disagree on a router are a conflict, as in Traefik's merge.
    _, problems = consul_catalog_to_config(
        catalog(entry("web", tags), entry("web", [], node="node-2", address="10.0.0.2"))
    )
    assert [p.path for p in problems] == ["http.routers.web"]


def test_one_id_registered_twice_on_a_node_is_one_server() -> None:
    config, _ = consul_catalog_to_config(
        catalog(entry("api", [], sid="api-1"), entry("api", [], sid="api-1", port=9090))
    )
    servers = config.http.services["api"].load_balancer.servers  # type: ignore[union-attr]
    assert [s.url for s in servers] == ["http://10.0.0.1:9090"]  # the later registration


@pytest.mark.parametrize(
    ("checks", "status", "served"),
    [
        (("passing", "warning"), "passing", True),
        (("passing", "warning"), "warning", True),
        (("passing", "warning"), "critical", False),
        (("passing",), "warning", False),
        (("any",), "critical", True),
        (("Critical",), "critical", True),  # case-insensitive, as Traefik
    ],
)
def test_strict_checks_filter_by_health(checks: tuple[str, ...], status: str, served: bool) -> None:
    config, _ = consul_catalog_to_config(
        catalog(entry("w", [], status=status)), strict_checks=checks
    )
    assert ("w" in config.http.services) is served


def test_constraints_match_tags() -> None:
    services = catalog(
        entry("a", ["public"]), entry("b", ["internal"]), entry("c", ["public", "beta"])
    )
    config, _ = consul_catalog_to_config(services, constraints="Tag(`public`) && !Tag(`beta`)")
    assert list(config.http.services) == ["a"]
    with pytest.raises(ConfigError, match="constraints"):
        consul_catalog_to_config(services, constraints="Label(`a`, `b`)")


def test_enable_and_exposed_by_default() -> None:
    services = catalog(entry("a", ["traefik.enable=true"]), entry("b", []))
    config, _ = consul_catalog_to_config(services, exposed_by_default=False)
    assert list(config.http.services) == ["a"]
    config, problems = consul_catalog_to_config(catalog(entry("c", ["traefik.enable=maybe"])))
    assert "c" not in config.http.services
    assert "not a boolean" in problems[0].message


def test_a_canary_is_a_separate_service_named_by_its_tags() -> None:
    canary_tags = ["traefik.consulcatalog.canary=true", "v2"]
    config, problems = consul_catalog_to_config(
        catalog(entry("web", []), entry("web", canary_tags, node="node-9", address="10.0.0.9"))
    )
    assert problems == ()
    # Go: fnv.New64() over the sorted tags joined, printed in decimal (getName).
    expected = 0xCBF29CE484222325
    for byte in "".join(sorted(canary_tags)).encode():
        expected = ((expected * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF) ^ byte
    canary = f"web-{expected}"
    assert set(config.http.services) == {"web", canary}
    lb = config.http.services[canary].load_balancer
    assert lb is not None and [s.url for s in lb.servers] == ["http://10.0.0.9:8080"]
    assert config.http.routers[canary].service == canary
    assert config.http.routers[canary].rule == "Host(`web`)"  # .Name is the Consul service


CONNECT = ConnectCertificates(trust_domain="td.consul", roots=("ROOT-PEM",), cert="C", key="K")


def test_connect_services_go_over_mutual_tls() -> None:
    tags = ["traefik.consulcatalog.connect=true"]
    skipped, problems = consul_catalog_to_config(catalog(entry("pay", tags)))
    assert "pay" not in skipped.http.services
    assert "connectAware is off" in problems[0].message and problems[0].severity == "warning"

    config, problems = consul_catalog_to_config(
        catalog(entry("pay", tags)), connect_aware=True, connect=CONNECT
    )
    assert problems == ()
    lb = config.http.services["pay"].load_balancer
    assert lb is not None
    assert [s.url for s in lb.servers] == ["https://10.0.0.1:8080"]
    assert lb.servers_transport == "tls-default-dc1-pay"
    transport = config.http.servers_transports["tls-default-dc1-pay"]
    assert transport.peer_cert_uri == "spiffe://td.consul/ns/default/dc/dc1/svc/pay"
    assert transport.root_cas == ("ROOT-PEM",)
    assert transport.certificates == (ClientCertificate(cert_file="C", key_file="K"),)
    assert transport.insecure_skip_verify and transport.server_name == "default-dc1-pay"


def test_connect_by_default_without_certificates_or_for_tcp_is_reported() -> None:
    waiting, problems = consul_catalog_to_config(
        catalog(entry("pay", [])), connect_aware=True, connect_by_default=True
    )
    assert "pay" not in waiting.http.services
    assert "certificates" in problems[0].message
    tcp = ["traefik.consulcatalog.connect=true", "traefik.tcp.routers.db.rule=HostSNI(`*`)"]
    config, problems = consul_catalog_to_config(
        catalog(entry("db", tcp)), connect_aware=True, connect=CONNECT
    )
    assert not config.tcp.routers
    assert "not supported" in problems[0].message


def test_labels_to_config_says_it_does_not_apply_consul_keys() -> None:
    from routekit.config import ContainerInfo, labels_to_config

    container = ContainerInfo(
        name="x",
        labels={"traefik.consulcatalog.canary": "true"},
        addresses={"bridge": "10.0.0.1"},
        ports=(80,),
    )
    _, problems = labels_to_config([container])
    assert [p.severity for p in problems] == ["warning"]
    assert "consul_catalog_to_config" in problems[0].message
