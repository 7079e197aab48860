"""The admin API against Traefik's golden files, continued: entry points, the overview, TCP, UDP
and ``/api/rawdata`` (the cases and the comparison are those of ``test_admin_golden``)."""

from __future__ import annotations

import json

import pytest

from routekit.config import MIDDLEWARE_TYPES, TCP_MIDDLEWARE_TYPES, EntryPoint
from test_admin_golden import (
    ANOTHER,
    AUTH,
    BAR,
    FOO_SERVICE,
    HOST_SNI,
    MIDDLEWARES,
    NO_UDP,
    TEST,
    USERS,
    Case,
    add_prefix,
    allow_list,
    check,
    lb,
    qualified,
    router,
)

pytestmark = pytest.mark.anyio

NOT_MODELLED = "routekit's entry points have no transport timeouts nor PROXY protocol settings"
#: Traefik's test starts its handler with no provider configured, and fills the runtime by hand.
FROM_A_PROVIDER = "routekit's elements come from a provider, which the overview lists"


def tcp(name: str, rule: str = "HostSNI(`*`)", service: str = "foo-service@myprovider",
        *middlewares: str, entry_points: tuple[str, ...] = ("web",)) -> str:  # fmt: skip
    """A TCP router; with TLS unless it matches every connection (``HostSNI(`*`)``), as
    ``HostSNI`` of a name needs TLS (Traefik: "has HostSNI matcher, but no TLS on router")."""
    tls = "" if rule == "HostSNI(`*`)" else f'[tcp.routers."{name}".tls]\n'
    return router(name, rule, service, middlewares, section="tcp", entry_points=entry_points,
                  extra=tls)  # fmt: skip


def udp(name: str, service: str = "foo-service@myprovider") -> str:
    """A UDP router (UDP routers have no rule)."""
    return router(name, "", service, section="udp")


TCP_FOO = lb("foo-service", "127.0.0.1:2345", section="tcp")
TCP_ALLOW = allow_list("ipallowlist1", "127.0.0.1/32") + allow_list("ipallowlist2", "127.0.0.2/32")
TCP_ROUTERS = (
    tcp("bar", "HostSNI(`*`)", "foo-service@myprovider", "ipallowlist1",
        "ipallowlist1@anotherprovider")
    + tcp("test", "HostSNI(`*`)", "foo-service@myprovider", "ipallowlist1", "ipallowlist2")
)  # fmt: skip
TO_TCP_BAR = tcp("foo", service="bar") + tcp("test", service="bar")
EP = EntryPoint

# fmt: off
ENTRY_POINT_CASES = {
    "all entry points, but no config": Case("/api/entrypoints", "entrypoints-empty.json", {},
                                            next_page="1", entry_points={}),
    "all entry points": Case(
        "/api/entrypoints", "entrypoints.json", {}, next_page="1",
        entry_points={
            "web": EP(address=":80", forwarded_headers_insecure=True,
                      trusted_ips=("192.168.1.3", "192.168.1.4")),
            "websecure": EP(address=":443", forwarded_headers_insecure=True,
                            trusted_ips=("192.168.1.30", "192.168.1.40")),
        },
        allowed={f"missing $/{ep}/{key}": NOT_MODELLED for ep in ("web", "websecure")
                 for key in ("transport", "proxyProtocol")},
    ),
    "all entry points, 1 per page, page 2": Case(
        "/api/entrypoints?page=2&per_page=1", "entrypoints-page2.json", {}, next_page="3",
        entry_points={f"web{i}": EP(address=f":8{i}") for i in (1, 2, 3)},
    ),
    "19 entry points, 7 per page, page 3": Case(
        "/api/entrypoints?page=3&per_page=7", "entrypoints-many-lastpage.json", {}, next_page="1",
        entry_points={f"ep{i:2d}": EP(address=f":{i}") for i in range(19)},
    ),
    "one entry point by id": Case("/api/entrypoints/bar", "entrypoint-bar.json", {},
                                  entry_points={"bar": EP(address=":81")}),
    "one entry point by id containing slash": Case(
        "/api/entrypoints/foo%20%2F%20bar", "entrypoint-foo-slash-bar.json", {},
        entry_points={"foo / bar": EP(address=":81")},
    ),
    "one entry point by id, that does not exist": Case(
        "/api/entrypoints/foo", '{"message": "entry point not found: foo"}', {}, status=404,
        entry_points={"bar": EP(address=":81")},
    ),
}

