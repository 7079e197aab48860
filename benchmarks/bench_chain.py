"""A router's middleware chain in process: µs per request with and without it, no network.

Run: ``.venv/bin/python benchmarks/bench_chain.py [--calls N] [--rounds R]``

The chain is the typical one of the proxy benchmark (``benchmarks/proxy/bench_proxy.py``'s
``routekit chain``): stripPrefix + headers (two security headers, one custom request header) +
rateLimit (a limit far above the load) + basicAuth (bcrypt, cost 10, remembered after the first
check), built from the same TOML by `routekit.runtime.build` and composed by
`routekit.middleware.Chains` as the proxy composes it.  Each request is a new `Call` (its own
header list, as the proxy makes one) sent through the chain to a terminal that answers at once;
the same calls straight to the terminal are the baseline.  The figure is the median over
*rounds* of the mean over *calls*.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import platform
import statistics
import sys
import time
from collections.abc import AsyncIterator

from routekit import Request
from routekit.config import loads_config
from routekit.http import Response
from routekit.middleware import Call, Chains, Next
from routekit.runtime import RoutingDecision, build

# The chain of benchmarks/proxy/bench_proxy.py; the password of "bench" is "bench".
CONFIG = """
[http.routers.app]
rule = "Host(`app.test`)"
service = "app"
middlewares = ["strip", "headers", "limit", "auth"]
[http.middlewares.strip.stripPrefix]
prefixes = ["/api"]
[http.middlewares.headers.headers]
frameDeny = true
contentTypeNosniff = true
[http.middlewares.headers.headers.customRequestHeaders]
X-Gateway = "routekit"
[http.middlewares.limit.rateLimit]
average = 10000000
burst = 10000000
[http.middlewares.auth.basicAuth]
users = ["bench:$2b$10$dzKkxe0KVvU/z35dmwOpReOhXzS7FIt4z7AcwpdlouNVUBeUv4COy"]
[[http.services.app.loadBalancer.servers]]
url = "http://127.0.0.1:8080"
"""

# What wrk sends, after the entry point's X-Forwarded-* step.
HEADERS = (
    (b"host", b"app.test"),
    (b"authorization", b"Basic YmVuY2g6YmVuY2g="),
    (b"x-forwarded-host", b"app.test"),
    (b"x-forwarded-port", b"80"),
    (b"x-forwarded-proto", b"http"),
    (b"x-forwarded-server", b"bench"),
    (b"x-real-ip", b"127.0.0.1"),
    (b"x-forwarded-for", b"127.0.0.1"),
)
ANSWER = Response(
    200,
    [(b"content-type", b"text/plain"), (b"content-length", b"2")],
    b"ok",
    checked=True,
)


async def _no_body() -> AsyncIterator[bytes]:
    return
    yield b""  # an async generator that yields nothing


async def terminal(call: Call) -> Response:
    """The rest of the path: answers at once."""
    return ANSWER


def decision() -> RoutingDecision:
    """The routing decision of ``GET /api/x`` to ``app.test``, from the configuration."""
    runtime = build(loads_config(CONFIG))
    found = runtime.route(Request(method="GET", host="app.test", path="/api/x"), "web")
    assert found is not None, runtime.problems
    return found


async def run(handler: Next, routed: RoutingDecision, calls: int) -> float:
    """Seconds per request of *calls* requests through *handler*."""
    body = _no_body()
    request = Request(method="GET", host="app.test", path="/api/x")
    started = time.perf_counter()
    for _ in range(calls):
        call = Call(
            method=b"GET",
            path="/api/x",
            query=None,
            headers=list(HEADERS),
            body=body,
            request=request,
            decision=routed,
            client_ip="127.0.0.1",
        )
        response = await handler(call)
    elapsed = time.perf_counter() - started
    assert response.status == 200, response
    return elapsed / calls


async def measure(calls: int, rounds: int) -> tuple[float, float]:
    """The median µs per request without and with the chain."""
    routed = decision()
    chained = Chains(terminal).handler(routed)
    await run(chained, routed, 10)  # the one bcrypt check, then remembered
    plain: list[float] = []
    chain: list[float] = []
    for _ in range(rounds):
        plain.append(await run(terminal, routed, calls))
        chain.append(await run(chained, routed, calls))
    return statistics.median(plain) * 1e6, statistics.median(chain) * 1e6


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    without, with_chain = asyncio.run(measure(args.calls, args.rounds))
    today = datetime.date.today().isoformat()
    print(f"{platform.machine()}, Python {sys.version.split()[0]}; {today}")
    print(f"{args.calls} calls x {args.rounds} rounds (median of the rounds' means)")
    print(f"without the chain   {without:6.2f} µs per request")
    print(f"with the chain      {with_chain:6.2f} µs per request")
    print(f"the chain adds      {with_chain - without:6.2f} µs per request")


if __name__ == "__main__":
    main()
