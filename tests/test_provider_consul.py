"""`ConsulCatalogProvider` against the Consul stand-in (tests/_consul.py): blocking queries,
health filtering, ACLs, an agent that goes away, answers garbage or moves its index back."""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Iterator

import anyio
import pytest

from _consul import Consul
from _following import following, rules, servers
from _process import finish, spawn
from _sockets import free_port
from routekit.config import loads_static
from routekit.errors import ConfigError, ProviderError
from routekit.providers import Backoff, ConsulCatalogProvider, Snapshot

pytestmark = pytest.mark.anyio


@pytest.fixture
def consul() -> Iterator[Consul]:
    agent = Consul()
    agent.start()
    yield agent
    agent.stop()


def fast() -> Backoff:
    return Backoff(initial=0.05, cap=0.2, jitter=0)


def provider(consul: Consul, **options: object) -> ConsulCatalogProvider:
    return ConsulCatalogProvider(consul.address, retry=fast(), **options)  # type: ignore[arg-type]


def stale(snapshot: Snapshot) -> bool:
    """Whether the snapshot says its source could not be read."""
    return any(p.message.startswith("cannot read") for p in snapshot.problems)


def article(consul: Consul) -> None:
    """The article's catalog: hello without tags, hello2 with Traefik 1.x tags; two each."""
    for n in (1, 2):
        consul.register("hello", f"hello-{n}", 8080 + n)
        tags = ["traefik.backend=hello2", "traefik.frontend.rule=Host:hello2.particule.io"]
        consul.register("hello2", f"hello2-{n}", 9080 + n, tags)


async def test_the_article_catalog_with_traefik_1_tags(consul: Consul) -> None:
    article(consul)
    snap = await provider(consul, syntax="v1", domain="consul.local").snapshot()
    assert sorted(rules(snap).values()) == [
        "Host(`hello.consul.local`)",
        "Host(`hello2.particule.io`)",
    ]
    assert sorted(servers(snap).values()) == [
        ["http://127.0.0.1:8081", "http://127.0.0.1:8082"],
        ["http://127.0.0.1:9081", "http://127.0.0.1:9082"],
    ]


async def test_v2_tags_and_the_default_rule(consul: Consul) -> None:
    consul.register("api", "api-1", 7001, ["traefik.http.routers.api.rule=Host(`api.test`)"])
    consul.register("web", "web-1", 7002)
    consul.register("off", "off-1", 7003, ["traefik.enable=false"])
    snap = await provider(consul).snapshot()
    assert rules(snap) == {"api": "Host(`api.test`)", "web": "Host(`web`)"}
    assert servers(snap) == {"api": ["http://127.0.0.1:7001"], "web": ["http://127.0.0.1:7002"]}
    assert snap.problems == ()


async def test_blocking_queries_follow_instances_and_their_health(consul: Consul) -> None:
    consul.register("web", "web-1", 7001)
    # A long wait: each change must wake the blocked query, not the end of the wait.
    followed = provider(consul, watch=True, wait=60)
    async with following(followed) as seen:
        await seen.until(lambda s: servers(s) == {"web": ["http://127.0.0.1:7001"]})
        with anyio.fail_after(3):
            consul.register("web", "web-2", 7002)
            await seen.until(lambda s: len(servers(s).get("web", [])) == 2)
            consul.set_status("web-1", "critical")
            await seen.until(lambda s: servers(s) == {"web": ["http://127.0.0.1:7002"]})
            consul.set_status("web-1", "warning")  # served by default (strictChecks)
            await seen.until(lambda s: len(servers(s)["web"]) == 2)
            consul.register("new", "new-1", 7003)
            await seen.until(lambda s: "new" in servers(s))
            consul.deregister("web-1")
            consul.deregister("web-2")
            snap = await seen.until(lambda s: "web" not in servers(s))
    assert snap.problems == ()


async def test_strict_checks_passing_only_leaves_warning_out(consul: Consul) -> None:
    consul.register("web", "web-1", 7001, status="warning")
    consul.register("web", "web-2", 7002)
    snap = await provider(consul, strict_checks=["passing"]).snapshot()
    assert servers(snap) == {"web": ["http://127.0.0.1:7002"]}


async def test_without_watch_the_catalog_is_polled(consul: Consul) -> None:
    polled = provider(consul, refresh_interval=0.1)
    async with following(polled) as seen:
        await seen.until(lambda s: True)
        consul.register("late", "late-1", 7001)
        await seen.until(lambda s: "late" in servers(s), within=3)


async def test_a_bad_tag_names_the_service_and_the_rest_applies(consul: Consul) -> None:
    consul.register("good", "good-1", 7001)
    consul.register("bad", "bad-1", 7002, ["traefik.http.routers.bad.rule=Host(`x`"])
    snap = await provider(consul).snapshot()
    assert "good" in servers(snap) and "bad" not in rules(snap)
    [problem] = [p for p in snap.problems if p.severity == "error"]
    assert problem.source is not None
    assert problem.source.startswith("tag 'traefik.http.routers.bad.rule' on Consul service 'bad'")


