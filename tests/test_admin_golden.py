"""The admin API's JSON against Traefik's own: the answers of ``pkg/api``'s test files.

Each case builds in routekit the configuration a Traefik test case (``pkg/api/handler_*_test.go``)
builds, from providers of the same names (``myprovider``, ``anotherprovider``) through a real
`Watcher`, asks routekit's admin over a socket and compares the answer with Traefik's golden
file (``tests/golden/traefik_api/``, see its README): the same keys at every level, the same
value types, the same order of list elements, the same values.  Where routekit differs on
purpose, the case names the difference with the reason; a difference not named fails the test,
and so does a named one that is no longer there.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, NamedTuple

import anyio
import pytest

from routekit.admin import Admin, AdminAPI
from routekit.config import EntryPoint, reads_config
from routekit.http import Client, EntryPointServer
from routekit.providers import StaticProvider
from routekit.runtime import Watcher

pytestmark = pytest.mark.anyio

GOLDEN = Path(__file__).parent / "golden" / "traefik_api"
WEB = {"web": EntryPoint(address=":80")}
# htpasswd -nbs admin admin: Traefik's tests write a bare "admin:admin", which basicAuth refuses.
ADMIN = "admin:{SHA}" + base64.b64encode(hashlib.sha1(b"admin").digest()).decode()


class Case(NamedTuple):
    """One request of a Traefik test case, the configuration it runs on, and what it gets."""

    path: str
    golden: str  # a file of tests/golden/traefik_api, or the JSON body itself
    providers: Mapping[str, str]  # provider name → dynamic TOML
    status: int = 200
    next_page: str | None = None  # X-Next-Page; None: no header (one element, an error)
    allowed: Mapping[str, str] = {}  # difference (fnmatch pattern) → why routekit differs
    entry_points: Mapping[str, EntryPoint] = WEB
    metrics: str = ""
    providers_named: Sequence[str] | None = None


# -- configurations, written as Traefik's test cases write them ----------------------------------


def router(name: str, rule: str, service: str = "foo-service@myprovider",
           middlewares: Sequence[str] = (), *, section: str = "http",
           entry_points: Sequence[str] = ("web",), extra: str = "") -> str:  # fmt: skip
    """A router of *section* (``http``, ``tcp``, ``udp``)."""
    lines = [f'[{section}.routers."{name}"]', f"entryPoints = {json.dumps(list(entry_points))}",
             f'service = "{service}"']  # fmt: skip
    if rule:
        lines.append(f'rule = "{rule}"')
    if middlewares:
        lines.append(f"middlewares = {json.dumps(list(middlewares))}")
    return "\n".join(lines) + "\n" + extra


def lb(name: str, *urls: str, section: str = "http") -> str:
    """A load balancer service of *section* over *urls* (addresses for TCP and UDP)."""
    key = "url" if section == "http" else "address"
    return "".join(
        f'[[{section}.services."{name}".loadBalancer.servers]]\n{key} = "{u}"\n' for u in urls
    )


def add_prefix(name: str, prefix: str) -> str:
    """An addPrefix middleware."""
    return f'[http.middlewares."{name}".addPrefix]\nprefix = "{prefix}"\n'


def allow_list(name: str, *sources: str) -> str:
    """A TCP ipAllowList middleware."""
    return f'[tcp.middlewares."{name}".ipAllowList]\nsourceRange = {json.dumps(list(sources))}\n'


AUTH = f'[http.middlewares.auth.basicAuth]\nusers = ["{ADMIN}"]\n'
FOO_SERVICE = lb("foo-service", "http://127.0.0.1")
BAR = router("bar", "Host(`foo.bar`)", middlewares=["auth", "addPrefixTest@anotherprovider"])
TEST = router("test", "Host(`foo.bar.other`)", middlewares=["addPrefixTest", "auth"])
MIDDLEWARES = AUTH + add_prefix("addPrefixTest", "/titi")
ANOTHER = {"anotherprovider": add_prefix("addPrefixTest", "/toto")}
FII = (
    router("test", "Host(`fii.bar.other`)", "fii-service@myprovider", ["addPrefixTest", "auth"])
    + BAR + FOO_SERVICE + lb("fii-service", "http://127.0.0.1") + MIDDLEWARES
)  # fmt: skip
FII_OTHER = router("foo", "Host(`fii.foo.other`)", "fii-service") + lb("fii-service", "http://x")

# -- the differences routekit keeps ----------------------------------------------------------------

#: Traefik's API echoes a reference as written (``auth``); routekit merges providers as Traefik's
#: aggregator does but qualifies references then (``auth@myprovider``), so that a reference
#: says which element it is.
QUALIFIED = "references are shown qualified (name@provider), not as written"
USERS = "Traefik's test writes a bare admin:admin, which basicAuth refuses; the user is hashed"
HOST_SNI = "Traefik's test writes Host() on a TCP router: HostSNI(`*`) is the TCP match-all"
NO_UDP = "routekit routes no UDP: no entry point serves a UDP router, which is disabled for it"
BY_HAND = "Traefik's test sets this status (or usedBy) by hand; routekit has it from a real cause"


def qualified(field: str, *names: str) -> dict[str, str]:
    """The allowed differences of references *names* shown qualified in *field* (any element)."""
    return {f"value $*/{field}*: '{n}' != '{n}@myprovider'": QUALIFIED for n in names}


def baz_tls(options: str) -> str:
    """Router baz of Traefik's TLS cases, with a ``tls`` table of *options*."""
    return router("baz", "Host(`foo.baz`)", middlewares=["auth", "addPrefixTest@anotherprovider"],
                  extra=f"[http.routers.baz.tls]\n{options}")  # fmt: skip


