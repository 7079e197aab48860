"""Property tests of your own routing table, with the strategies of `routekit.testing`.

    python -m pytest examples/routing_properties.py     # as part of a test suite
    python examples/routing_properties.py               # or on its own

The table is a dynamic configuration as you would deploy it; hypothesis then throws generated
requests at it (other letter cases, ports, trailing dots, odd paths, client addresses) and checks
what must always hold: the API keeps its paths, the admin pages stay private, a known host never
gets a 404, and routes other providers add cannot take the API's paths away.
"""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from routekit import Request, Route, RouteTable, loads_config
from routekit.rules import Rule
from routekit.testing import requests, rules

OUR_CONFIG = loads_config("""
[http.routers.api]
rule = "Host(`api.example.com`) && PathPrefix(`/api`)"
service = "api"
priority = 1000

[http.routers.admin]
rule = "Host(`example.com`) && PathPrefix(`/admin`) && ClientIP(`10.0.0.0/8`)"
service = "admin"

[http.routers.site]
rule = "Host(`example.com`) || Host(`www.example.com`) || Host(`api.example.com`)"
service = "site"

[http.services.api.loadBalancer]
[http.services.admin.loadBalancer]
[http.services.site.loadBalancer]
""")


def our_routes() -> list[Route]:
    """The configuration's routers as routes whose target is the service name."""
    return [
        Route(name, router.rule, target=router.service, priority=router.priority)
        for name, router in OUR_CONFIG.http.routers.items()
    ]


TABLE = RouteTable(our_routes())


def is_internal(client_ip: str | None) -> bool:
    """Whether a peer address (possibly ``ip:port`` or ``[v6]:port``) is in 10.0.0.0/8."""
    if not client_ip:
        return False
    host = client_ip.rsplit(":", 1)[0] if client_ip.count(":") == 1 else client_ip
    try:
        return ipaddress.ip_address(host.strip("[]")) in ipaddress.ip_network("10.0.0.0/8")
    except ValueError:
        return False


def starts_with_api(path: str) -> bool:
    """Whether a routing path is under Traefik's ``PathPrefix(`/api`)`` (a plain prefix)."""
    return path.startswith("/api")


@settings(max_examples=300, deadline=None)
@given(requests())
def test_api_paths_always_reach_the_api(request: Request) -> None:
    """Every request for the API host under /api goes to the api service, whatever its case."""
    match = TABLE.match(request)
    if request.host == "api.example.com" and starts_with_api(request.path):
        assert match is not None and match.route.target == "api"


@settings(max_examples=300, deadline=None)
@given(requests())
def test_admin_is_only_reached_from_inside(request: Request) -> None:
    """The admin service answers clients from 10.0.0.0/8 only."""
    match = TABLE.match(request)
    if match is not None and match.route.target == "admin":
        assert is_internal(request.client_ip)


@settings(max_examples=300, deadline=None)
@given(requests())
def test_known_hosts_never_get_a_404(request: Request) -> None:
    """A request for one of our hosts is always routed somewhere."""
    if request.host in {"example.com", "www.example.com", "api.example.com"}:
        assert TABLE.match(request) is not None


#: Requests for the API's paths, as clients send them.
API_REQUESTS = st.builds(
    Request,
    method=st.sampled_from(["GET", "POST", "delete"]),
    host=st.sampled_from(["api.example.com", "API.Example.com:8443", "api.example.com."]),
    path=st.sampled_from(["/api", "/api/", "/api/v1/users", "/api/a%20b", "/apiary"]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(rules(), max_size=6), API_REQUESTS)
def test_other_providers_cannot_take_the_api(extra: list[Rule], request: Request) -> None:
    """Routes another provider adds, at their default priority, never win the API's paths."""
    added = [Route(f"r{i}@docker", rule, target="other") for i, rule in enumerate(extra)]
    match = RouteTable([*our_routes(), *added]).match(request)
    assert match is not None and match.route.target == "api"


if __name__ == "__main__":
    for test in (
        test_api_paths_always_reach_the_api,
        test_admin_is_only_reached_from_inside,
        test_known_hosts_never_get_a_404,
        test_other_providers_cannot_take_the_api,
    ):
        test()
        print(f"ok  {test.__name__}")
