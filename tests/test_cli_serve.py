"""``routekit serve`` as a user runs it: a real process, real sockets, signals, workers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest

from _process import finish, spawn
from _routes import one_route
from _sockets import free_port
from routekit.http import (
    Client,
    ClientResponse,
    EntryPointServer,
    RequestHead,
    Response,
    UpstreamError,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def named(name: bytes) -> EntryPointServer:
    async def handler(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        return Response(200, [], name)

    return EntryPointServer("127.0.0.1:0", handler)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Path, Path, int]]:
    port = free_port()
    static, dyn = tmp_path / "traefik.toml", tmp_path / "dynamic.toml"
    static.write_text(f"""
[entryPoints.web]
address = "127.0.0.1:{port}"
[providers]
providersThrottleDuration = "0s"
[providers.file]
filename = "{dyn}"
[log]
level = "INFO"
""")
    yield static, dyn, port


def start(static: Path, *extra: str) -> subprocess.Popen[str]:
    # Log lines (a reload at INFO) may come before the summary.
    ready = lambda line: "routekit serve: web on" in line  # noqa: E731
    proc, seen = spawn("serve", "--config", str(static), *extra, ready=ready, most=20)
    _heads[proc.pid] = "".join(seen)
    return proc


_heads: dict[int, str] = {}  # what start() read, so stop() can return the whole output


def stop(proc: subprocess.Popen[str]) -> str:
    """Everything the gateway wrote to stderr, once SIGTERM has stopped it."""
    assert proc.stderr is not None
    return _heads.pop(proc.pid, "") + finish(proc, proc.stderr)


@asynccontextmanager
async def routed_to_one(dyn: Path) -> AsyncIterator[Client]:
    """A backend that says ``one``, the dynamic file *dyn* routing ``app.test`` to it, and a
    client; the backend stops on the way out."""
    one = named(b"one")
    async with anyio.create_task_group() as tg, Client() as client:
        await tg.start(one.serve)
        dyn.write_text(one_route(one.ports[0]))
        yield client
        one.stop()


async def get(client: Client, port: int) -> tuple[int, bytes]:
    r = await client.request("GET", f"http://127.0.0.1:{port}/", headers=[(b"host", b"app.test")])
    return r.status, await r.read()


async def eventually(client: Client, port: int, want: bytes) -> None:
    with anyio.fail_after(10):
        while (await get(client, port))[1] != want:
            await anyio.sleep(0.05)


async def answering(client: Client, url: str) -> ClientResponse:
    """The first answer from *url* once something listens there (within 10 s)."""
    with anyio.fail_after(10):
        while True:
            try:
                return await client.get(url)
            except UpstreamError:
                await anyio.sleep(0.05)


async def test_serve_routes_follows_the_file_and_stops_on_sigterm(
    setup: tuple[Path, Path, int],
) -> None:
    static, dyn, port = setup
    one, two = named(b"one"), named(b"two")
    async with anyio.create_task_group() as tg, Client() as client:
        await tg.start(one.serve)
        await tg.start(two.serve)
        dyn.write_text(one_route(one.ports[0]))
        proc = start(static)
        try:
            assert await get(client, port) == (200, b"one")
            dyn.write_text(one_route(two.ports[0]))
            await eventually(client, port, b"two")
        finally:
            rest = stop(proc)
        assert "routekit serve: stopped" in rest
        assert f"routekit serve: static configuration: {static}" in rest
        assert f"routekit serve: providers: file ({dyn})" in rest
        # uvloop is installed with the test extra: the default loop (auto) takes it.
        assert "routekit serve: event loop: uvloop " in rest
        one.stop()
        two.stop()


async def test_serve_runs_on_asyncios_own_loop_when_asked(setup: tuple[Path, Path, int]) -> None:
    static, dyn, port = setup
    async with routed_to_one(dyn) as client:
        proc = start(static, "--loop", "asyncio")
        try:
            assert await get(client, port) == (200, b"one")
        finally:
            rest = stop(proc)
        assert "routekit serve: event loop: asyncio\n" in rest


_WITHOUT_UVLOOP = (
    "import sys; sys.modules['uvloop'] = None; from routekit.cli import main; sys.exit(main())"
)


def test_serve_without_uvloop_refuses_loop_uvloop_and_takes_asyncio_for_auto(
    setup: tuple[Path, Path, int],
) -> None:
    static, _, _ = setup
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_UVLOOP, "serve", "--config", str(static),
         "--loop", "uvloop"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "routekit serve: --loop uvloop: the uvloop package is not installed" in done.stderr
    proc, seen = spawn(
        "serve", "--config", str(static),
        ready=lambda line: "event loop:" in line, python=("-c", _WITHOUT_UVLOOP),
    )  # fmt: skip
    assert proc.stderr is not None
    finish(proc, proc.stderr)
    assert seen[-1] == "routekit serve: event loop: asyncio\n", seen


async def test_two_workers_share_the_port_and_a_dead_one_is_replaced(
    setup: tuple[Path, Path, int],
) -> None:
    static, dyn, port = setup
    async with routed_to_one(dyn) as client:
        proc = start(static, "--workers", "2")
        try:
            workers = await children(proc.pid, 2)
            await eventually(client, port, b"one")
            os.kill(workers[0], signal.SIGKILL)
            replaced = await children(proc.pid, 2, without=workers[0])
            assert workers[1] in replaced
            for _ in range(20):  # every connection is served, by whichever worker
                async with Client() as fresh:
                    assert await get(fresh, port) == (200, b"one")
        finally:
            rest = stop(proc)
        assert "exited with -9, starting another" in rest
        for pid in replaced:
            assert not Path(f"/proc/{pid}").exists() or _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


async def children(parent: int, count: int, *, without: int | None = None) -> list[int]:
    """The pids of *parent*'s *count* live worker processes, once each one listens."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        text = Path(f"/proc/{parent}/task/{parent}/children").read_text()
        pids = [int(p) for p in text.split() if int(p) != without and not _zombie(int(p))]
        if len(pids) == count and all(_listening(pid) for pid in pids):
            return pids
        await anyio.sleep(0.1)
    raise AssertionError(f"no {count} workers under {parent}")


