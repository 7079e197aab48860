"""A canary rollout: move traffic from v1 to v2 by changing the weights of one weighted service.

    python examples/canary_rollout.py [--requests 100]

Two whoami backends stand for the two versions of an application, and a `Gateway` follows a
dynamic configuration file where the router's service is a `weighted` service over ``app-v1``
and ``app-v2`` — Traefik's canary set-up, its "Weighted Round Robin (service)"
(doc.traefik.io/traefik/routing/services/#weighted-round-robin-service).
The rollout rewrites the file as an operator or a deployment pipeline would — 0 %, 10 %, 50 %,
then 100 % for v2 — and after each reload sends requests and prints which version answered.
The weights apply without a restart, the proportions are exact, and no request fails.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path

import anyio

from routekit.config import EntryPoint
from routekit.http import Client
from routekit.providers import FileProvider
from routekit.proxy import Gateway
from routekit.runtime import Runtime, Watcher
from routekit.whoami import whoami

#: (v1 weight, v2 weight) at each step of the rollout.
STEPS = [(100, 0), (90, 10), (50, 50), (0, 100)]

CONFIG = """\
[http.routers.app]
rule = "Host(`app.example.com`)"
service = "app"

[http.services.app.weighted]
services = [{{ name = "app-v1", weight = {v1} }}, {{ name = "app-v2", weight = {v2} }}]

[[http.services.app-v1.loadBalancer.servers]]
url = "http://127.0.0.1:{port_v1}"

[[http.services.app-v2.loadBalancer.servers]]
url = "http://127.0.0.1:{port_v2}"
"""


def weights(runtime: Runtime) -> tuple[int, ...]:
    """The weights of the ``app`` service in *runtime* (empty before the file is read)."""
    service = runtime.config.http.services.get("app@file")
    if service is None or service.weighted is None:
        return ()
    return tuple(child.weight for child in service.weighted.services)


async def rollout(requests: int) -> None:
    """Start the backends and the gateway, then walk through `STEPS`."""
    async with AsyncExitStack() as stack:
        ports = {}
        for name in ("app-v1", "app-v2"):
            server = await stack.enter_async_context(whoami(name=name))
            ports[name] = server.ports[0]
        conf = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "canary.toml"
        conf.write_text(
            CONFIG.format(v1=100, v2=0, port_v1=ports["app-v1"], port_v2=ports["app-v2"])
        )
        watcher = Watcher([FileProvider(conf, poll_interval=0.1)], throttle=0)
        gateway = await stack.enter_async_context(
            Gateway(watcher, {"web": EntryPoint(address="127.0.0.1:0")})
        )
        client = await stack.enter_async_context(Client())
        updates = watcher.subscribe()
        for v1, v2 in STEPS:
            text = CONFIG.format(v1=v1, v2=v2, port_v1=ports["app-v1"], port_v2=ports["app-v2"])
            conf.write_text(text)
            runtime = watcher.runtime
            with anyio.fail_after(30):
                while weights(runtime) != (v1, v2):  # until the watcher applied this step
                    runtime = await anext(updates)
            seen: Counter[str] = Counter()
            for _ in range(requests):
                answer = await client.get(
                    gateway.url("web") + "/", headers=[(b"host", b"app.example.com")]
                )
                first = (await answer.read()).split(b"\n", 1)[0].decode()
                seen[first.removeprefix("Name: ") if answer.status == 200 else "failed"] += 1
            share = 100 * v2 // (v1 + v2)
            counts = ", ".join(f"{name} {seen[name]}" for name in ("app-v1", "app-v2", "failed"))
            print(f"v2 at {share:>3} %: {counts}", flush=True)


def main() -> None:
    """Parse the arguments and run the rollout."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100, help="requests sent at each step")
    anyio.run(rollout, parser.parse_args().requests)


if __name__ == "__main__":
    main()