def routers_named(count: int) -> str:
    """Traefik's ``generateHTTPRouters``: ``bar 0`` … ``bar18`` (``%2d``) to foo-service."""
    return "".join(router(f"bar{i:2d}", f"Host(`foo.bar{i}`)") for i in range(count))


# fmt: off
HTTP_CASES = {
    "all routers, but no config": Case("/api/http/routers", "routers-empty.json", {},
                                       next_page="1"),
    "all routers": Case(
        "/api/http/routers", "routers.json",
        {"myprovider": TEST + BAR + FOO_SERVICE + MIDDLEWARES, **ANOTHER}, next_page="1",
        allowed=qualified("middlewares", "auth", "addPrefixTest"),
    ),
    "all routers, 1 per page, page 2": Case(
        "/api/http/routers?page=2&per_page=1", "routers-page2.json",
        {"myprovider": BAR + router("baz", "Host(`toto.bar`)") + TEST + FOO_SERVICE + MIDDLEWARES,
         **ANOTHER},
        next_page="3",
    ),
    "19 routers, 7 per page, page 3": Case(
        "/api/http/routers?page=3&per_page=7", "routers-many-lastpage.json",
        {"myprovider": routers_named(19) + FOO_SERVICE}, next_page="1",
    ),
    "10 routers, 10 per page, page 2": Case(
        "/api/http/routers?page=2&per_page=10",
        '{"message": "invalid request: page: 2, per_page: 10"}',
        {"myprovider": routers_named(10) + FOO_SERVICE}, status=400,
    ),
    "per_page is not a positive number": Case(
        "/api/http/routers?per_page=none", '{"message": "invalid request: per_page: 0"}', {},
        status=400,
    ),
    "routers filtered by status": Case(
        # bar is disabled: anotherprovider has no addPrefixTest.
        "/api/http/routers?status=enabled", "routers-filtered-status.json",
        {"myprovider": TEST + BAR + FOO_SERVICE + MIDDLEWARES}, next_page="1",
        allowed=qualified("middlewares", "auth", "addPrefixTest"),
    ),
    "routers filtered by search": Case(
        "/api/http/routers?search=fii", "routers-filtered-search.json",
        {"myprovider": FII},
        next_page="1", allowed=qualified("middlewares", "auth", "addPrefixTest"),
    ),
    "routers filtered by service": Case(
        "/api/http/routers?serviceName=fii-service@myprovider", "routers-filtered-serviceName.json",
        {"myprovider": FII, "otherprovider": FII_OTHER},
        next_page="1",
        allowed={
            **qualified("middlewares", "auth", "addPrefixTest"),
            "missing $/foo@otherprovider": "Traefik matches fii-service as written in "
            "otherprovider with fii-service@myprovider; routekit resolves it to "
            "fii-service@otherprovider, another service",
        },
    ),
    "routers filtered by middleware": Case(
        "/api/http/routers?middlewareName=auth", "routers-filtered-middlewareName.json",
        {"myprovider": FII, "otherprovider": FII_OTHER},
        next_page="1",
        allowed={**qualified("middlewares", "auth", "addPrefixTest"),
                 "extra $/bar@myprovider/error": BY_HAND},
    ),
    "one router by id": Case(
        "/api/http/routers/bar@myprovider", "router-bar.json",
        {"myprovider": BAR + FOO_SERVICE + MIDDLEWARES, **ANOTHER},
        allowed=qualified("middlewares", "auth"),
    ),
    "one router by id containing slash": Case(
        "/api/http/routers/foo%20%2F%20bar%40myprovider", "router-foo-slash-bar.json",
        {"myprovider": router("foo / bar", "Host(`foo.bar`)",
                              middlewares=["auth", "addPrefixTest@anotherprovider"])
         + FOO_SERVICE + MIDDLEWARES, **ANOTHER},
        allowed=qualified("middlewares", "auth"),
    ),
    "one router by id, default TLS options": Case(
        "/api/http/routers/baz@myprovider", "router-baz-default-tls-options.json",
        {"myprovider": baz_tls("") + FOO_SERVICE + MIDDLEWARES, **ANOTHER},
        allowed=qualified("middlewares", "auth"),
    ),
    "one router by id, specific TLS options": Case(
        "/api/http/routers/baz@myprovider", "router-baz-custom-tls-options.json",
        {"myprovider": baz_tls('options = "myTLS"\n') + FOO_SERVICE + MIDDLEWARES
         + '[tls.options.myTLS]\nminVersion = "VersionTLS12"\n', **ANOTHER},
        allowed={**qualified("middlewares", "auth"), **qualified("tls/options", "myTLS")},
    ),
    "one router by id, that does not exist": Case(
        "/api/http/routers/foo@myprovider", '{"message": "router not found: foo@myprovider"}',
        {"myprovider": BAR + FOO_SERVICE + MIDDLEWARES, **ANOTHER}, status=404,
    ),
}