def _listening(pid: int) -> bool:
    """Whether *pid* has a listening TCP socket (its gateway is up)."""
    try:
        inodes = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
    except OSError:
        return False
    table = Path("/proc/net/tcp").read_text().splitlines()[1:]
    listening = {f"socket:[{row.split()[9]}]" for row in table if row.split()[3] == "0A"}
    return bool(inodes & listening)


def test_a_bad_static_file_is_refused_with_every_problem_located(tmp_path: Path) -> None:
    static = tmp_path / "traefik.toml"
    static.write_text(
        '[entryPoints.web]\naddress = ":notaport"\n[entryPoints.other]\naddress = "[::1]"\n'
        '[providers]\nprovidersThrottleDuration = "soon"\n[providers.file]\n'
        '[providers.docker]\nexposedByDefault = "maybe"\n[log]\nformat = "xml"\n'
    )
    proc = subprocess.run(
        [sys.executable, "-m", "routekit", "serve", "--config", str(static)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    where = sorted(
        (line.split(": ", 3)[1:3] for line in errors), key=lambda w: int(w[0].split(":")[-2])
    )
    assert where == [
        [f"{static}:2:1", "entryPoints.web.address"],
        [f"{static}:4:1", "entryPoints.other.address"],
        [f"{static}:6:1", "providers.providersThrottleDuration"],
        [f"{static}:9:1", "providers.docker.exposedByDefault"],
        [f"{static}:11:1", "log.format"],
    ], proc.stderr


async def test_serve_writes_the_access_log_of_the_static_file(
    setup: tuple[Path, Path, int],
) -> None:
    static, dyn, port = setup
    log = static.parent / "access.log"
    static.write_text(static.read_text() + f'[accessLog]\nfilePath = "{log}"\n')
    async with routed_to_one(dyn) as client:
        proc = start(static)
        try:
            assert await get(client, port) == (200, b"one")
            with anyio.fail_after(10):
                while not log.exists() or not log.read_text():
                    await anyio.sleep(0.05)
        finally:
            stop(proc)
        (line,) = log.read_text().splitlines()
        assert '"GET / HTTP/1.1" 200 3 "-" "-" 1' in line


async def test_serve_gives_the_api_and_metrics_on_the_insecure_api_entry_point(
    setup: tuple[Path, Path, int],
) -> None:
    static, dyn, port = setup
    admin_port = free_port()
    static.write_text(
        static.read_text()
        + f'[entryPoints.traefik]\naddress = "127.0.0.1:{admin_port}"\n[api]\ninsecure = true\n'
    )
    async with routed_to_one(dyn) as client:
        proc = start(static)
        try:
            assert await get(client, port) == (200, b"one")
            admin = f"http://127.0.0.1:{admin_port}"
            r = await answering(client, admin + "/ping")
            assert await r.read() == b"OK"
            r = await client.get(admin + "/api/http/routers")
            routers = json.loads(await r.read())
            assert [x["name"] for x in routers] == ["app@file"]
            assert routers[0]["entryPoints"] == ["web"]  # not the admin's own entry point
            r = await client.get(admin + "/metrics")
            text = (await r.read()).decode()
            assert 'traefik_router_requests_total{code="200",method="GET"' in text
        finally:
            rest = stop(proc)
        assert "admin API on 127.0.0.1:" in rest


async def test_serve_takes_traefiks_flags_over_the_file(setup: tuple[Path, Path, int]) -> None:
    static, dyn, _ = setup
    moved = free_port()
    async with routed_to_one(dyn) as client:
        proc = start(static, f"--entryPoints.web.address=127.0.0.1:{moved}", "--log.level=INFO")
        try:
            assert await get(client, moved) == (200, b"one")  # the flag won over the file
        finally:
            stop(proc)
        # Flags alone, as `traefik --providers.file.filename=… --entryPoints.web.address=…`.
        proc = subprocess.Popen(
            [sys.executable, "-m", "routekit", "serve", f"--providers.file.filename={dyn}",
             f"--entryPoints.web.address=127.0.0.1:{moved}",
             "--providers.providersThrottleDuration=0s"],
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert proc.stderr is not None
        while "routekit serve: web on" not in (line := proc.stderr.readline()):
            assert line, "the gateway did not start"
        try:
            assert await get(client, moved) == (200, b"one")
        finally:
            stop(proc)


def test_serve_says_where_the_kubernetes_api_server_is_missing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "KUBERNETES_"))}
    done = subprocess.run(
        [sys.executable, "-m", "routekit", "serve", "--providers.kubernetesIngress",
         "--entryPoints.web.address=127.0.0.1:0"],
        capture_output=True, text=True, timeout=60, check=False, env=env,
    )  # fmt: skip
    assert done.returncode == 1
    assert "routekit serve: kubernetes: no endpoint: set endpoint" in done.stderr, done.stderr