OVERVIEW_CASES = {
    "without data in the dynamic configuration": Case("/api/overview", "overview-empty.json", {}),
    "with data in the dynamic configuration": Case(
        "/api/overview", "overview-dynamic.json",
        {
            "myprovider":
            # Routers: enabled; warning (an entry point no one serves); disabled (its service
            # is not in anotherprovider).
            router("bar", "Host(`foo.bar`)", middlewares=["auth"])
            + router("test", "Host(`foo.bar.other`)", entry_points=["web", "nope"])
            + router("foo", "Host(`foo.bar.other`)", "nope@anotherprovider")
            # Services: enabled; warning (no servers); disabled (a weighted one of nothing).
            + FOO_SERVICE + "[http.services.bar-service.loadBalancer]\n"
            + '[http.services.fii-service.weighted]\n'
              '[[http.services.fii-service.weighted.services]]\nname = "nope@anotherprovider"\n'
            # Middlewares: two, and one anotherprovider cannot load.
            + AUTH
            # TCP routers, services, middlewares: the same, and one of each refused.
            + tcp("tcpbar", "HostSNI(`*`)", "tcpfoo-service")
            + tcp("tcptest", "HostSNI(`*`)", "tcpfoo-service", entry_points=("web", "nope"))
            + tcp("tcpfoo", "HostSNI(`*`)", "nope@anotherprovider")
            + lb("tcpfoo-service", "127.0.0.1:2345", section="tcp")
            + lb("tcpbar-service", "127.0.0.2:2345", section="tcp")
            + "[tcp.services.tcpfii-service.loadBalancer]\n"
            + allow_list("ipallowlist1", "127.0.0.1/32")
            + allow_list("ipallowlist2", "127.0.0.1/32")
            + allow_list("ipallowlist3", "127.0.0.1/33"),
            "anotherprovider": '[http.middlewares.addPrefixTest.stripPrefixRegex]\nregex = ["("]\n'
            + add_prefix("other", "/titi"),
        },
        allowed={
            "extra $/providers": FROM_A_PROVIDER,
            "value $/tcp/services/warnings: 1 != 0": "no routekit check finds a TCP service that "
            "works with a warning: Traefik's test sets the status by hand",
        },
    ),
    "with providers": Case(
        "/api/overview", "overview-providers.json", {},
        providers_named=["plugin-test", "rest", "file", "kubernetescrd", "docker", "kubernetes",
                         "swarm"],
    ),
    "with features": Case("/api/overview", "overview-features.json", {}, metrics="prometheus"),
}

TCP_CASES = {
    "all TCP routers, but no config": Case("/api/tcp/routers", "tcprouters-empty.json", {},
                                           next_page="1"),
    "all TCP routers, 1 per page, page 2": Case(
        "/api/tcp/routers?page=2&per_page=1", "tcprouters-page2.json",
        {"myprovider": tcp("bar") + tcp("baz") + tcp("test") + TCP_FOO},
        next_page="3", allowed={"value $/baz@myprovider/rule: *": HOST_SNI},
    ),
    "one TCP router by id": Case(
        "/api/tcp/routers/bar@myprovider", "tcprouter-bar.json",
        {"myprovider": tcp("bar") + TCP_FOO},
        allowed={"value $/rule: *": HOST_SNI},
    ),
    "one TCP router by id, that does not exist": Case(
        "/api/tcp/routers/foo@myprovider", '{"message": "router not found: foo@myprovider"}',
        {"myprovider": tcp("bar") + TCP_FOO}, status=404,
    ),
    "one TCP service by id": Case(
        "/api/tcp/services/bar@myprovider", "tcpservice-bar.json",
        {"myprovider": TO_TCP_BAR + lb("bar", "127.0.0.1:2345", section="tcp")},
    ),
    "all TCP middlewares": Case(
        "/api/tcp/middlewares", "tcpmiddlewares.json",
        {"myprovider": TCP_ROUTERS + TCP_FOO + TCP_ALLOW,
         "anotherprovider": allow_list("ipallowlist1", "127.0.0.1/32")},
        next_page="1",
    ),
    "one TCP middleware by id": Case(
        "/api/tcp/middlewares/ipallowlist@myprovider", "tcpmiddleware-ipallowlist.json",
        {"myprovider": tcp("bar", "HostSNI(`*`)", "foo-service", "ipallowlist")
         + tcp("test", "HostSNI(`*`)", "foo-service", "ipallowlist")
         + TCP_FOO + allow_list("ipallowlist", "127.0.0.1/32")},
    ),
    "one UDP router by id": Case(
        "/api/udp/routers/bar@myprovider", "udprouter-bar.json",
        {"myprovider": udp("bar") + lb("foo-service", "127.0.0.1:2345", section="udp")},
        allowed={"value $/status: 'enabled' != 'disabled'": NO_UDP, "missing $/using": NO_UDP,
                 "extra $/error": NO_UDP},
    ),
    "one UDP service by id": Case(
        "/api/udp/services/bar@myprovider", "udpservice-bar.json",
        {"myprovider": udp("foo", "bar") + udp("test", "bar")
         + lb("bar", "127.0.0.1:2345", section="udp")},
    ),
}