#: Traefik's test gives foo@myprovider four services at once (usedBy written by hand); a router
#: has one service, so routekit's foo uses bar and the others are used by no router.
ONE_SERVICE = "a router uses one service: Traefik's test writes usedBy by hand"
SERVICES = lb("bar", "http://127.0.0.1") + lb("baz", "http://127.0.0.2")
TO_BAR = router("foo", "Host(`foo`)", "bar") + router("test", "Host(`test`)", "bar")

SERVICE_CASES = {
    "all services, but no config": Case("/api/http/services", "services-empty.json", {},
                                        next_page="1"),
    "all services": Case(
        "/api/http/services", "services.json",
        {"myprovider": SERVICES + TO_BAR
         + '[http.services.canary.weighted]\n[[http.services.canary.weighted.services]]\n'
           'name = "bar"\n[http.services.canary.weighted.sticky.cookie]\nname = "chocolat"\n'
           'secure = true\nhttpOnly = true\n'
         + '[http.services.mirror.mirroring]\nservice = "one"\n'
         + "".join(f'[[http.services.mirror.mirroring.mirrors]]\nname = "{n}"\npercent = {p}\n'
                   for n, p in (("two", 10), ("three", 15), ("four", 80)))
         + "".join(lb(n, "http://127.0.0.9") for n in ("one", "two", "three", "four"))},
        next_page="1",
        allowed={
            "extra $/canary@myprovider/weighted/services": "Traefik's test leaves the weighted "
            "service without services, which no configuration can load",
            **{f"extra $/{n}@myprovider": "the mirroring's services must exist to load it"
               for n in ("one", "two", "three", "four")},
            "missing $/baz@myprovider/usedBy": ONE_SERVICE,
            "missing $/canary@myprovider/usedBy": ONE_SERVICE,
            "missing $/mirror@myprovider/usedBy": ONE_SERVICE,
        },
    ),
    "all services, 1 per page, page 2": Case(
        "/api/http/services?page=2&per_page=1", "services-page2.json",
        {"myprovider": SERVICES + lb("test", "http://127.0.0.3")
         + router("foo", "Host(`foo`)", "baz")},
        next_page="3",
    ),
    "services filtered by status": Case(
        # baz is disabled: its weighted service names one anotherprovider has not.
        "/api/http/services?status=enabled", "services-filtered-status.json",
        {"myprovider": lb("bar", "http://127.0.0.1") + TO_BAR
         + '[http.services.baz.weighted]\n[[http.services.baz.weighted.services]]\n'
           'name = "nope@anotherprovider"\n'},
        next_page="1",
    ),
    "one service by id": Case(
        "/api/http/services/bar@myprovider", "service-bar.json", {"myprovider": SERVICES + TO_BAR}
    ),
    "one service by id, that does not exist": Case(
        "/api/http/services/nono@myprovider", '{"message": "service not found: nono@myprovider"}',
        {"myprovider": SERVICES + TO_BAR}, status=404,
    ),
    "all middlewares, but no config": Case("/api/http/middlewares", "middlewares-empty.json", {},
                                           next_page="1"),
    "all middlewares": Case(
        "/api/http/middlewares", "middlewares.json",
        {"myprovider": TEST + BAR + FOO_SERVICE + MIDDLEWARES, **ANOTHER}, next_page="1",
        allowed={"value $/auth@myprovider/basicAuth/users/0: *": USERS},
    ),
    "all middlewares, 1 per page, page 2": Case(
        "/api/http/middlewares?page=2&per_page=1", "middlewares-page2.json",
        {"myprovider": TEST + BAR + FOO_SERVICE + MIDDLEWARES, **ANOTHER}, next_page="3",
    ),
    "one middleware by id": Case(
        "/api/http/middlewares/auth@myprovider", "middleware-auth.json",
        {"myprovider": TEST + BAR + FOO_SERVICE + MIDDLEWARES, **ANOTHER},
        allowed={"value $/basicAuth/users/0: *": USERS},
    ),
    "one middleware by id, that does not exist": Case(
        "/api/http/middlewares/foo@myprovider",
        '{"message": "middleware not found: foo@myprovider"}',
        {"myprovider": TEST + BAR + FOO_SERVICE + MIDDLEWARES, **ANOTHER}, status=404,
    ),
}
# fmt: on


