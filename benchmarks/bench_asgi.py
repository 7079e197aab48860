"""The dispatch overhead of `routekit.asgi.Router` against Starlette's `Router`, in process.

Run: ``.venv/bin/python benchmarks/bench_asgi.py [--quick]``

Both routers stand in front of the same trivial ASGI app (it sends a 200 and an empty body)
and do the same job at 10, 1 000 and 10 000 routes, in two shapes:

- ``host``: one route per host — routekit ``Host(`hN.test`)``, Starlette ``Host("hN.test")``;
- ``mount``: one mount per path prefix — routekit ``PathPrefix(`/mN`)`` with a ``stripPrefix``
  middleware (the app sees ``root_path = "/mN"``), Starlette ``Mount("/mN")``.

Each request is an ASGI call with a fresh scope, as a server makes them, on asyncio; the
requests hit routes spread over the whole table.  The overhead is the time per request through
the router minus the time per request of the app called directly; a figure is the median over
repetitions.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from starlette.routing import Host, Mount
from starlette.routing import Router as StarletteRouter

from routekit import Route
from routekit.asgi import Message, Receive, Router, Scope, Send
from routekit.config import (
    Configuration,
    HTTPConfiguration,
    StripPrefix,
)
from routekit.config import Router as RouterModel

SIZES = (10, 1_000, 10_000)
_START: Message = {"type": "http.response.start", "status": 200, "headers": []}
_BODY: Message = {"type": "http.response.body", "body": b""}


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """The trivial app behind every router."""
    await send(_START)
    await send(_BODY)


async def _receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: Message) -> None:
    pass


def _scope(host: str, path: str) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", host.encode()), (b"user-agent", b"bench"), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


def routekit_router(shape: str, n: int) -> Any:
    """routekit's router of *n* routes of *shape*."""
    if shape == "host":
        return Router([Route(f"r{i}", f"Host(`h{i}.test`)", app) for i in range(n)])
    routers = {
        f"r{i}": RouterModel(
            rule=f"PathPrefix(`/m{i}`)", service="app@asgi", middlewares=(f"s{i}",)
        )
        for i in range(n)
    }
    middlewares = {f"s{i}": StripPrefix(prefixes=(f"/m{i}",)) for i in range(n)}
    http = HTTPConfiguration(routers=routers, middlewares=middlewares)
    return Router(Configuration(http=http), apps={"app": app})


def starlette_router(shape: str, n: int) -> Any:
    """Starlette's router of *n* routes of *shape*."""
    if shape == "host":
        return StarletteRouter([Host(f"h{i}.test", app) for i in range(n)])
    return StarletteRouter([Mount(f"/m{i}", app) for i in range(n)])


def requests(shape: str, n: int) -> list[tuple[str, str]]:
    """(host, path) of 100 requests spread over the table."""
    picks = [(k * n) // 100 for k in range(100)]
    if shape == "host":
        return [(f"h{i}.test", "/x") for i in picks]
    return [("site.test", f"/m{i}/x") for i in picks]


async def per_request(handler: Any, mix: list[tuple[str, str]], budget: float) -> float:
    """Seconds per request of *handler* over *mix*, the median of repetitions in *budget*."""
    times: list[float] = []
    deadline = time.perf_counter() + budget
    while time.perf_counter() < deadline or len(times) < 3:
        scopes = [_scope(h, p) for h, p in mix]
        started = time.perf_counter()
        for scope in scopes:
            await handler(scope, _receive, _send)
        times.append((time.perf_counter() - started) / len(mix))
    return statistics.median(times)


async def main(quick: bool) -> None:
    """Print the table of figures."""
    budget = 0.3 if quick else 1.0
    print(f"# bench_asgi — {datetime.date.today()} — {platform.machine()}, "
          f"Python {platform.python_version()}, {sys.platform}")  # fmt: skip
    print("| shape | routes | app alone | routekit overhead | Starlette overhead | ratio |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for shape in ("host", "mount"):
        for n in SIZES:
            mix = requests(shape, n)
            ours, theirs = routekit_router(shape, n), starlette_router(shape, n)
            for handler in (ours, theirs):  # every answer must be the app's
                sent: list[Message] = []

                async def keep(message: Message, into: list[Message] = sent) -> None:
                    into.append(message)

                for host, path in mix:
                    await handler(_scope(host, path), _receive, keep)
                assert all(m is _START for m in sent[::2]), sent[:2]
            alone = await per_request(app, mix, budget / 3)
            mine = await per_request(ours, mix, budget) - alone
            star = await per_request(theirs, mix, budget) - alone
            print(
                f"| {shape} | {n:,} | {alone * 1e6:.2f} µs | {mine * 1e6:.2f} µs "
                f"| {star * 1e6:.1f} µs | {star / mine:.1f}× |"
            )
            await ours.aclose()


def _run(entry: Callable[[bool], Any]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter repetitions")
    asyncio.run(entry(parser.parse_args().quick))


if __name__ == "__main__":
    _run(main)
