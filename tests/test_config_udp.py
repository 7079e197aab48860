"""UDP routers and services: the model, every codec, validation and qualification."""

from __future__ import annotations

import anyio
import pytest

from routekit.config import (
    ContainerInfo,
    UDPConfiguration,
    UDPLoadBalancer,
    UDPRouter,
    UDPServer,
    UDPService,
    UDPWeighted,
    WeightedService,
    config_to_kv,
    dumps_dynamic,
    kv_to_config,
    labels_to_config,
    reads_config,
)
from routekit.providers import StaticProvider
from routekit.runtime import Watcher

TEXT = """
[udp.routers.dns]
entryPoints = ["dns"]
service = "split"
[udp.services.split.weighted]
services = [{ name = "a", weight = 3 }, { name = "b", weight = 1 }]
[udp.services.a.loadBalancer]
servers = [{ address = "10.0.0.1:53" }]
[udp.services.b.loadBalancer]
servers = [{ address = "10.0.0.2:53" }]
"""
EXPECTED = UDPConfiguration(
    routers={"dns": UDPRouter(service="split", entry_points=("dns",))},
    services={
        "split": UDPService(
            weighted=UDPWeighted(
                services=(WeightedService(name="a", weight=3), WeightedService(name="b"))
            )
        ),
        "a": UDPService(load_balancer=UDPLoadBalancer(servers=(UDPServer(address="10.0.0.1:53"),))),
        "b": UDPService(load_balancer=UDPLoadBalancer(servers=(UDPServer(address="10.0.0.2:53"),))),
    },
)


def test_udp_reads_from_toml_and_round_trips_through_toml_and_kv() -> None:
    result = reads_config(TEXT, source="udp.toml")
    assert result.problems == ()
    assert result.config.udp == EXPECTED
    assert reads_config(dumps_dynamic(result.config)).config == result.config
    assert kv_to_config(config_to_kv(result.config))[0] == result.config
    assert config_to_kv(result.config)["traefik/udp/routers/dns/service"] == "split"


def test_udp_labels_take_the_container_address_and_give_no_http_router() -> None:
    labels = {
        "traefik.udp.routers.dns.entrypoints": "dns",
        "traefik.udp.services.dns.loadbalancer.server.port": "53",
    }
    info = ContainerInfo(name="dns", labels=labels, addresses={"b": "10.0.0.5"}, ports=(53,))
    config, problems = labels_to_config([info])
    assert problems == ()
    assert config.udp.routers == {"dns": UDPRouter(service="dns", entry_points=("dns",))}
    servers = config.udp.services["dns"].load_balancer
    assert servers is not None and servers.servers == (UDPServer(address="10.0.0.5:53"),)
    assert config.http.routers == {} and config.http.services == {}


@pytest.mark.parametrize(
    ("edit", "path", "message"),
    [
        (("10.0.0.1:53", "10.0.0.1:5x3"), "udp.services.a.loadBalancer.servers.0.address", "bad"),
        (('service = "split"', 'service = "splt"'), "udp.routers.dns.service", "did you mean"),
        (("weight = 3", "weight = -3"), "udp.services.split.weighted.services.0.weight", "range"),
        (('[udp.services.b.loadBalancer]', '[udp.services.c.loadBalancer]'),
         "udp.services.split.weighted.services.1.name", "unknown service 'b'"),
    ],
)  # fmt: skip
def test_udp_problems_leave_out_what_depends_on_them(
    edit: tuple[str, str], path: str, message: str
) -> None:
    result = reads_config(TEXT.replace(*edit), source="udp.toml")
    assert result.problems[0].path == path and message in str(result.problems[0])
    assert "dns" not in result.config.udp.routers


@pytest.mark.anyio
async def test_the_watcher_qualifies_udp_names_and_references() -> None:
    watcher = Watcher([StaticProvider(reads_config(TEXT).config)], throttle=0)
    async with watcher.running():
        with anyio.fail_after(3):
            while not watcher.runtime.config.udp.routers:
                await anyio.sleep(0.01)
        udp = watcher.runtime.config.udp
        assert udp.routers["dns@static"].service == "split@static"
        split = udp.services["split@static"].weighted
        assert split is not None and [s.name for s in split.services] == ["a@static", "b@static"]
