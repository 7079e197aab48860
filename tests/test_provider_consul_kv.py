"""`ConsulKVProvider` against the Consul stand-in (tests/_consul.py), written to over HTTP as
``consul kv put`` and ``curl`` write: keys come, change and go; the agent misbehaves."""

from __future__ import annotations

import base64
import json
import logging
import urllib.request
from collections.abc import Iterator

import anyio
import anyio.to_thread
import pytest

from _consul import Consul
from _etcd import service
from _following import following, rules, servers
from routekit.config import loads_static
from routekit.errors import ConfigError, ProviderError
from routekit.providers import Backoff, ConsulKVProvider

pytestmark = pytest.mark.anyio


@pytest.fixture
def consul() -> Iterator[Consul]:
    agent = Consul()
    agent.start()
    yield agent
    agent.stop()


def fast() -> Backoff:
    return Backoff(initial=0.05, cap=0.2, jitter=0)


def call(consul: Consul, method: str, path: str, body: bytes = b"", token: str = "") -> bytes:
    request = urllib.request.Request(f"http://{consul.address}{path}", body, method=method)
    if token:
        request.add_header("X-Consul-Token", token)
    with urllib.request.urlopen(request, timeout=10) as answer:
        return bytes(answer.read())


async def put(consul: Consul, keys: dict[str, str], token: str = "") -> None:
    def run() -> None:
        for key, value in keys.items():
            assert call(consul, "PUT", f"/v1/kv/{key}", value.encode(), token) == b"true"

    await anyio.to_thread.run_sync(run)


async def test_initial_state_then_keys_added_changed_and_removed(consul: Consul) -> None:
    empty = await ConsulKVProvider(consul.address).snapshot()  # nothing under it yet: a 404
    assert empty.config.http.routers == {} and empty.problems == ()
    await put(consul, service("blog", "http://127.0.0.1:8001"))
    provider = ConsulKVProvider(consul.address, retry=fast())
    snapshot = await provider.snapshot()
    assert rules(snapshot) == {"blog": "Host(`blog.test`)"}
    assert servers(snapshot) == {"blog": ["http://127.0.0.1:8001"]}
    async with following(provider) as seen:
        await seen.until(lambda s: "blog" in servers(s))
        await put(consul, service("shop", "http://127.0.0.1:8002"))
        await seen.until(lambda s: servers(s).get("shop") == ["http://127.0.0.1:8002"])
        key = "traefik/http/services/shop/loadbalancer/servers/0/url"
        await put(consul, {key: "http://127.0.0.1:8003"})
        await seen.until(lambda s: servers(s).get("shop") == ["http://127.0.0.1:8003"])
        for prefix in ("traefik/http/routers/blog", "traefik/http/services/blog"):
            path = f"/v1/kv/{prefix}?recurse"
            await anyio.to_thread.run_sync(lambda p=path: call(consul, "DELETE", p))  # type: ignore[misc]
        snap = await seen.until(lambda s: "blog" not in rules(s))
        assert set(rules(snap)) == {"shop"} and snap.problems == ()


async def test_a_transaction_is_one_change(consul: Consul) -> None:
    urls = [f"http://127.0.0.1:{9000 + n}" for n in range(20)]
    old, new = service("api", *urls[:10]), service("api", *urls[10:])
    await put(consul, old)
    provider = ConsulKVProvider(consul.address, retry=fast())
    async with following(provider) as seen:
        await seen.until(lambda s: servers(s).get("api") == urls[:10])
        before = len(seen.seen)
        ops: list[dict[str, object]] = [{"KV": {"Verb": "delete-tree", "Key": "traefik/http/"}}]
        ops += [
            {"KV": {"Verb": "set", "Key": k, "Value": base64.b64encode(v.encode()).decode()}}
            for k, v in new.items()
        ]
        await anyio.to_thread.run_sync(
            lambda: call(consul, "PUT", "/v1/txn", json.dumps(ops).encode())
        )
        await seen.until(lambda s: servers(s).get("api") == urls[10:])
        assert len(seen.seen) == before + 1 and provider.keys == new


