"""Middlewares are built when the configuration loads, and a router's steps share one frame.

A middleware that cannot be built — a ``usersFile`` that is not there, an option only its
build refuses, an encoding whose package is not installed — is a located problem for
``routekit check``, the watcher and a running gateway, and the routers that use it are left
out (404, ``disabled`` in the API) while the others serve, as Traefik disables a router whose
middleware fails.  A missing package is real: ``sys.modules[name] = None`` in the process is
how Python behaves without it.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from _echo import headers_of, site, with_middlewares
from _process import finish, spawn
from _sockets import free_port
from routekit import Request
from routekit.config import BasicAuth, Compress, RateLimit, loads_config
from routekit.errors import ConfigError
from routekit.http import Client, EntryPointServer, RequestHead, Response
from routekit.middleware import Step, needs_face, shared_layer
from routekit.providers import FileProvider
from routekit.runtime import Watcher, build

pytestmark = pytest.mark.anyio

#: ``python -c`` as ``python -m routekit``, in a process where brotli cannot be imported.
NO_BROTLI = (
    "import sys; sys.modules['brotli'] = None; "
    "from routekit.cli import main; raise SystemExit(main())"
)


def broken(port: int, missing: Path) -> str:
    """Router ``good`` to the backend at *port*, and three routers whose middleware cannot be
    built: ``gone`` (its usersFile *missing*), ``named`` (headerField not a header name) and
    ``packed`` (compress in br, which needs brotli)."""
    return f"""
