"""``routekit demo``: a working gateway on built-in defaults, for a first look.

Three whoami backends, a gateway whose file provider routes ``Host: hello.docker`` to them
(weighted round-robin, health-checked) and ``Host: api.docker`` through a stripPrefix and
headers chain; the configuration file is printed and watched, so that editing it changes the
routing while the demo runs (each reload and each problem is printed).  Ctrl-C (or SIGTERM)
stops everything.
"""

from __future__ import annotations

import signal
import tempfile
from pathlib import Path
from typing import TextIO

import anyio

from .admin import Admin, AdminAPI, Metrics
from .config import EntryPoint
from .http import EntryPointServer
from .providers import FileProvider
from .proxy import Gateway
from .runtime import Watcher
from .whoami import Whoami

__all__ = ["demo", "demo_config"]

WEIGHTS = (3, 2, 1)


def demo_config(ports: tuple[int, ...]) -> str:
    """The demo's dynamic configuration, for backends on *ports*."""
    servers = "".join(
        f'[[http.services.hello.loadBalancer.servers]]\nurl = "http://127.0.0.1:{port}"\n'
        f"weight = {weight}\n"
        for port, weight in zip(ports, WEIGHTS, strict=False)
    )
    return f"""# routekit demo: edit this file while the demo runs; the routes follow it.

[http.routers.hello]
rule = "Host(`hello.docker`)"
service = "hello"

[http.routers.api]
rule = "Host(`api.docker`) && PathPrefix(`/api`)"
service = "hello"
middlewares = ["api-strip", "api-headers"]

[http.middlewares.api-strip.stripPrefix]
prefixes = ["/api"]

[http.middlewares.api-headers.headers.customRequestHeaders]
X-Demo = "routekit"
[http.middlewares.api-headers.headers.customResponseHeaders]
X-Powered-By = "routekit"

[http.services.hello.loadBalancer.healthCheck]
path = "/health"
interval = "2s"
timeout = "1s"

{servers}"""


def _banner(url: str, admin: str, config: Path, backends: list[tuple[str, int]]) -> str:
    lines = [
        f"routekit demo: gateway on {url}",
        f"  dashboard on {admin}/dashboard/ (API: {admin}/api/overview, metrics: {admin}/metrics)",
        "  backends: " + ", ".join(f"{name} on 127.0.0.1:{port}" for name, port in backends),
        f"  configuration (edit it, the routes follow): {config}",
        "",
        "Try:",
        f"  curl -H 'Host: hello.docker' {url}/           # weighted round-robin: 3, 2, 1",
        f"  curl -H 'Host: api.docker' {url}/api/users    # stripPrefix + headers",
        f"  curl -H 'Host: nobody.docker' {url}/          # no router: 404",
        f"  curl -d 500 http://127.0.0.1:{backends[0][1]}/health   # {backends[0][0]} unhealthy:"
        " out of rotation within 2 s",
        "",
        "Ctrl-C stops the demo.",
    ]
    return "\n".join(lines)


async def _report(watcher: Watcher, out: TextIO) -> None:
    """Say on the console what each reload changed."""
    async for runtime in watcher.subscribe():
        routers = ", ".join(sorted(runtime.config.http.routers)) or "none"
        print(f"routekit demo: configuration reloaded; routers: {routers}", file=out, flush=True)
        for problems in watcher.problems.values():
            for problem in problems:
                print(f"  {problem.severity}: {problem}", file=out, flush=True)


async def demo(out: TextIO, *, port: int = 0, folder: Path | None = None) -> None:
    """Run the demo until SIGINT or SIGTERM; *port* 0 takes a free one."""
    folder = folder or Path(tempfile.mkdtemp(prefix="routekit-demo-"))
    config = folder / "demo.toml"
    names = [f"whoami-{i}" for i in range(1, len(WEIGHTS) + 1)]
    backends = [EntryPointServer("127.0.0.1:0", Whoami(name)) for name in names]
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with anyio.create_task_group() as tg:
            for backend in backends:
                await tg.start(backend.serve)
            config.write_text(demo_config(tuple(b.ports[0] for b in backends)))
            watcher = Watcher([FileProvider(config, watch=True)], throttle=0.2)
            entry = {"web": EntryPoint(address=f"127.0.0.1:{port}")}
            metrics = Metrics(lambda: watcher.runtime, watcher=watcher)
            async with Gateway(watcher, entry, observe=metrics) as gateway:
                api = AdminAPI(
                    lambda: gateway.runtime,
                    entry,
                    problems=lambda: watcher.problems,
                )
                admin = EntryPointServer("127.0.0.1:0", Admin(api, metrics))
                await tg.start(admin.serve)
                listed = [(n, b.ports[0]) for n, b in zip(names, backends, strict=True)]
                admin_url = f"http://127.0.0.1:{admin.ports[0]}"
                print(_banner(gateway.url("web"), admin_url, config, listed), file=out, flush=True)
                async with anyio.create_task_group() as inner:
                    inner.start_soon(_report, watcher, out)
                    async for _ in signals:
                        break
                    inner.cancel_scope.cancel()
                gateway.stop()
                admin.stop()
            for backend in backends:
                backend.stop()
    print("routekit demo: stopped", file=out, flush=True)
