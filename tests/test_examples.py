"""The examples run as a user runs them, and say what they should."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest

from _backends import backends, names, until
from _sockets import free_port
from routekit.http import Client

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def test_route_demo_prints_each_decision() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "route_demo.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    out = result.stdout
    assert "GET api.example.com/v1/users\n    -> api (api-v1)" in out
    assert "-> api-legacy (api-legacy) then rewrite: PathPrefixStrip(`/legacy`)" in out
    # The admin route refuses 10.0.0.0/8, so that client falls through to the site.
    assert "/admin/panel from 10.1.2.3\n    -> web (website)" in out
    assert "/admin/panel from 192.0.2.7\n    -> admin (forbidden)" in out
    assert "GET store.example.com/cart\n    -> shop (shop)" in out
    assert "unknown.example.org/\n    -> no route (404)" in out
    assert "Host(`example.com`) did not match host 'unknown.example.org'" in out


def test_watch_directory_follows_edits(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(
        '[http.routers.api]\nrule = "Host(`api.example.com`)"\nservice = "api"\n'
        '[[http.services.api.loadBalancer.servers]]\nurl = "http://127.0.0.1:9000"\n'
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            str(EXAMPLES / "watch_directory.py"),
            str(tmp_path),
            "--seconds",
            "90",
            "--throttle",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        first = _read_block(proc)
        assert "api@file" in first and "web@file" not in first
        (tmp_path / "b.toml").write_text(
            '[http.routers.web]\nrule = "Host(`web.example.com`)"\nservice = "api@file"\n'
        )
        second = _read_block(proc)
        assert "api@file" in second and "web@file" in second
        (tmp_path / "a.toml").unlink()
        third = _read_block(proc)
        # The api router and service are gone with their file; web points at a service that no
        # longer exists, so it is left out and reported.
        assert "[web] 0 router(s)" in third
        assert "unknown service" in third and "web" in third
    finally:
        proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()


def _read_block(proc: subprocess.Popen[str], timeout: float = 45.0) -> str:
    """Lines up to the next ``--`` separator the example prints after each runtime."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.strip() == "--":
            return "".join(lines)
        lines.append(line)
    raise AssertionError(f"no complete block from the example; got {lines!r}")


def _run(*args: str, cwd: Path | None = None) -> str:
    """Run ``python <args>`` to the end (a failure raises with its output); its stdout."""
    result = subprocess.run(
        [sys.executable, *args], check=False, capture_output=True, text=True, timeout=120, cwd=cwd
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_canary_rollout_moves_the_traffic_exactly() -> None:
    out = _run(str(EXAMPLES / "canary_rollout.py"), "--requests", "100").splitlines()
    assert out == [
        "v2 at   0 %: app-v1 100, app-v2 0, failed 0",
        "v2 at  10 %: app-v1 90, app-v2 10, failed 0",
        "v2 at  50 %: app-v1 50, app-v2 50, failed 0",
        "v2 at 100 %: app-v1 0, app-v2 100, failed 0",
    ]


def test_sticky_sessions_keep_each_visitor_and_move_one_whose_server_stops() -> None:
    out = _run(str(EXAMPLES / "sticky_sessions.py"))
    first = dict(
        re.findall(r"^(\w+): first visit served by (shop-\d); Set-Cookie: shop_lb=", out, re.M)
    )
    assert sorted(first) == ["ann", "bob", "cid"]
    assert sorted(first.values()) == ["shop-1", "shop-2", "shop-3"]  # round-robin for new ones
    assert "; Path=/; HttpOnly; SameSite=Lax" in out
    for visitor, server in first.items():
        assert re.search(
            rf"^{visitor}: five more visits with shop_lb=\w+, served by {server}$", out, re.M
        )
    assert f"{first['ann']} stops" in out
    moved = re.search(r"^ann: served by (shop-\d) instead; Set-Cookie: shop_lb=(\w+);", out, re.M)
    assert moved is not None and moved.group(1) != first["ann"]
    assert out.rstrip().endswith(
        f"ann: five more visits with the new cookie, served by {moved.group(1)}"
    )


def test_routing_properties_pass_under_pytest(tmp_path: Path) -> None:
    # Run from a scratch directory: hypothesis keeps its example database in the working one.
    out = _run(
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        str(EXAMPLES / "routing_properties.py"),
        cwd=tmp_path,
    )
    assert "4 passed" in out


def test_routing_properties_run_on_their_own(tmp_path: Path) -> None:
    out = _run(str(EXAMPLES / "routing_properties.py"), cwd=tmp_path)
    assert out.count("ok  test_") == 4


ROUTES = """\
[http.routers.app]
rule = "Host(`{host}`)"
service = "app"
[[http.services.app.loadBalancer.servers]]
url = "http://127.0.0.1:{a}"
weight = 3
[[http.services.app.loadBalancer.servers]]
url = "http://127.0.0.1:{b}"
"""


@pytest.mark.anyio
async def test_custom_gateway_serves_real_requests_and_follows_its_file(tmp_path: Path) -> None:
    async with backends("a", "b") as ports, Client() as client:
        routes = tmp_path / "routes.toml"
        routes.write_text(ROUTES.format(host="app.example.com", a=ports["a"], b=ports["b"]))
        proc = subprocess.Popen(
            [
                sys.executable,
                str(EXAMPLES / "custom_gateway.py"),
                str(routes),
                "--address",
                "127.0.0.1:0",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        try:
            lines = [await anyio.to_thread.run_sync(proc.stdout.readline) for _ in range(2)]
            assert lines[0] == f"1 route(s) from {routes}\n", lines
            port = int(lines[1].removeprefix("listening on 127.0.0.1:0 (port ").rstrip(")\n"))
            url = f"http://127.0.0.1:{port}/some/path?x=1"
            # Weighted round-robin over the file's servers, 3 to 1.
            assert await names(client, url, b"app.example.com", 8) == {"a": 6, "b": 2}
            r = await client.get(url, headers=[(b"host", b"app.example.com")])
            seen = (await r.read()).decode()
            assert "GET /some/path?x=1 HTTP/1.1" in seen and "X-Forwarded-For: 127.0.0.1" in seen
            r = await client.get(url, headers=[(b"host", b"other.example.com")])
            assert (r.status, await r.read()) == (404, b"404 page not found\n")
            # The provider follows the file: the route moves to another host.
            routes.write_text(ROUTES.format(host="new.example.com", a=ports["a"], b=ports["b"]))
            await until(client, url, b"new.example.com", {"a", "b"})
            assert await names(client, url, b"app.example.com", 2) == {"404": 2}
            # A server that does not answer is the client's 502, as in Traefik.
            routes.write_text(ROUTES.format(host="new.example.com", a=ports["a"], b=free_port()))
            await until(client, url, b"new.example.com", {"a", "502"})
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            proc.stdout.close()