async def test_a_malformed_key_is_reported_with_the_key_and_the_rest_applies(
    consul: Consul,
) -> None:
    await put(consul, {**service("good", "http://127.0.0.1:8001"), "traefik/": ""})  # a folder
    await put(
        consul, {**service("odd", "http://127.0.0.1:8002"), "traefik/http/routers/odd/bogus": "x"}
    )
    await anyio.to_thread.run_sync(
        lambda: call(consul, "PUT", "/v1/kv/traefik/http/routers/good/priority", b"\xff")
    )
    snapshot = await ConsulKVProvider(consul.address).snapshot()
    assert servers(snapshot)["good"] == ["http://127.0.0.1:8001"]
    assert "odd" not in rules(snapshot)
    sources = {p.source for p in snapshot.problems}
    assert "traefik/http/routers/odd/bogus" in sources
    assert any("priority" in (s or "") for s in sources)


async def test_the_last_configuration_serves_while_the_agent_is_away(
    consul: Consul, caplog: pytest.LogCaptureFixture
) -> None:
    await put(consul, service("stays", "http://127.0.0.1:8001"))
    provider = ConsulKVProvider(consul.address, retry=fast(), wait=1)
    caplog.set_level(logging.INFO, "routekit.providers.consul")
    async with following(provider) as seen:
        await seen.until(lambda s: "stays" in servers(s))
        port = consul.port
        consul.stop()
        away = await seen.until(lambda s: bool(s.problems))
        assert servers(away) == {"stays": ["http://127.0.0.1:8001"]}
        [problem] = away.problems
        assert problem.source == f"consul provider at {consul.address}"
        await anyio.sleep(1.0)  # several retries: logged once
        consul.start(port)
        await put(consul, service("new", "http://127.0.0.1:8002"))
        await seen.until(lambda s: "new" in servers(s) and not s.problems)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "reachable again" in caplog.text


async def test_an_index_that_goes_back_is_reset_and_the_keys_read_again(consul: Consul) -> None:
    await put(consul, service("one", "http://127.0.0.1:8001"))
    provider = ConsulKVProvider(consul.address, retry=fast())
    async with following(provider) as seen:
        await seen.until(lambda s: "one" in servers(s))
        consul.index_back = True  # the next answer says index 1, as after a snapshot restore
        await put(consul, service("two", "http://127.0.0.1:8002"))
        await seen.until(lambda s: "two" in servers(s))
        await put(consul, service("three", "http://127.0.0.1:8003"))  # still followed
        await seen.until(lambda s: "three" in servers(s))


async def test_acl_token_and_garbage(consul: Consul) -> None:
    consul.token = "t0ken"
    await put(consul, service("locked", "http://127.0.0.1:8001"), token="t0ken")
    assert "locked" in servers(await ConsulKVProvider(consul.address, token="t0ken").snapshot())
    with pytest.raises(ProviderError, match=r"403 Permission denied \(check the token\)"):
        await ConsulKVProvider(consul.address).snapshot()
    consul.garbage = True
    with pytest.raises(ProviderError, match="not JSON"):
        await ConsulKVProvider(consul.address, token="t0ken").snapshot()


async def test_v1_prefix_and_read_once(consul: Consul) -> None:
    keys = {
        "traefik/backends/b/servers/s1/url": "http://127.0.0.1:8001",
        "traefik/frontends/f/backend": "b",
        "traefik/frontends/f/routes/r/rule": "Host:old.test",
    }
    await put(consul, keys)
    static = loads_static(f'[consul]\nendpoint = "{consul.address}"\n')
    assert static.providers.consul is not None  # v1: prefix "/traefik"
    provider = ConsulKVProvider.from_config(static.providers.consul)
    got = [s async for s in ConsulKVProvider(consul.address, watch=False).watch()]
    assert len(got) == 1
    snapshot = await provider.snapshot()
    assert list(rules(snapshot).values()) == ["Host(`old.test`)"]


def test_options() -> None:
    static = loads_static('[providers.consul]\nendpoints = ["10.0.0.1:8500"]\ntoken = "x"\n')
    assert static.providers.consul is not None and static.providers.consul.token == "x"
    assert ConsulKVProvider.from_config(static.providers.consul).endpoints == ("10.0.0.1:8500",)
    with pytest.raises(ConfigError, match="consul endpoint"):
        ConsulKVProvider("ftp://nowhere")
    with pytest.raises(ConfigError, match="wait must be"):
        ConsulKVProvider(wait=0)
