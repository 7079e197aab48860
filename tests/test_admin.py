"""The admin entry point: Traefik's API paths and field names, /ping, and Prometheus /metrics."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from prometheus_client.parser import text_string_to_metric_families

from routekit.admin import Admin, AdminAPI, Metrics
from routekit.balance import Group
from routekit.config import EntryPoint, loads_config
from routekit.errors import Problem
from routekit.http import Client, EntryPointServer
from routekit.proxy import Gateway
from routekit.runtime import Runtime, build
from routekit.whoami import whoami

pytestmark = pytest.mark.anyio

CONFIG = """
[http.routers.hello]
rule = "Host(`hello.docker`)"
service = "hello"
middlewares = ["strip"]
[http.routers.other]
rule = "Host(`other.docker`)"
service = "hello"
priority = 10
[http.routers.broken]
rule = "Host(`broken.docker`)"
service = "missing"
[http.middlewares.strip.stripPrefix]
prefixes = ["/api"]
[[http.services.hello.loadBalancer.servers]]
url = "http://127.0.0.1:PORT"
"""


@asynccontextmanager
async def admin_for(
    runtime: Runtime, metrics: Metrics | None = None, problems: tuple[Problem, ...] = ()
) -> AsyncIterator[str]:
    entry = {"web": EntryPoint(address=":80")}
    api = AdminAPI(lambda: runtime, entry, problems=lambda: problems)
    server = EntryPointServer("127.0.0.1:0", Admin(api, metrics))
    async with anyio.create_task_group() as tg:
        await tg.start(server.serve)
        try:
            yield f"http://127.0.0.1:{server.ports[0]}"
        finally:
            server.stop()


async def get(client: Client, url: str) -> tuple[int, Any, dict[bytes, bytes]]:
    response = await client.get(url)
    body = await response.read()
    kind = dict(response.headers).get(b"content-type", b"")
    data = json.loads(body) if kind == b"application/json" else body
    return response.status, data, dict(response.headers)


async def test_the_api_speaks_traefiks_paths_and_fields() -> None:
    from routekit.config import reads_config

    loaded = reads_config(CONFIG.replace("PORT", "9"))
    runtime = build(loaded.config)
    async with admin_for(runtime, problems=loaded.problems) as url, Client() as client:
        status, routers, headers = await get(client, url + "/api/http/routers")
        assert status == 200 and headers[b"x-next-page"] == b"1"
        assert isinstance(routers, list)
        hello = next(r for r in routers if r["name"] == "hello")
        assert hello["rule"] == "Host(`hello.docker`)" and hello["service"] == "hello"
        assert hello["middlewares"] == ["strip"] and hello["status"] == "enabled"
        assert hello["entryPoints"] == hello["using"] == ["web"]
        broken = next(r for r in routers if r["name"] == "broken")
        assert broken["status"] == "disabled" and "unknown service" in broken["error"][0]
        status, page, headers = await get(client, url + "/api/http/routers?per_page=1&page=2")
        assert [r["name"] for r in page] == ["hello"] and headers[b"x-next-page"] == b"3"
        status, found, _ = await get(client, url + "/api/http/routers?search=other")
        assert [r["name"] for r in found] == ["other"]
        status, found, _ = await get(client, url + "/api/http/routers?status=disabled")
        assert [r["name"] for r in found] == ["broken"]
        status, one, _ = await get(client, url + "/api/http/routers/other")
        assert status == 200 and one["priority"] == 10
        status, missing, _ = await get(client, url + "/api/http/routers/nope")
        assert status == 404 and missing == {"message": "router not found: nope"}
        status, services, _ = await get(client, url + "/api/http/services")
        (service,) = services
        assert service["type"] == "loadbalancer" and service["usedBy"] == ["hello", "other"]
        assert service["serverStatus"] == {"http://127.0.0.1:9": "UP"}
        status, middlewares, _ = await get(client, url + "/api/http/middlewares")
        (strip,) = middlewares
        assert strip["stripPrefix"] == {"prefixes": ["/api"]} and strip["type"] == "stripprefix"
        status, overview, _ = await get(client, url + "/api/overview")
        assert overview["http"]["routers"] == {"total": 3, "warnings": 0, "errors": 1}
        status, entry_points, _ = await get(client, url + "/api/entrypoints")
        # Go's omitempty: no forwardedHeaders when none are trusted.
        assert entry_points == [{"address": ":80", "name": "web", "http": {}}]
        assert overview["tcp"]["middlewares"] == {"total": 0, "warnings": 0, "errors": 0}
        assert overview["features"] == {"tracing": "", "metrics": "Prometheus", "accessLog": False}
        for path in ("/api/tcp/middlewares", "/api/udp/routers", "/api/udp/services"):
            assert (await get(client, url + path))[:2] == (200, [])
        assert (await get(client, url + "/ping"))[1] == b"OK"
        status, problems, _ = await get(client, url + "/api/problems")
        fields = {"severity", "path", "message", "source", "hint"}
        assert status == 200 and problems and all(set(p) == fields for p in problems)
        status, version, _ = await get(client, url + "/api/version")
        assert set(version) == {"Version", "Codename", "startDate"}
        assert version["startDate"].endswith("Z")
        balancer = runtime.services["hello"]
        assert isinstance(balancer, Group)
        balancer.mark_down("http://127.0.0.1:9")
        status, services, _ = await get(client, url + "/api/http/services/hello")
        assert services["serverStatus"] == {"http://127.0.0.1:9": "DOWN"}


async def test_metrics_have_traefiks_names_and_parse_back() -> None:
    async with whoami(name="a") as backend:
        runtime = build(loads_config(CONFIG.replace("PORT", str(backend.ports[0])).replace(
            '[http.routers.broken]\nrule = "Host(`broken.docker`)"\nservice = "missing"\n', ""
        )))  # fmt: skip
        metrics = Metrics(lambda: runtime)
        entry = {"web": EntryPoint(address="127.0.0.1:0")}
        async with (
            Gateway(runtime, entry, observe=metrics) as gateway,
            admin_for(runtime, metrics) as url,
            Client() as client,
        ):
            for host in (b"hello.docker", b"hello.docker", b"nobody.docker"):
                r = await client.request("GET", gateway.url("web") + "/", headers=[(b"host", host)])
                await r.read()
            metrics.reloaded(1234.0)
            status, text, headers = await get(client, url + "/metrics")
    assert status == 200 and headers[b"content-type"].startswith(b"text/plain")
    assert isinstance(text, bytes)
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text.decode())
        for s in family.samples
    }
    router = (("code", "200"), ("method", "GET"), ("protocol", "http"), ("router", "hello"),
              ("service", "hello"))  # fmt: skip
    assert samples[("traefik_router_requests_total", router)] == 2
    entry_404 = (("code", "404"), ("entrypoint", "web"), ("method", "GET"), ("protocol", "http"))
    assert samples[("traefik_entrypoint_requests_total", entry_404)] == 1
    server = (("service", "hello"), ("url", f"http://127.0.0.1:{backend.ports[0]}"))
    assert samples[("traefik_service_server_up", server)] == 1
    assert samples[("traefik_config_reloads_total", ())] == 1
    assert samples[("traefik_config_last_reload_success", ())] == 1234.0
    names = {name for name, _ in samples}
    assert "traefik_service_request_duration_seconds_bucket" in names


async def test_statuses_order_and_filters_from_a_watcher() -> None:
    from routekit.config import reads_config
    from routekit.providers import StaticProvider
    from routekit.runtime import Watcher

    text = """
