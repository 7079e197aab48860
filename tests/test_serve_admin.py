"""``routekit serve``'s admin side from Traefik's static sections: v1's ``[web.auth.basic]``
guarding the API, ``[metrics.prometheus]`` and ``[ping]`` on entry points of their own, the
reload and connection metrics filled in, and ``[log]`` as JSON or in a file."""

from __future__ import annotations

import base64
import json
import signal
from pathlib import Path

import anyio
import pytest

from _process import finish, spawn
from _routes import one_route
from _sockets import free_port
from routekit.http import Client, EntryPointServer, PoolLimits, RequestHead, Response
from test_cli_serve import answering, eventually, start, stop

pytestmark = pytest.mark.anyio

# htpasswd -nbs ops s3cret
OPS = "ops:{SHA}" + base64.b64encode(__import__("hashlib").sha1(b"s3cret").digest()).decode()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def v2_static(tmp_path: Path, port: int, extra: str = "") -> tuple[Path, Path]:
    """A v2 static file: entry point ``web`` on *port*, a file provider, no throttle, *extra*."""
    dynamic, static = tmp_path / "dynamic.toml", tmp_path / "traefik.toml"
    static.write_text(
        f'[entryPoints.web]\naddress = "127.0.0.1:{port}"\n{extra}'
        f'[providers]\nprovidersThrottleDuration = "0s"\n[providers.file]\nfilename = "{dynamic}"\n'
    )
    return static, dynamic


def backend() -> EntryPointServer:
    async def handler(head: RequestHead, body: object) -> Response:
        return Response(200, [], b"one")

    return EntryPointServer("127.0.0.1:0", handler)


async def test_v1_web_auth_basic_guards_the_api_but_not_ping(tmp_path: Path) -> None:
    port, web = free_port(), free_port()
    dynamic = tmp_path / "rules.toml"
    static = tmp_path / "traefik.toml"
    static.write_text(
        f'defaultEntryPoints = ["http"]\nlogLevel = "INFO"\n'
        f'[entryPoints.http]\naddress = "127.0.0.1:{port}"\n'
        f'[file]\nfilename = "{dynamic}"\nwatch = true\n'
        f'[web]\naddress = "127.0.0.1:{web}"\n[web.auth.basic]\nusers = ["{OPS}"]\n'
    )
    one = backend()
    async with anyio.create_task_group() as tg, Client() as client:
        await tg.start(one.serve)
        dynamic.write_text(one_route(one.ports[0]))
        proc, seen = spawn("serve", "--config", str(static),
                           ready=lambda line: "routekit serve: http on" in line)  # fmt: skip
        try:
            url = f"http://127.0.0.1:{web}"
            await eventually(client, port, b"one")
            r = await answering(client, url + "/ping")
            assert r.status == 200 and await r.read() == b"OK"  # probes need no login
            r = await client.get(url + "/api/http/routers")
            assert r.status == 401 and await r.read() == b"401 Unauthorized\n"
            assert dict(r.headers)[b"www-authenticate"] == b'Basic realm="traefik"'
            good = b"Basic " + base64.b64encode(b"ops:s3cret")
            for secret, status in ((b"Basic " + base64.b64encode(b"ops:nope"), 401), (good, 200)):
                sent = [(b"host", b"x"), (b"authorization", secret)]
                r = await client.request("GET", url + "/api/http/routers", headers=sent)
                body = await r.read()
                assert r.status == status, body
            assert [x["name"] for x in json.loads(body)] == ["app@file"]
            sent = [(b"host", b"x"), (b"authorization", good)]
            r = await client.request("GET", url + "/metrics", headers=sent)
            assert r.status == 200 and b"traefik_config_reloads_total" in await r.read()
        finally:
            assert proc.stderr is not None
            rest = "".join(seen) + finish(proc, proc.stderr)
        summary = f"admin API on 127.0.0.1:{web} (port {web}): /api, /metrics, /ping (basic auth)"
        assert summary in rest
        one.stop()


