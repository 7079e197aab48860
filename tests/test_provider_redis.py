"""`RedisProvider` against a real Redis server: keys come, change and go; the server too."""

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
from _redis import Redis, redis_server
from routekit.config import ClientTLS, loads_static
from routekit.errors import ConfigError, ProviderError
from routekit.providers import Backoff, RedisProvider

pytestmark = pytest.mark.anyio


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Redis]:
    """A Redis server of its own."""
    with redis_server(tmp_path) as started:
        yield started


def fast() -> Backoff:
    return Backoff(initial=0.05, cap=0.3, jitter=0)


async def set_all(store: Redis, keys: dict[str, str]) -> None:
    await anyio.to_thread.run_sync(store.set_all, keys)


async def test_initial_state_then_keys_added_changed_and_removed(store: Redis) -> None:
    await set_all(store, service("blog", "http://127.0.0.1:8001"))
    provider = RedisProvider(store.endpoint, retry=fast())
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
        await anyio.to_thread.run_sync(
            lambda: store.cli("DEL", *service("blog", "http://127.0.0.1:8001"))
        )
        snap = await seen.until(lambda s: "blog" not in rules(s))
        assert set(rules(snap)) == {"shop"} and snap.problems == ()
    assert "redis" in repr(provider)


async def test_a_subtree_replaced_in_one_transaction_is_never_seen_half_done(
    store: Redis,
) -> None:
    urls = [f"http://127.0.0.1:{9000 + n}" for n in range(20)]
    old, new = service("api", *urls[:10]), service("api", *urls[10:])
    await set_all(store, old)
    provider = RedisProvider(store.endpoint, retry=fast())
    async with following(provider) as seen:
        await seen.until(lambda s: servers(s).get("api") == urls[:10])
        commands = [["DEL", *old], ["MSET", *(x for kv in new.items() for x in kv)]]
        await anyio.to_thread.run_sync(store.transaction, commands)
        await seen.until(lambda s: servers(s).get("api") == urls[10:])
        # EXEC runs before any other client's command: each read saw all of it or none.
        assert all(servers(s).get("api") in (urls[:10], urls[10:]) for s in seen.seen)
        assert provider.keys == new


async def test_a_malformed_key_is_reported_with_the_key_and_the_rest_applies(
    store: Redis,
) -> None:
    await set_all(store, service("good", "http://127.0.0.1:8001"))
    await set_all(store, service("odd", "http://127.0.0.1:8002"))
    await set_all(store, {"traefik/http/routers/odd/bogus": "x"})
    # A value that is not UTF-8, and a key of another type (a hash: not read).
    await anyio.to_thread.run_sync(store.script, 'SET traefik/http/routers/good/priority "\\xff"')
    await anyio.to_thread.run_sync(lambda: store.cli("HSET", "traefik/hash", "f", "v"))
    snapshot = await RedisProvider(store.endpoint).snapshot()
    assert servers(snapshot)["good"] == ["http://127.0.0.1:8001"]
    assert "odd" not in rules(snapshot)
    sources = {p.source for p in snapshot.problems}
    assert "traefik/http/routers/odd/bogus" in sources
    assert any("priority" in (s or "") for s in sources)