async def test_the_last_routes_serve_while_the_agent_restarts(
    consul: Consul, caplog: pytest.LogCaptureFixture
) -> None:
    article(consul)
    caplog.set_level(logging.INFO, "routekit.providers.consulcatalog")
    followed = provider(consul, watch=True, wait=60, syntax="v1", domain="consul.local")
    async with following(followed) as seen:
        first = await seen.until(lambda s: len(servers(s)) == 2)
        port = consul.port
        consul.stop()
        away = await seen.until(stale)
        assert servers(away) == servers(first)
        await anyio.sleep(0.5)  # retries, logged once
        consul.register("hello", "hello-3", 8083)  # while away: seen after the restart
        consul.start(port)
        back = await seen.until(lambda s: not stale(s) and len(servers(s)["backend-hello"]) == 3)
        assert back.config.http.routers.keys() == first.config.http.routers.keys()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "reachable again" in caplog.text


async def test_garbage_a_moved_back_index_and_acls(consul: Consul) -> None:
    consul.register("web", "web-1", 7001)
    consul.garbage = True
    with pytest.raises(ProviderError, match="/v1/catalog/services: not JSON"):
        await provider(consul).snapshot()
    consul.garbage = False
    consul.token = "s3cret"
    with pytest.raises(ProviderError, match="403 Permission denied"):
        await provider(consul).snapshot()
    assert "web" in servers(await provider(consul, token="s3cret").snapshot())
    with pytest.raises(ProviderError, match="No path to datacenter"):
        await provider(consul, token="s3cret", datacenter="dc9").snapshot()
    followed = provider(consul, token="s3cret", watch=True, wait=60)
    async with following(followed) as seen:
        await seen.until(lambda s: "web" in servers(s))
        consul.index_back = True  # the next answer's index is lower: the index is reset
        consul.register("more", "more-1", 7002)
        await seen.until(lambda s: "more" in servers(s), within=3)
        consul.register("after", "after-1", 7003)  # and blocking goes on from the new index
        await seen.until(lambda s: "after" in servers(s), within=3)


async def test_namespaces_are_read_one_provider_each(consul: Consul) -> None:
    consul.register("web", "web-a", 8001, namespace="team-a")
    consul.register("web", "web-b", 8002, namespace="team-b")
    consul.register("other", "other-1", 8003)  # the default namespace
    static = loads_static(
        f'[providers.consulCatalog]\nnamespaces = ["team-a", "team-b"]\n'
        f'[providers.consulCatalog.endpoint]\naddress = "{consul.address}"\n'
    )
    config = static.providers.consul_catalog
    assert config is not None and config.namespaces == ("team-a", "team-b")
    a = ConsulCatalogProvider.from_config(config, name="consulcatalog-team-a", namespace="team-a")
    assert servers(await a.snapshot()) == {"web": ["http://127.0.0.1:8001"]}
    b = ConsulCatalogProvider(consul.address, namespace="team-b")
    assert servers(await b.snapshot()) == {"web": ["http://127.0.0.1:8002"]}
    assert set(servers(await provider(consul).snapshot())) == {"other"}
    # v2's single `namespace` is read as a list of one.
    one = loads_static('[providers.consulCatalog]\nnamespace = "team-a"\n').providers
    assert one.consul_catalog is not None and one.consul_catalog.namespaces == ("team-a",)


def test_serve_names_each_namespace_s_provider_as_traefik_does(consul: Consul) -> None:
    # Traefik v3: <router>@consulcatalog-<namespace>.
    consul.register("web", "web-a", 8001, namespace="team-a")
    consul.register("web", "web-b", 8002, namespace="team-b")
    port, admin = free_port(), free_port()
    proc, _ = spawn(
        "serve", f"--entryPoints.web.address=127.0.0.1:{port}",
        f"--entryPoints.traefik.address=127.0.0.1:{admin}", "--api.insecure",
        f"--providers.consulCatalog.endpoint.address={consul.address}",
        "--providers.consulCatalog.namespaces=team-a,team-b",
        ready=lambda line: "routekit serve: admin API on" in line,
    )  # fmt: skip
    assert proc.stderr is not None
    try:
        url = f"http://127.0.0.1:{admin}/api/http/routers"
        with urllib.request.urlopen(url, timeout=10) as answer:
            names = {r["name"] for r in json.load(answer)}
    finally:
        rest = finish(proc, proc.stderr)
    assert names == {"web@consulcatalog-team-a", "web@consulcatalog-team-b"}, (names, rest)


def test_bad_options_are_refused() -> None:
    with pytest.raises(ConfigError, match="endpoint"):
        ConsulCatalogProvider("ftp://x")
    with pytest.raises(ConfigError, match="refresh_interval"):
        ConsulCatalogProvider(refresh_interval=0)
    with pytest.raises(ConfigError, match="constraints"):
        ConsulCatalogProvider(constraints="Tag(`a`")