async def test_metrics_and_ping_on_their_own_entry_points(tmp_path: Path) -> None:
    port, metrics, probes = free_port(), free_port(), free_port()
    static, dynamic = v2_static(
        tmp_path,
        port,
        f'[entryPoints.metrics]\naddress = "127.0.0.1:{metrics}"\n'
        f'[entryPoints.traefik]\naddress = "127.0.0.1:{probes}"\n'
        '[metrics.prometheus]\nentryPoint = "metrics"\nbuckets = [0.05, 0.5]\n[ping]\n'
        '[log]\nlevel = "INFO"\nformat = "json"\n',
    )
    one = backend()
    async with anyio.create_task_group() as tg, Client() as client:
        await tg.start(one.serve)
        dynamic.write_text(one_route(one.ports[0]))
        proc = start(static)
        try:
            await eventually(client, port, b"one")
            r = await answering(client, f"http://127.0.0.1:{probes}/ping")
            assert await r.read() == b"OK"
            r = await client.get(f"http://127.0.0.1:{probes}/api/overview")
            assert r.status == 404  # no [api]: no API
            await r.read()
            r = await client.get(f"http://127.0.0.1:{metrics}/metrics")
            text = (await r.read()).decode()
            assert r.status == 200
            name = "traefik_config_reloads_total"
            reloads = [ln for ln in text.splitlines() if ln.startswith(name)]
            assert reloads and float(reloads[0].split()[-1]) >= 1
            assert 'traefik_open_connections{entrypoint="web",protocol="http"}' in text
            assert 'le="0.05"' in text and 'le="1.2"' not in text  # the configured buckets
            r = await client.get(f"http://127.0.0.1:{metrics}/ping")
            assert r.status == 404  # ping is on its own entry point, not this one
            await r.read()
        finally:
            rest = stop(proc)
        logged = [json.loads(line) for line in rest.splitlines() if line.startswith("{")]
        reloaded = [x for x in logged if "configuration reloaded" in x["message"]]
        assert reloaded and reloaded[0]["level"] == "info" and reloaded[0]["time"].endswith("Z")
        one.stop()


async def test_the_log_goes_to_log_file_path(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "routekit.log"
    static, dynamic = v2_static(tmp_path, port, f'[log]\nlevel = "INFO"\nfilePath = "{log}"\n')
    one = backend()
    async with anyio.create_task_group() as tg, Client() as client:
        await tg.start(one.serve)
        dynamic.write_text(one_route(one.ports[0]))
        proc = start(static)
        try:
            await eventually(client, port, b"one")
        finally:
            rest = stop(proc)
        assert "configuration reloaded" in log.read_text()
        assert "configuration reloaded" not in rest
        one.stop()


async def test_sigterm_under_load_lets_the_requests_in_flight_finish(tmp_path: Path) -> None:
    port = free_port()
    static, dynamic = v2_static(tmp_path, port)

    arrived: list[str] = []

    async def slow(head: RequestHead, body: object) -> Response:
        if head.event.target == b"/load":
            arrived.append(head.event.target.decode())
        await anyio.sleep(0.8)
        return Response(200, [], b"done")

    backend = EntryPointServer("127.0.0.1:0", slow)
    limits = PoolLimits(per_origin=32)  # every request on a connection of its own
    async with anyio.create_task_group() as tg, Client(limits) as client:
        await tg.start(backend.serve)
        dynamic.write_text(one_route(backend.ports[0]))
        proc = start(static)
        answers: list[tuple[int, bytes]] = []
        try:
            await eventually(client, port, b"done")

            async def one() -> None:
                r = await client.request(
                    "GET", f"http://127.0.0.1:{port}/load", headers=[(b"host", b"app.test")]
                )
                answers.append((r.status, await r.read()))

            async with anyio.create_task_group() as load:
                for _ in range(20):
                    load.start_soon(one)
                with anyio.fail_after(10):  # every request in flight, waiting on the backend
                    while len(arrived) < 20:
                        await anyio.sleep(0.01)
                proc.send_signal(signal.SIGTERM)
        finally:
            assert proc.stderr is not None
            proc.wait(timeout=30)
            rest = proc.stderr.read()
            proc.stderr.close()
        assert proc.returncode == 0, rest
        assert answers == [(200, b"done")] * 20  # none cut, none refused
        assert "routekit serve: stopped" in rest
        backend.stop()


async def test_sighup_under_load_drops_no_request_on_the_entry_points_that_stay(
    tmp_path: Path,
) -> None:
    port, other, moved = free_port(), free_port(), free_port()
    extra = f'[entryPoints.other]\naddress = "127.0.0.1:{other}"\n'
    static, dynamic = v2_static(tmp_path, port, extra)
    text = static.read_text()
    one = backend()
    async with anyio.create_task_group() as tg, Client() as client:
        await tg.start(one.serve)
        dynamic.write_text(one_route(one.ports[0]))
        proc = start(static)
        answers: list[int] = []
        try:
            await eventually(client, other, b"one")

            async def load() -> None:
                async with Client() as own:  # kept-alive connections to the entry point that stays
                    for _ in range(60):
                        r = await own.request(
                            "GET", f"http://127.0.0.1:{other}/", headers=[(b"host", b"app.test")]
                        )
                        await r.read()
                        answers.append(r.status)
                        await anyio.sleep(0.01)

            async with anyio.create_task_group() as clients:
                for _ in range(4):
                    clients.start_soon(load)
                await anyio.sleep(0.2)
                static.write_text(text.replace(f"127.0.0.1:{port}", f"127.0.0.1:{moved}"))
                proc.send_signal(signal.SIGHUP)  # "web" moves; "other" keeps serving
            await eventually(client, moved, b"one")
        finally:
            rest = stop(proc)
        assert answers == [200] * 240  # not one request lost while the gateway rebound
        assert "SIGHUP: entry points changed: web" in rest
        one.stop()