[http.routers.Zed]
rule = "Host(`zed.docker`)"
service = "empty"
priority = 5
middlewares = ["strip"]
[http.middlewares.strip.stripPrefix]
prefixes = ["/z"]
[http.routers.alpha]
rule = "Host(`ALPHA.docker`)"
service = "hello"
entryPoints = ["web", "nope"]
[http.routers.mid]
rule = "Host(`mid.docker`)"
service = "hello"
middlewares = ["gone"]
[http.services.empty.loadBalancer]
[[http.services.hello.loadBalancer.servers]]
url = "http://127.0.0.1:9"
"""
    loaded = reads_config(text)
    provider = StaticProvider(loaded.config, name="file", problems=loaded.problems)
    watcher = Watcher([provider], throttle=0)
    entry = {"web": EntryPoint(address=":80")}
    api = AdminAPI(lambda: watcher.runtime, entry, problems=lambda: watcher.problems,
                   providers=lambda: ["file"])  # fmt: skip
    server = EntryPointServer("127.0.0.1:0", Admin(api))
    async with watcher.running(), anyio.create_task_group() as tg, Client() as client:
        await tg.start(server.serve)
        url = f"http://127.0.0.1:{server.ports[0]}"
        _, routers, _ = await get(client, url + "/api/http/routers")
        by_name = {r["name"]: r for r in routers}
        # Sorted by name, byte order as Go's: upper case first.
        assert [r["name"] for r in routers] == ["Zed@file", "alpha@file", "mid@file"]
        # An entry point no one serves is a warning, and the router is used on the others.
        alpha = by_name["alpha@file"]
        assert alpha["status"] == "warning" and alpha["using"] == ["web"]
        assert alpha["error"] == ['entryPoint "nope" doesn\'t exist']
        # Refused when loading (its middleware is unknown): listed disabled under its qualified
        # name, with what the runtime still knows of it.
        assert set(by_name["mid@file"]) == {"name", "provider", "status", "error"}
        assert by_name["mid@file"]["status"] == "disabled"
        _, services, _ = await get(client, url + "/api/http/services")
        empty = next(s for s in services if s["name"] == "empty@file")
        assert empty["status"] == "warning" and "no servers" in empty["error"][0]
        assert "serverStatus" not in empty and empty["usedBy"] == ["Zed@file"]
        _, found, _ = await get(client, url + "/api/http/routers?search=alpha.DOCKER")
        assert [r["name"] for r in found] == ["alpha@file"]  # case-insensitive, in the rule
        _, found, _ = await get(client, url + "/api/http/routers?status=WARNING")
        assert [r["name"] for r in found] == ["alpha@file"]
        _, found, _ = await get(client, url + "/api/http/routers?sortBy=priority&direction=desc")
        assert [r["name"] for r in found] == ["Zed@file", "mid@file", "alpha@file"]  # ties: name
        _, found, _ = await get(client, url + "/api/http/routers?middlewareName=strip")
        assert [r["name"] for r in found] == ["Zed@file"]
        _, found, _ = await get(client, url + "/api/http/routers?serviceName=hello@file")
        assert [r["name"] for r in found] == ["alpha@file"]
        _, overview, _ = await get(client, url + "/api/overview")
        assert overview["providers"] == ["File"]
        assert overview["http"]["routers"] == {"total": 3, "warnings": 1, "errors": 1}
        assert overview["http"]["services"] == {"total": 2, "warnings": 1, "errors": 0}
        status, text_404, _ = await get(client, url + "/api/nowhere")
        assert (status, text_404) == (404, b"404 page not found\n")
        server.stop()