def test_serve_refuses_unknown_flags_with_a_hint(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "routekit", "serve", "--entrypoint.web.address=:80"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "unknown flag --entrypoint.web.address (did you mean '--entryPoints'?)" in done.stderr


async def test_sighup_rebinds_the_entry_points_that_changed(setup: tuple[Path, Path, int]) -> None:
    static, dyn, port = setup
    other, moved = free_port(), free_port()
    text = static.read_text() + f'[entryPoints.other]\naddress = "127.0.0.1:{other}"\n'
    static.write_text(text)
    async with routed_to_one(dyn) as client:
        proc = start(static)
        try:
            assert await get(client, port) == (200, b"one")
            async with Client() as kept:  # a connection to the entry point that stays
                assert await get(kept, other) == (200, b"one")
                static.write_text(text.replace(f"127.0.0.1:{port}", f"127.0.0.1:{moved}"))
                proc.send_signal(signal.SIGHUP)
                r = await answering(client, f"http://127.0.0.1:{moved}/")
                await r.read()
                await eventually(client, moved, b"one")
                assert await get(kept, other) == (200, b"one")  # served all along
            with pytest.raises(UpstreamError):  # the old address is no longer served
                async with Client() as fresh:
                    await get(fresh, port)
            static.write_text("[entryPoints.web\n")  # broken: SIGHUP keeps what serves
            proc.send_signal(signal.SIGHUP)
            await anyio.sleep(0.5)
            assert await get(client, moved) == (200, b"one")
        finally:
            rest = stop(proc)
        assert "SIGHUP: entry points changed: web" in rest
        assert "SIGHUP: the static configuration kept" in rest