async def test_the_last_configuration_serves_while_redis_is_away(
    store: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    await set_all(store, service("stays", "http://127.0.0.1:8001"))
    provider = RedisProvider(store.endpoint, retry=fast(), timeout=2)
    caplog.set_level(logging.INFO, "routekit.providers.redis")
    async with following(provider) as seen:
        await seen.until(lambda s: "stays" in servers(s))
        await anyio.to_thread.run_sync(lambda: store.cli("SAVE"))  # what the restart loads
        store.kill()
        away = await seen.until(lambda s: bool(s.problems))
        assert servers(away) == {"stays": ["http://127.0.0.1:8001"]}
        [problem] = away.problems
        assert problem.source == f"redis provider at {store.endpoint}"
        assert "cannot read the provider's source" in problem.message
        await anyio.sleep(1.0)  # several retries: logged once
        await anyio.to_thread.run_sync(store.start)
        await set_all(store, service("new", "http://127.0.0.1:8002"))
        back = await seen.until(lambda s: "new" in servers(s) and not s.problems, within=20)
        assert servers(back)["stays"] == ["http://127.0.0.1:8001"]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "reachable again" in caplog.text


async def test_without_config_the_provider_polls(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Managed Redis services refuse CONFIG: no keyspace notifications, so the keys are read
    # at an interval, and the provider says so once.
    with redis_server(tmp_path, "--rename-command", "CONFIG", "") as store:
        caplog.set_level(logging.INFO, "routekit.providers.redis")
        provider = RedisProvider(store.endpoint, poll_interval=0.1, retry=fast())
        async with following(provider) as seen:
            await seen.until(lambda s: True)
            await set_all(store, service("polled", "http://127.0.0.1:8001"))
            await seen.until(lambda s: "polled" in servers(s))
        said = [r.getMessage() for r in caplog.records if "every 0.1 s" in r.getMessage()]
        assert len(said) == 1 and "keyspace notifications cannot be turned on" in said[0]


async def test_password_and_database(tmp_path: Path) -> None:
    server = Redis(tmp_path)
    server.password = "s3cret"
    server.start()
    try:
        await anyio.to_thread.run_sync(
            lambda: server.cli("-n", "3", "SET", "edge/http/routers/r/rule", "Host(`r.test`)")
        )
        locked = RedisProvider(server.endpoint, password="s3cret", db=3, root_key="edge")
        async with following(locked) as seen:
            await seen.until(lambda s: "r" in rules(s))
            await anyio.to_thread.run_sync(
                lambda: server.cli("-n", "3", "SET", "edge/http/routers/q/rule", "Host(`q.test`)")
            )
            await seen.until(lambda s: "q" in rules(s))
        with pytest.raises(ProviderError, match="check the username and password"):
            await RedisProvider(server.endpoint, password="wrong").snapshot()
        with pytest.raises(ProviderError, match="check the username and password"):
            await RedisProvider(server.endpoint).snapshot()
    finally:
        server.stop()


async def test_tls_with_a_client_certificate(tmp_path: Path) -> None:
    with redis_server(tmp_path, tls=True) as secure:
        assert secure.tls is not None
        await set_all(secure, service("safe", "http://127.0.0.1:8001"))
        tls = provider_tls(secure.tls)
        provider = RedisProvider(secure.endpoint, tls=tls, retry=fast())
        async with following(provider) as seen:
            await seen.until(lambda s: "safe" in servers(s))
            await set_all(secure, service("later", "http://127.0.0.1:8002"))
            await seen.until(lambda s: "later" in servers(s))
        with pytest.raises(ProviderError, match="certificate verify failed"):
            await RedisProvider(
                secure.endpoint, tls=ClientTLS(cert=tls.cert, key=tls.key)
            ).snapshot()
        with pytest.raises(ProviderError, match=r"redis 127\.0\.0\.1:\d+: "):
            await RedisProvider(secure.endpoint, tls=ClientTLS(ca=tls.ca)).snapshot()


async def test_watch_false_reads_once(store: Redis) -> None:
    await set_all(store, service("once", "http://127.0.0.1:8001"))
    got = [s async for s in RedisProvider(store.endpoint, watch=False).watch()]
    assert len(got) == 1 and "once" in servers(got[0])


def test_options() -> None:
    static = loads_static(
        '[providers.redis]\nendpoints = ["10.0.0.1:6379"]\nrootKey = "edge"\ndb = 2\n'
        'username = "u"\npassword = "p"\n'
    )
    assert static.providers.redis is not None and static.providers.redis.db == 2
    provider = RedisProvider.from_config(static.providers.redis)
    assert provider.endpoints == ("10.0.0.1:6379",) and provider.root_key == "edge"
    with pytest.raises(ConfigError, match="redis endpoint"):
        RedisProvider("http://nowhere")
    with pytest.raises(ConfigError, match="db must be"):
        RedisProvider(db=-1)
    with pytest.raises(ConfigError, match="not a readable file"):
        RedisProvider(tls=ClientTLS(ca="/nonexistent/ca.pem"))