[http.routers.good]
rule = "Host(`good.test`)"
service = "app"
[http.routers.gone]
rule = "Host(`gone.test`)"
service = "app"
middlewares = ["gone"]
[http.middlewares.gone.basicAuth]
usersFile = "{missing}"
[http.routers.named]
rule = "Host(`named.test`)"
service = "app"
middlewares = ["named"]
[http.middlewares.named.basicAuth]
users = ["ann:{{SHA}}2PRZAyDhNDqRW2OUFwZQqPNdaSY="]
headerField = "X User"
[http.routers.packed]
rule = "Host(`packed.test`)"
service = "app"
middlewares = ["packed"]
[http.middlewares.packed.compress]
encodings = ["br"]
[[http.services.app.loadBalancer.servers]]
url = "http://127.0.0.1:{port}"
"""


def check(dynamic: Path) -> subprocess.CompletedProcess[str]:
    """``routekit check`` of *dynamic*, without brotli."""
    command = [sys.executable, "-c", NO_BROTLI, "check", str(dynamic)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_check_reports_each_middleware_that_cannot_be_built(tmp_path: Path) -> None:
    dynamic = tmp_path / "dynamic.toml"
    dynamic.write_text(broken(free_port(), tmp_path / "no-such-users"))
    done = check(dynamic)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    where = {line.split(": ")[2] for line in lines if line.startswith("error: ")}
    assert where == {
        "http.middlewares.gone.basicAuth.usersFile",
        "http.routers.gone",
        "http.middlewares.named.basicAuth.headerField",
        "http.routers.named.middlewares",
        "http.middlewares.packed.compress.encodings",
        "http.routers.packed.middlewares",
    }, lines
    packed = next(line for line in lines if ".compress.encodings" in line)
    assert f"{dynamic}:" in packed and "'brotli' package" in packed and "pip install" in packed
    assert lines[-1] == f"{dynamic}: 6 error(s)"


def test_check_passes_what_builds(tmp_path: Path) -> None:
    dynamic = tmp_path / "dynamic.toml"
    text = broken(free_port(), tmp_path / "users").replace('headerField = "X User"', "")
    dynamic.write_text(text.replace('encodings = ["br"]', 'encodings = ["gzip"]'))
    (tmp_path / "users").write_text("bob:{SHA}2PRZAyDhNDqRW2OUFwZQqPNdaSY=\n")
    done = check(dynamic)
    assert done.returncode == 0, done.stdout
    assert "4 router(s), 1 service(s), 3 middleware(s)" in done.stdout


async def test_the_watcher_reports_them_and_leaves_their_routers_out(tmp_path: Path) -> None:
    dynamic = tmp_path / "dynamic.toml"
    users = tmp_path / "users"
    text = broken(free_port(), users).replace('encodings = ["br"]', 'encodings = ["gzip"]')
    dynamic.write_text(text)
    watcher = Watcher([FileProvider(dynamic, poll_interval=0.05)], throttle=0)
    async with watcher.running():
        paths = {p.path: p for p in watcher.problems["file"] if p.severity == "error"}
        # Validation's problems are the provider's own names; the build's are qualified.
        assert "http.middlewares.gone.basicAuth.usersFile" in paths
        named = paths["http.middlewares.named@file.basicAuth.headerField"]
        assert "cannot be built" in named.message and (named.source or "").startswith(str(dynamic))
        assert watcher.runtime.routers == ("good@file", "packed@file")
        packed = watcher.runtime.route(Request(host="packed.test", path="/"), "web")
        assert packed is not None
        first = packed.layers

        # Mended: the routers come back; the unchanged compress keeps its built layer.
        users.write_text("bob:{SHA}2PRZAyDhNDqRW2OUFwZQqPNdaSY=\n")
        dynamic.write_text(text.replace('headerField = "X User"', 'headerField = "X-User"'))
        with anyio.fail_after(10):
            async for runtime in watcher.subscribe():
                if len(runtime.routers) == 4:
                    break
        assert not [p for p in watcher.problems["file"] if p.severity == "error"]
        again = watcher.runtime.route(Request(host="packed.test", path="/"), "web")
        assert again is not None and again.layers == first and first[0] is not None


def test_build_reuses_the_layers_of_unchanged_middlewares(tmp_path: Path) -> None:
    text = broken(free_port(), tmp_path / "users").replace('encodings = ["br"]', "")
    (tmp_path / "users").write_text("bob:{SHA}2PRZAyDhNDqRW2OUFwZQqPNdaSY=\n")
    text = text.replace('headerField = "X User"', 'headerField = "X-User"')
    first = build(loads_config(text))
    second = build(loads_config(text.replace("good.test", "fine.test")), previous=first)
    request = Request(host="named.test", path="/")
    one, two = first.route(request, "web"), second.route(request, "web")
    assert one is not None and two is not None
    assert one.layers == two.layers and isinstance(two.layers[0], Step)
    changed = build(loads_config(text.replace("X-User", "X-Who")), previous=second)
    three = changed.route(request, "web")
    assert three is not None and three.layers[0] is not two.layers[0]


def test_layers_that_need_the_face_are_checked_at_load_and_built_by_the_face() -> None:
    assert needs_face(Compress()) is False and shared_layer(Compress()) is not None
    assert needs_face(RateLimit(average=5)) and shared_layer(RateLimit(average=5)) is None
    with pytest.raises(ConfigError, match="period must not be negative"):
        shared_layer(RateLimit(average=5, period=-1))
    with pytest.raises(ConfigError, match="headerField"):
        shared_layer(BasicAuth(users=("a:{SHA}x",), header_field="a b"))


# The gateway is another process: one event loop library is enough for the test's side.
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_running_gateway_serves_the_others_and_reports_them(tmp_path: Path) -> None:
    async def app(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        return Response(200, [(b"content-type", b"text/plain")], b"app")

    backend = EntryPointServer("127.0.0.1:0", app)
    web, api = free_port(), free_port()
    dynamic, static = tmp_path / "dynamic.toml", tmp_path / "traefik.toml"
    static.write_text(f"""
