"""`EtcdProvider` against real etcd servers: keys come, change and go; members fail and return."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import anyio
import anyio.to_thread
import pytest

from _certs import provider_tls
from _etcd import Cluster, b64, etcd, service
from _following import following, rules, servers
from routekit.config import ClientTLS, loads_static
from routekit.errors import ConfigError, ProviderError
from routekit.providers import Backoff, EtcdProvider

pytestmark = pytest.mark.anyio


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Cluster]:
    """One etcd member of its own."""
    with etcd(tmp_path) as started:
        yield started


def fast() -> Backoff:
    return Backoff(initial=0.05, cap=0.3, jitter=0)


async def put_all(store: Cluster, keys: dict[str, str]) -> None:
    for key, value in keys.items():
        await anyio.to_thread.run_sync(store.put, key, value)


async def test_initial_state_then_keys_added_changed_and_removed(store: Cluster) -> None:
    await put_all(store, service("blog", "http://127.0.0.1:8001"))
    provider = EtcdProvider(store.endpoint, retry=fast())
    snapshot = await provider.snapshot()
    assert rules(snapshot) == {"blog": "Host(`blog.test`)"}
    assert servers(snapshot) == {"blog": ["http://127.0.0.1:8001"]}
    assert snapshot.problems == () and provider.revision > 0
    async with following(provider) as seen:
        await seen.until(lambda s: "blog" in servers(s))
        await put_all(store, service("shop", "http://127.0.0.1:8002"))
        await seen.until(lambda s: servers(s).get("shop") == ["http://127.0.0.1:8002"])
        key = "traefik/http/services/shop/loadbalancer/servers/0/url"
        await anyio.to_thread.run_sync(store.put, key, "http://127.0.0.1:8003")
        await seen.until(lambda s: servers(s).get("shop") == ["http://127.0.0.1:8003"])
        for key in service("blog", "http://127.0.0.1:8001"):
            await anyio.to_thread.run_sync(store.delete, key)
        snap = await seen.until(lambda s: "blog" not in rules(s))
        assert set(rules(snap)) == {"shop"} and snap.problems == ()


async def test_a_subtree_replaced_in_one_transaction_is_one_change(store: Cluster) -> None:
    urls = [f"http://127.0.0.1:{9000 + n}" for n in range(20)]
    await put_all(store, service("api", *urls[:10]))
    provider = EtcdProvider(store.endpoint, retry=fast())
    async with following(provider) as seen:
        await seen.until(lambda s: len(servers(s).get("api", [])) == 10)
        before = len(seen.seen)
        new = service("api", *urls[10:])
        await anyio.to_thread.run_sync(store.replace, "traefik/http/", new)
        await seen.until(lambda s: servers(s).get("api") == urls[10:])
        # Deleting the old tree and writing the new one came as one message: one snapshot,
        # never a moment without the service.
        assert len(seen.seen) == before + 1
        assert provider.keys == new


async def test_a_malformed_key_is_reported_with_the_key_and_the_rest_applies(
    store: Cluster,
) -> None:
    await put_all(store, service("good", "http://127.0.0.1:8001"))
    await put_all(store, {**service("odd", "http://127.0.0.1:8002")})
    await anyio.to_thread.run_sync(store.put, "traefik/http/routers/odd/bogus", "x")
    # A value that is not UTF-8, written as raw bytes.
    raw = {"key": b64("traefik/http/routers/good/priority"), "value": "/w=="}
    await anyio.to_thread.run_sync(store.call, "/v3/kv/put", raw)
    snapshot = await EtcdProvider(store.endpoint).snapshot()
    assert servers(snapshot)["good"] == ["http://127.0.0.1:8001"]
    assert "odd" not in rules(snapshot)
    sources = {p.source for p in snapshot.problems}
    assert "traefik/http/routers/odd/bogus" in sources
    assert any("priority" in (s or "") for s in sources)


async def test_the_last_configuration_serves_while_etcd_is_away(
    store: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    await put_all(store, service("stays", "http://127.0.0.1:8001"))
    provider = EtcdProvider(store.endpoint, retry=fast())
    caplog.set_level(logging.INFO, "routekit.providers.etcd")
    async with following(provider) as seen:
        await seen.until(lambda s: "stays" in servers(s))
        store.members[0].kill()
        away = await seen.until(lambda s: bool(s.problems))
        assert servers(away) == {"stays": ["http://127.0.0.1:8001"]}
        [problem] = away.problems
        assert problem.source == f"etcd provider at {store.endpoint}"
        assert "cannot read the provider's source" in problem.message
        await anyio.sleep(1.0)  # several retries: logged once
        await anyio.to_thread.run_sync(store.restart, store.members[0])
        await put_all(store, service("new", "http://127.0.0.1:8002"))
        back = await seen.until(lambda s: "new" in servers(s) and not s.problems, within=20)
        assert servers(back)["stays"] == ["http://127.0.0.1:8001"]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "reachable again" in caplog.text


async def test_a_watch_reopened_after_compaction_reads_everything_again(
    store: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    await put_all(store, service("kept", "http://127.0.0.1:8001"))
    provider = EtcdProvider(store.endpoint, watch_idle=0.5, retry=fast())
    caplog.set_level(logging.INFO, "routekit.providers.etcd")
    async with following(provider) as seen:
        await seen.until(lambda s: "kept" in servers(s))
        # Writes outside the root move the revision on without a word to this watch; once
        # they are compacted away, reopening the quiet watch from its revision is refused.
        for n in range(5):
            revision = await anyio.to_thread.run_sync(store.put, f"elsewhere/{n}", "x")
        await anyio.to_thread.run_sync(store.compact, revision)
        await anyio.sleep(1.0)  # the watch is idle for longer than watch_idle: reopened
        await put_all(store, service("after", "http://127.0.0.1:8002"))
        snap = await seen.until(lambda s: "after" in servers(s))
        assert snap.problems == () and provider.revision >= revision
    assert "was compacted; reading again" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_the_provider_follows_the_quorum_when_a_member_dies(tmp_path: Path) -> None:
    with etcd(tmp_path, size=3) as cluster:
        await put_all(cluster, service("one", "http://127.0.0.1:8001"))
        provider = EtcdProvider(cluster.endpoints, retry=fast())
        async with following(provider) as seen:
            await seen.until(lambda s: "one" in servers(s))
            cluster.members[0].kill()  # the member the provider reads from
            await put_all(cluster, service("two", "http://127.0.0.1:8002"))
            snap = await seen.until(lambda s: "two" in servers(s), within=20)
            assert servers(snap)["one"] == ["http://127.0.0.1:8001"]


async def test_username_and_password(store: Cluster) -> None:
    await put_all(store, service("locked", "http://127.0.0.1:8001"))
    await anyio.to_thread.run_sync(store.enable_auth, "s3cret")
    good = EtcdProvider(store.endpoint, username="root", password="s3cret", retry=fast())
    async with following(good) as seen:
        await seen.until(lambda s: "locked" in servers(s))
        await put_all(store, service("later", "http://127.0.0.1:8002"))  # the watch too
        await seen.until(lambda s: "later" in servers(s))
    with pytest.raises(ProviderError, match=r"authentication failed.*check the username"):
        await EtcdProvider(store.endpoint, username="root", password="wrong").snapshot()
    with pytest.raises(ProviderError, match="user name is empty"):
        await EtcdProvider(store.endpoint).snapshot()


async def test_tls_with_a_client_certificate(tmp_path: Path) -> None:
    with etcd(tmp_path, tls=True) as secure:
        assert secure.tls is not None
        await put_all(secure, service("safe", "http://127.0.0.1:8001"))
        tls = provider_tls(secure.tls)
        endpoint = secure.endpoint.removeprefix("https://")  # host:port, https by tls
        provider = EtcdProvider(endpoint, tls=tls, retry=fast())
        async with following(provider) as seen:
            await seen.until(lambda s: "safe" in servers(s))
            await put_all(secure, service("later", "http://127.0.0.1:8002"))  # the watch too
            await seen.until(lambda s: "later" in servers(s))
        with pytest.raises(ProviderError, match="CERTIFICATE_VERIFY_FAILED"):
            await EtcdProvider(endpoint, tls=ClientTLS(cert=tls.cert, key=tls.key)).snapshot()
        with pytest.raises(ProviderError, match=r"127\.0\.0\.1:\d+: .*BAD_CERTIFICATE"):
            await EtcdProvider(endpoint, tls=ClientTLS(ca=tls.ca)).snapshot()  # none shown


async def test_v1_keys_under_the_v1_prefix(store: Cluster) -> None:
    keys = {
        "/traefik/backends/b/servers/s1/url": "http://127.0.0.1:8001",
        "/traefik/frontends/f/backend": "b",
        "/traefik/frontends/f/routes/r/rule": "Host:old.test",
    }
    await put_all(store, keys)
    static = loads_static('[etcd]\nendpoint = "127.0.0.1:2379"\n')
    assert static.providers.etcd is not None and static.providers.etcd.root_key == "/traefik"
    provider = EtcdProvider(store.endpoint, root_key=static.providers.etcd.root_key)
    snapshot = await provider.snapshot()
    assert list(rules(snapshot).values()) == ["Host(`old.test`)"]
    assert list(servers(snapshot).values()) == [["http://127.0.0.1:8001"]]


async def test_watch_false_reads_once(store: Cluster) -> None:
    await put_all(store, service("once", "http://127.0.0.1:8001"))
    got = [s async for s in EtcdProvider(store.endpoint, watch=False).watch()]
    assert len(got) == 1 and "once" in servers(got[0])


def test_options() -> None:
    static = loads_static(
        '[providers.etcd]\nendpoints = ["10.0.0.1:2379", "10.0.0.2:2379"]\nrootKey = "edge"\n'
        'username = "u"\npassword = "p"\n'
    )
    assert static.providers.etcd is not None
    provider = EtcdProvider.from_config(static.providers.etcd)
    assert provider.endpoints == ("10.0.0.1:2379", "10.0.0.2:2379")
    assert provider.root_key == "edge" and provider.name == "etcd"
    with pytest.raises(ConfigError, match="etcd endpoint"):
        EtcdProvider("ftp://nowhere")
    with pytest.raises(ConfigError, match="no endpoint"):
        EtcdProvider(())