#: Traefik's test data has no failover service: the expected answer is written from the JSON tags
#: of Traefik's ``dynamic.Failover`` (service, fallback) and ``newServiceRepresentation``.
FAILOVER = {"failover": {"service": "main", "fallback": "backup"},
            "name": "fo@myprovider", "provider": "myprovider", "status": "enabled",
            "type": "failover", "usedBy": ["foo@myprovider"]}
FAILOVER_CASES = {
    "one failover service by id": Case(
        "/api/http/services/fo@myprovider", json.dumps(FAILOVER),
        {"myprovider": router("foo", "Host(`foo`)", "fo") + lb("main", "http://127.0.0.1")
         + lb("backup", "http://127.0.0.2")
         + '[http.services.fo.failover]\nservice = "main"\nfallback = "backup"\n'},
        allowed=qualified("failover/", "main", "backup"),
    ),
}

#: The fields of Traefik's ``dynamic.Middleware`` and ``dynamic.TCPMiddleware`` whose lower case
#: is a middleware's ``type`` in Traefik's API (``extractType``), v3.7.
TRAEFIK_MIDDLEWARES = {
    "AddPrefix", "StripPrefix", "StripPrefixRegex", "ReplacePath", "ReplacePathRegex", "Chain",
    "IPWhiteList", "IPAllowList", "Headers", "EncodedCharacters", "Errors", "RateLimit",
    "RedirectRegex", "RedirectScheme", "BasicAuth", "DigestAuth", "ForwardAuth", "InFlightReq",
    "Buffering", "CircuitBreaker", "Compress", "PassTLSClientCert", "Retry", "ContentType",
    "GrpcWeb",
}
TRAEFIK_TCP_MIDDLEWARES = {"InFlightConn", "IPWhiteList", "IPAllowList"}

#: Traefik's rawdata test builds its runtime without the entry point and server steps.
NOT_RUN = "Traefik's rawdata test skips the steps of a running Traefik that give this field"
RAWDATA_CASES = {
    "get rawdata": Case(
        "/api/rawdata", "getrawdata.json",
        {"myprovider": BAR + TEST + FOO_SERVICE + MIDDLEWARES
         + tcp("tcpbar", "HostSNI(`foo.bar`)", "tcpfoo-service")
         + tcp("tcptest", "HostSNI(`foo.bar.other`)", "tcpfoo-service")
         + lb("tcpfoo-service", "127.0.0.1:2345", section="tcp"),
         **ANOTHER},
        allowed={
            **qualified("middlewares", "auth", "addPrefixTest"),
            "value $/middlewares/auth@myprovider/basicAuth/users/0: *": USERS,
            "extra $/routers/*/using": NOT_RUN, "extra $/tcpRouters/*/using": NOT_RUN,
            "extra $/tcpRouters/*/tls": "HostSNI() of a name needs TLS on the router, in Traefik "
            "too (its test data has none)",
            "extra $/services/foo-service@myprovider/serverStatus": NOT_RUN,
            "extra $/tcpServices/tcpfoo-service@myprovider/serverStatus": NOT_RUN,
            "value $/tcpServices/*/address: '127.0.0.1' != '127.0.0.1:2345'":
                "a TCP server needs a port in routekit, as in a running Traefik",
        },
    ),
}
# fmt: on


CASES = {**ENTRY_POINT_CASES, **OVERVIEW_CASES, **TCP_CASES, **FAILOVER_CASES, **RAWDATA_CASES}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_answers_are_traefiks(case: Case) -> None:
    await check(case)


def test_middleware_types_are_traefiks() -> None:
    for types, traefik in ((MIDDLEWARE_TYPES, TRAEFIK_MIDDLEWARES),
                           (TCP_MIDDLEWARE_TYPES, TRAEFIK_TCP_MIDDLEWARES)):  # fmt: skip
        theirs = {t.lower() for t in traefik}
        assert {cls.type_key.lower() for cls in types.values()} <= theirs