[entryPoints.web]
address = "127.0.0.1:{web}"
[entryPoints.traefik]
address = "127.0.0.1:{api}"
[api]
insecure = true
[providers]
providersThrottleDuration = "0s"
[providers.file]
filename = "{dynamic}"
[log]
level = "WARN"
""")
    async with anyio.create_task_group() as tg, Client() as client:
        await tg.start(backend.serve)
        dynamic.write_text(broken(backend.ports[0], tmp_path / "no-such-users"))
        proc, seen = await anyio.to_thread.run_sync(
            lambda: spawn_blocked("serve", "--config", str(static))
        )
        try:

            async def get(host: str) -> int:
                url = f"http://127.0.0.1:{web}/"
                answer = await client.request("GET", url, headers=[(b"host", host.encode())])
                await answer.read()
                return answer.status

            assert await get("good.test") == 200
            for host in ("gone.test", "named.test", "packed.test"):
                assert await get(host) == 404  # left out, as Traefik's disabled routers
            answer = await client.get(f"http://127.0.0.1:{api}/api/problems")
            problems = {p["path"]: p for p in json.loads(await answer.read())}
            packed = problems["http.middlewares.packed@file.compress.encodings"]
            assert packed["severity"] == "error" and "'brotli' package" in packed["message"]
            assert "http.middlewares.named@file.basicAuth.headerField" in problems
            assert "http.middlewares.gone.basicAuth.usersFile" in problems  # by validation
            answer = await client.get(f"http://127.0.0.1:{api}/api/http/routers")
            status = {r["name"]: r["status"] for r in json.loads(await answer.read())}
            assert status == {
                "good@file": "enabled",
                "gone@file": "disabled",
                "named@file": "disabled",
                "packed@file": "disabled",
            }
        finally:
            assert proc.stderr is not None
            rest = "".join(seen) + finish(proc, proc.stderr)
        assert "http.middlewares.packed@file.compress.encodings: cannot be built" in rest
        backend.stop()


def spawn_blocked(*args: str) -> tuple[subprocess.Popen[str], list[str]]:
    """``routekit <args>`` without brotli, read until it serves."""
    return spawn(
        *args,
        ready=lambda line: "routekit serve: web on" in line,
        most=40,
        python=("-c", NO_BROTLI),
    )


async def test_a_step_that_answers_gets_the_steps_before_it() -> None:
    headers = """
[http.middlewares.secure.headers]
frameDeny = true
[http.middlewares.auth.basicAuth]
users = ["ann:{SHA}2PRZAyDhNDqRW2OUFwZQqPNdaSY="]
"""
    # headers before basicAuth: its answer to basicAuth's 401 has the security header, as
    # Traefik's headers middleware wraps the one after it.
    async with site(with_middlewares(headers, '["secure", "auth"]')) as s:
        response, _ = await s.get("/")
        assert response.status == 401
        assert (b"x-frame-options", b"DENY") in response.headers
    # basicAuth first: the headers middleware never ran.
    async with site(with_middlewares(headers, '["auth", "secure"]')) as s:
        response, _ = await s.get("/")
        assert response.status == 401
        assert b"x-frame-options" not in dict(response.headers)


async def test_steps_around_a_layer_keep_the_chain_order() -> None:
    middlewares = """
[http.middlewares.secure.headers]
frameDeny = true
[http.middlewares.secure.headers.customRequestHeaders]
X-Seen = "outer"
[http.middlewares.squeeze.compress]
encodings = ["gzip"]
minResponseBodyBytes = 10
[http.middlewares.strip.stripPrefix]
prefixes = ["/api"]
"""
    # headers (a step), compress (a layer), stripPrefix (a step): three frames, in this order.
    async with site(with_middlewares(middlewares, '["secure", "squeeze", "strip"]')) as s:
        response, body = await s.get("/api/big/400", headers=[(b"accept-encoding", b"gzip")])
        assert response.status == 200
        head = dict(response.headers)
        assert head[b"content-encoding"] == b"gzip" and head[b"x-frame-options"] == b"DENY"
        assert len(gzip.decompress(body)) == 400
        seen = await s.echoed("/api/echo")
        assert seen["target"] == "/echo"
        sent = headers_of(seen)
        assert sent["x-forwarded-prefix"] == ["/api"] and sent["x-seen"] == ["outer"]