# -- comparing -----------------------------------------------------------------------------------


def _named(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(i, dict) and "name" in i for i in items)


def differences(golden: Any, actual: Any, where: str = "$") -> list[str]:
    """Every difference between *golden* and *actual*: keys missing or extra at any level,
    values of another type, other values, list elements (by name when they have one) missing,
    extra or in another order."""
    if isinstance(golden, dict) and isinstance(actual, dict):
        out = [f"missing {where}/{k}" for k in golden.keys() - actual.keys()]
        out += [f"extra {where}/{k}" for k in actual.keys() - golden.keys()]
        for key in golden.keys() & actual.keys():
            out += differences(golden[key], actual[key], f"{where}/{key}")
        return out
    if isinstance(golden, list) and isinstance(actual, list):
        if _named(golden) and _named(actual):
            mine = {i["name"]: i for i in actual}
            theirs = {i["name"]: i for i in golden}
            out = [f"missing {where}/{n}" for n in theirs if n not in mine]
            out += [f"extra {where}/{n}" for n in mine if n not in theirs]
            order = ([n for n in theirs if n in mine], [n for n in mine if n in theirs])
            if order[0] != order[1]:
                out.append(f"order {where}: {order[0]} != {order[1]}")
            for name in theirs.keys() & mine.keys():
                out += differences(theirs[name], mine[name], f"{where}/{name}")
            return out
        out = (
            [f"length {where}: {len(golden)} != {len(actual)}"]
            if len(golden) != len(actual)
            else []
        )
        for i, (g, a) in enumerate(zip(golden, actual, strict=False)):
            out += differences(g, a, f"{where}/{i}")
        return out
    if type(golden) is not type(actual):
        return [f"type {where}: {type(golden).__name__} != {type(actual).__name__}"]
    return [] if golden == actual else [f"value {where}: {golden!r} != {actual!r}"]


