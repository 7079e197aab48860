"""TCP routers, services and middlewares built by `build` and answered by `Runtime.route_tcp`."""

from __future__ import annotations

from routekit.config import (
    Configuration,
    TCPConfiguration,
    TCPInFlightConn,
    TCPLoadBalancer,
    TCPRouter,
    TCPRouterTLS,
    TCPServer,
    TCPService,
    loads_config,
    loads_dynamic,
)
from routekit.rules import TCPConnection
from routekit.runtime import build

CONFIG = """
[tcp.middlewares.limit.inFlightConn]
amount = 10

[tcp.routers.db]
rule = "HostSNI(`db.example.com`)"
service = "db"
middlewares = ["limit"]
entryPoints = ["pg"]
tls = {passthrough = true}

[tcp.routers.wild]
rule = "HostSNI(`*.example.com`)"
service = "other"
entryPoints = ["pg"]
tls = {}

[tcp.routers.rest]
rule = "HostSNI(`*`)"
service = "both"

[tcp.services.db.loadBalancer]
servers = [{address = "10.0.0.1:5432"}, {address = "10.0.0.2:5432"}]

[tcp.services.other.loadBalancer]
servers = [{address = "10.0.0.3:5432"}]

[tcp.services.both.weighted]
services = [{name = "db", weight = 3}, {name = "other", weight = 1}]
"""


def test_connections_are_routed_by_sni_with_the_catch_all_last() -> None:
    runtime = build(loads_config(CONFIG), entry_points=("web", "pg"))
    assert runtime.problems == ()
    assert set(runtime.tcp_tables) == {"web", "pg"}  # `rest` has no entryPoints: every default

    exact = runtime.route_tcp(TCPConnection(sni="db.example.com"), "pg")
    assert exact is not None and exact.target.router == "db"
    assert exact.target.middlewares == (TCPInFlightConn(amount=10),)
    assert exact.target.tls is not None and exact.target.tls.passthrough
    picked = {str(exact.target.service.acquire().server) for _ in range(4)}
    assert picked == {"10.0.0.1:5432", "10.0.0.2:5432"}

    wildcard = runtime.route_tcp(TCPConnection(sni="api.example.com"), "pg")
    assert wildcard is not None and wildcard.target.router == "wild"
    rest = runtime.route_tcp(TCPConnection(sni="other.org"), "pg")
    assert rest is not None and rest.target.router == "rest"
    plain = runtime.route_tcp(TCPConnection(client_ip="192.0.2.1"))
    assert plain is not None and (plain.target.router, plain.entry_point) == ("rest", "web")


def test_a_weighted_tcp_service_spreads_connections_by_weight() -> None:
    runtime = build(loads_config(CONFIG))
    both = runtime.tcp_services["both"]
    servers = [str(both.acquire().server) for _ in range(8)]
    assert sum(s.endswith(".3:5432") for s in servers) == 2  # weight 1 of 4


TLS = TCPRouterTLS()


def test_what_cannot_be_built_is_reported_and_the_rest_routes() -> None:
    config = Configuration(
        tcp=TCPConfiguration(
            routers={
                "bad-rule": TCPRouter(rule="Host(`a.com`)", service="s"),
                "no-service": TCPRouter(rule="HostSNI(`b.com`)", service="nope", tls=TLS),
                "no-middleware": TCPRouter(
                    rule="HostSNI(`c.com`)", service="s", middlewares=("x",), tls=TLS
                ),
                "good": TCPRouter(rule="HostSNI(`d.com`)", service="s", tls=TLS),
            },
            services={
                "s": TCPService(load_balancer=TCPLoadBalancer(servers=(TCPServer(address="a:1"),)))
            },
        )
    )
    runtime = build(config)
    paths = sorted(p.path for p in runtime.errors)
    assert paths == [
        "tcp.routers.bad-rule.rule",
        "tcp.routers.no-middleware.middlewares",
        "tcp.routers.no-service.service",
    ]
    assert [r.name for r in runtime.tcp_tables["web"]] == ["good"]


def test_a_loop_of_tcp_services_is_reported() -> None:
    text = CONFIG.replace(
        '[tcp.services.other.loadBalancer]\nservers = [{address = "10.0.0.3:5432"}]',
        '[tcp.services.other.weighted]\nservices = [{name = "both"}]',
    )
    config, problems = loads_dynamic(text)  # decoded, not validated: build meets the loop
    assert problems == []
    runtime = build(config)
    assert any("loop" in p.message for p in runtime.errors)
    assert runtime.route_tcp(TCPConnection(sni="db.example.com"), "pg") is not None


def test_an_unchanged_tcp_service_keeps_its_balancer_across_builds() -> None:
    first = build(loads_config(CONFIG))
    changed = CONFIG.replace("10.0.0.3:5432", "10.0.0.4:5432")
    second = build(loads_config(changed), previous=first)
    assert second.tcp_services["db"] is first.tcp_services["db"]
    assert second.tcp_services["other"] is not first.tcp_services["other"]


def test_a_host_sni_router_without_tls_is_refused_as_traefik_does() -> None:
    text = """
[tcp.routers.plain]
rule = "HostSNI(`db.example.com`)"
service = "s"
[tcp.routers.any]
rule = "HostSNI(`*`) && ClientIP(`10.0.0.0/8`)"
service = "s"
[tcp.services.s.loadBalancer]
servers = [{address = "10.0.0.1:5432"}]
"""
    from routekit.config import reads_config

    result = reads_config(text, source="t.toml")
    (problem,) = result.errors
    assert problem.path == "tcp.routers.plain.rule" and "no TLS on router" in problem.message
    assert list(result.config.tcp.routers) == ["any"]
    config, _ = loads_dynamic(text)
    runtime = build(config)
    assert [p.path for p in runtime.errors] == ["tcp.routers.plain.rule"]
    assert [r.name for r in runtime.tcp_tables["web"]] == ["any"]
