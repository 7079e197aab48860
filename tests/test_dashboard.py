"""The dashboard in a real headless Chromium: it loads clean, shows the gateway, follows health.

Chromium (Debian's ``chromium``, installed by ``.ci/run``) renders the page, runs its script
against the admin API on a socket, and prints the resulting DOM and its console; the test reads
both as a user would read the page.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import tempfile

import anyio
import pytest

from routekit.admin import Admin, AdminAPI, Metrics
from routekit.balance import Group
from routekit.config import EntryPoint, loads_config
from routekit.errors import Problem
from routekit.http import Client, EntryPointServer
from routekit.proxy import Gateway
from routekit.runtime import build
from routekit.whoami import whoami

pytestmark = pytest.mark.anyio

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def render(url: str) -> tuple[str, str]:
    """The page's DOM after its script ran, and the browser's log."""
    assert CHROMIUM is not None, "Chromium is needed: apt-get install chromium"
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
             "--virtual-time-budget=4000", "--dump-dom", url],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    return done.stdout, done.stderr


async def in_thread(url: str) -> tuple[str, str]:
    return await anyio.to_thread.run_sync(render, url)


async def test_the_dashboard_shows_routers_servers_and_a_server_going_down() -> None:
    async with whoami(name="a") as a, whoami(name="b") as b:
        text = f"""
[http.routers.hello]
rule = "Host(`hello.docker`)"
service = "hello"
middlewares = ["strip"]
[http.middlewares.strip.stripPrefix]
prefixes = ["/api"]
[[http.services.hello.loadBalancer.servers]]
url = "http://127.0.0.1:{a.ports[0]}"
[[http.services.hello.loadBalancer.servers]]
url = "http://127.0.0.1:{b.ports[0]}"
"""
        runtime = build(loads_config(text))
        metrics = Metrics(lambda: runtime)
        entry = {"web": EntryPoint(address="127.0.0.1:0")}
        async with Gateway(runtime, entry, observe=metrics) as gateway, Client() as client:
            for _ in range(3):
                r = await client.request(
                    "GET", gateway.url("web") + "/", headers=[(b"host", b"hello.docker")]
                )
                await r.read()
            away = Problem(
                "", "cannot read the provider's source: connection refused",
                "docker provider at unix:///var/run/docker.sock",
                hint="the last configuration read from it keeps serving",
            )  # fmt: skip
            api = AdminAPI(lambda: runtime, entry, problems=lambda: [away])
            admin = EntryPointServer("127.0.0.1:0", Admin(api, metrics))
            async with anyio.create_task_group() as tg:
                await tg.start(admin.serve)
                page = f"http://127.0.0.1:{admin.ports[0]}/dashboard/"
                dom, log = await in_thread(page)
                assert "Uncaught" not in log and "CONSOLE" not in log, log[-2000:]
                assert "routekit" in dom and 'data-name="hello"' in dom
                # A problem of no element (a provider away) is shown too, with its source.
                assert "docker provider at unix:///var/run/docker.sock" in dom
                assert "connection refused (the last configuration read from it keeps" in dom
                assert "Host(`hello.docker`)" in dom and "stripprefix" in dom
                server_b = f"http://127.0.0.1:{b.ports[0]}"
                assert f'data-url="{server_b}"' in dom
                assert dom.count('class="UP"') == 2
                assert "<td>3 (+0 in 2 s)</td>" in dom or "<td>3</td>" in dom  # requests
                balancer = runtime.services["hello"]
                assert isinstance(balancer, Group)
                balancer.mark_down(server_b)
                dom, log = await in_thread(page)
                assert dom.count('class="UP"') == 1 and dom.count('class="DOWN"') == 1
                assert "1 routers (0 with errors)" in dom
                admin.stop()


async def test_the_dashboard_page_is_self_contained() -> None:
    entry = {"web": EntryPoint(address=":80")}
    runtime = build(loads_config(""))
    handler = Admin(AdminAPI(lambda: runtime, entry))
    server = EntryPointServer("127.0.0.1:0", handler)
    async with anyio.create_task_group() as tg, Client() as client:
        await tg.start(server.serve)
        r = await client.get(f"http://127.0.0.1:{server.ports[0]}/dashboard/")
        page = await r.read()
        headers = dict(r.headers)
        server.stop()
    assert headers[b"content-type"] == b"text/html; charset=utf-8"
    assert b"connect-src 'self'" in headers[b"content-security-policy"]
    assert b"http://" not in page and b"https://" not in page  # nothing fetched from elsewhere


async def test_the_demos_own_dashboard() -> None:
    """What a user sees opening the dashboard the demo's banner prints: its routers, its
    three backends up, its problems table (a line written wrong appears there)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "routekit", "demo"], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        while not (lines and lines[-1].startswith("Ctrl-C")):
            line = proc.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        text = "".join(lines)
        page = re.search(r"dashboard on (http://\S+/dashboard/)", text)
        config = re.search(r"follow\): (\S+)", text)
        assert page is not None and config is not None, text
        dom, log = await in_thread(page.group(1))
        assert "Uncaught" not in log and "CONSOLE" not in log, log[-2000:]
        assert 'data-name="hello@file"' in dom and 'data-name="api@file"' in dom, dom[-3000:]
        assert dom.count('class="UP"') >= 3  # the demo's three whoami backends
        # A router added with a rule that does not parse: the dashboard names it.
        with open(config.group(1), "a", encoding="utf-8") as f:
            f.write('\n[http.routers.broken]\nrule = "Host(`x"\nservice = "hello"\n')
        with anyio.fail_after(30):
            while "broken" not in (dom := (await in_thread(page.group(1)))[0]):
                await anyio.sleep(0.2)
        assert "http.routers.broken" in dom
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        proc.stdout.close()