def test_differences_are_found() -> None:
    golden = [{"name": "a", "x": 1, "l": [1, 2]}, {"name": "b"}]
    actual = [{"name": "b"}, {"name": "a", "x": "1", "l": [1], "y": None}, {"name": "c"}]
    assert sorted(differences(golden, actual)) == [
        "extra $/a/y", "extra $/c", "length $/a/l: 2 != 1", "order $: ['a', 'b'] != ['b', 'a']",
        "type $/a/x: int != str",
    ]  # fmt: skip
    assert differences({"k": True}, {"k": 1}) == ["type $/k: bool != int"]


@asynccontextmanager
async def admin(case: Case) -> AsyncIterator[str]:
    """routekit's admin over *case*'s providers, each through a real `Watcher`."""
    providers = []
    for name, text in case.providers.items():
        loaded = reads_config(text, source=f"{name}.toml")
        providers.append(StaticProvider(loaded.config, name=name, problems=loaded.problems))
    watcher = Watcher(providers, throttle=0, default_entry_points=("web",))
    named: Callable[[], Sequence[str]] | None = None
    if case.providers_named is not None:
        named = lambda: case.providers_named or ()  # noqa: E731
    async with watcher.running(), anyio.create_task_group() as tg:
        await watcher.wait_ready()
        api = AdminAPI(
            lambda: watcher.runtime,
            case.entry_points,
            problems=lambda: watcher.problems,
            metrics=case.metrics,
            providers=named,
        )
        server = EntryPointServer("127.0.0.1:0", Admin(api))
        await tg.start(server.serve)
        try:
            yield f"http://127.0.0.1:{server.ports[0]}"
        finally:
            server.stop()


async def check(case: Case) -> None:
    """Ask *case*'s path and compare the answer with Traefik's."""
    async with admin(case) as url, Client() as client:
        response = await client.get(url + case.path)
        body = await response.read()
    headers = dict(response.headers)
    assert response.status == case.status, body
    assert headers[b"content-type"] == b"application/json"
    next_page = headers.get(b"x-next-page")
    assert next_page == (case.next_page.encode() if case.next_page else None)
    if case.golden.endswith(".json"):
        golden = json.loads((GOLDEN / case.golden).read_text())
    else:
        golden = json.loads(case.golden)
    found = differences(golden, json.loads(body))
    unexplained = [d for d in found if not any(fnmatchcase(d, p) for p in case.allowed)]
    stale = [p for p in case.allowed if not any(fnmatchcase(d, p) for d in found)]
    assert not unexplained, json.dumps(unexplained, indent=1)
    assert not stale, f"allowed but not found: {stale}"


CASES = {**HTTP_CASES, **SERVICE_CASES}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_http_answers_are_traefiks(case: Case) -> None:
    await check(case)
