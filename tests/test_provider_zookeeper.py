"""`ZooKeeperProvider` against a real ZooKeeper server: znodes come, change and go; so does it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import anyio
import anyio.to_thread
import pytest

from _certs import provider_tls
from _etcd import service
from _following import following, rules, servers
from _zookeeper import ZooKeeper, zookeeper
from routekit.config import ClientTLS, loads_static
from routekit.errors import ConfigError, ProviderError
from routekit.providers import Backoff, ZooKeeperProvider

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZooKeeper]:
    """One server for the module (a JVM takes seconds to start); each test clears /traefik."""
    with zookeeper(tmp_path_factory.mktemp("zookeeper")) as started:
        yield started


@pytest.fixture
def store(server: ZooKeeper) -> Iterator[ZooKeeper]:
    """The server, with nothing under /traefik before and after the test."""
    if server.proc is None:
        server.start()
    server.client.delete("/traefik", recursive=True)
    yield server
    if server.proc is None:  # a test that killed it and failed before restarting it
        server.start()
    server.client.delete("/traefik", recursive=True)


def fast() -> Backoff:
    return Backoff(initial=0.05, cap=0.3, jitter=0)


async def set_all(store: ZooKeeper, keys: dict[str, str]) -> None:
    await anyio.to_thread.run_sync(store.set_all, keys)


async def test_initial_state_then_keys_added_changed_and_removed(store: ZooKeeper) -> None:
    empty = await ZooKeeperProvider(store.endpoint).snapshot()
    assert empty.config.http.routers == {} and empty.problems == ()  # no /traefik yet
    await set_all(store, service("blog", "http://127.0.0.1:8001"))
    provider = ZooKeeperProvider(store.endpoint, retry=fast())
    snapshot = await provider.snapshot()
    assert rules(snapshot) == {"blog": "Host(`blog.test`)"}
    assert servers(snapshot) == {"blog": ["http://127.0.0.1:8001"]}
    assert snapshot.problems == ()
    async with following(provider) as seen:
        await seen.until(lambda s: "blog" in servers(s))
        await set_all(store, service("shop", "http://127.0.0.1:8002"))
        await seen.until(lambda s: servers(s).get("shop") == ["http://127.0.0.1:8002"])
        key = "traefik/http/services/shop/loadbalancer/servers/0/url"
        await set_all(store, {key: "http://127.0.0.1:8003"})
        await seen.until(lambda s: servers(s).get("shop") == ["http://127.0.0.1:8003"])
        delete = store.delete
        await anyio.to_thread.run_sync(lambda: delete("traefik/http/routers/blog", recursive=True))
        await anyio.to_thread.run_sync(lambda: delete("traefik/http/services/blog", recursive=True))
        snap = await seen.until(lambda s: "blog" not in rules(s))
        assert set(rules(snap)) == {"shop"} and snap.problems == ()


async def test_a_whole_tree_created_later_is_seen(store: ZooKeeper) -> None:
    provider = ZooKeeperProvider(store.endpoint, retry=fast())
    async with following(provider) as seen:
        await seen.until(lambda s: True)  # nothing under a root that does not exist
        await set_all(store, service("late", "http://127.0.0.1:8001"))
        await seen.until(lambda s: servers(s).get("late") == ["http://127.0.0.1:8001"])


async def test_a_subtree_replaced_in_one_transaction_is_never_seen_half_done(
    store: ZooKeeper,
) -> None:
    urls = [f"http://127.0.0.1:{9000 + n}" for n in range(20)]
    old, new = service("api", *urls[:10]), service("api", *urls[10:])
    await set_all(store, old)
    provider = ZooKeeperProvider(store.endpoint, retry=fast())
    async with following(provider) as seen:
        await seen.until(lambda s: servers(s).get("api") == urls[:10])
        await anyio.to_thread.run_sync(store.replace, "traefik/http", new)
        await seen.until(lambda s: servers(s).get("api") == urls[10:])
        # A multi-op transaction is applied at once: no read saw a part of it.
        assert all(servers(s).get("api") in (urls[:10], urls[10:]) for s in seen.seen)
        assert provider.keys == new


async def test_a_malformed_key_is_reported_with_the_key_and_the_rest_applies(
    store: ZooKeeper,
) -> None:
    await set_all(store, service("good", "http://127.0.0.1:8001"))
    await set_all(store, service("odd", "http://127.0.0.1:8002"))
    await set_all(store, {"traefik/http/routers/odd/bogus": "x"})
    await anyio.to_thread.run_sync(store.set_bytes, "traefik/http/routers/good/priority", b"\xff")
    snapshot = await ZooKeeperProvider(store.endpoint).snapshot()
    assert servers(snapshot)["good"] == ["http://127.0.0.1:8001"]
    assert "odd" not in rules(snapshot)
    sources = {p.source for p in snapshot.problems}
    assert "traefik/http/routers/odd/bogus" in sources
    assert any("priority" in (s or "") for s in sources)


async def test_the_last_configuration_serves_while_zookeeper_is_away(
    store: ZooKeeper, caplog: pytest.LogCaptureFixture
) -> None:
    await set_all(store, service("stays", "http://127.0.0.1:8001"))
    provider = ZooKeeperProvider(store.endpoint, retry=fast(), timeout=2)
    caplog.set_level(logging.INFO, "routekit.providers.zookeeper")
    async with following(provider) as seen:
        await seen.until(lambda s: "stays" in servers(s))
        store.kill()
        away = await seen.until(lambda s: bool(s.problems))
        assert servers(away) == {"stays": ["http://127.0.0.1:8001"]}
        [problem] = away.problems
        assert problem.source == f"zookeeper provider at {store.endpoint}"
        assert "cannot read the provider's source" in problem.message
        await anyio.sleep(1.0)  # several retries: logged once
        await anyio.to_thread.run_sync(store.start)
        await set_all(store, service("new", "http://127.0.0.1:8002"))
        back = await seen.until(lambda s: "new" in servers(s) and not s.problems, within=30)
        assert servers(back)["stays"] == ["http://127.0.0.1:8001"]
    ours = [r for r in caplog.records if r.name.startswith("routekit")]
    warnings = [r for r in ours if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert any("reachable again" in r.getMessage() for r in ours)


async def test_an_unreachable_ensemble_is_an_error_naming_it() -> None:
    from _sockets import free_port

    endpoint = f"127.0.0.1:{free_port()}"
    with pytest.raises(ProviderError, match=f"zookeeper {endpoint}: no connection in 1 s"):
        await ZooKeeperProvider(endpoint, timeout=1).snapshot()


async def test_tls_with_a_client_certificate(tmp_path: Path) -> None:
    with zookeeper(tmp_path, tls=True) as secure:
        assert secure.tls is not None
        await set_all(secure, service("safe", "http://127.0.0.1:8001"))
        tls = provider_tls(secure.tls)
        provider = ZooKeeperProvider(secure.secure_endpoint, tls=tls, retry=fast(), timeout=10)
        async with following(provider) as seen:
            await seen.until(lambda s: "safe" in servers(s))
            await set_all(secure, service("later", "http://127.0.0.1:8002"))
            await seen.until(lambda s: "later" in servers(s))
        # Without the CA the server is not trusted; without a client certificate it refuses.
        for refused in (ClientTLS(cert=tls.cert, key=tls.key), ClientTLS(ca=tls.ca)):
            with pytest.raises(ProviderError, match=rf"zookeeper {secure.secure_endpoint}: "):
                await ZooKeeperProvider(secure.secure_endpoint, tls=refused, timeout=3).snapshot()


async def test_watch_false_reads_once(store: ZooKeeper) -> None:
    await set_all(store, service("once", "http://127.0.0.1:8001"))
    got = [s async for s in ZooKeeperProvider(store.endpoint, watch=False).watch()]
    assert len(got) == 1 and "once" in servers(got[0])


def test_options() -> None:
    static = loads_static(
        '[providers.zooKeeper]\nendpoints = ["10.0.0.1:2181", "10.0.0.2:2181"]\nrootKey = "edge"\n'
    )
    assert static.providers.zookeeper is not None
    provider = ZooKeeperProvider.from_config(static.providers.zookeeper)
    assert provider.endpoints == ("10.0.0.1:2181", "10.0.0.2:2181")
    assert provider.root_key == "edge" and provider.name == "zookeeper"
    with pytest.raises(ConfigError, match="zookeeper endpoint"):
        ZooKeeperProvider("http://nowhere/x")
