"""A router's middleware chain in process: µs per request with and without it, no network.

Run: ``.venv/bin/python benchmarks/bench_chain.py [--calls N] [--rounds R]``

The chain is the typical one of the proxy benchmark (``benchmarks/proxy/bench_proxy.py``'s
``routekit chain``): stripPrefix + headers (two security headers, one custom request header) +
rateLimit (a limit far above the load) + basicAuth (bcrypt, cost 10, remembered after the first
check), built from the same TOML by `routekit.runtime.build` and composed by
`routekit.middleware.Chains` as the proxy composes it.  Each request is a new `Call` (its own
header list, as the proxy makes one) sent through the chain to a terminal that answers at once,
then to one that first yields to the event loop three times (as a forwarded request waits for
its sockets: each resumption climbs every coroutine frame of the chain); the same calls straight
to the terminal are the baseline.  The figure is the median over *rounds* of the mean over
*calls*.

``--proxy`` measures the whole proxy in this process instead: two `Gateway` objects on loopback
(the router without and with the chain) before one backend, sent the same request (path and
credentials) by 16 concurrent clients, in turns; the CPU time of the process (gateway, backend
and clients: only the gateway's part differs, but for the backend reading the two request
fields the chain adds and the client the two answer fields) per request.  Use many short
rounds (``--proxy --calls 400 --rounds 41``): the figure is the median of each round's
difference.

``--wrk`` measures ``routekit serve`` itself, the proxy benchmark's way (nginx behind, wrk in
front, the proxy's CPU time from ``/proc``; needs wrk and nginx), but with both proxies loaded
*at the same time* by two wrk processes, round after round (``--rounds``, ``--seconds`` each):
the two share the same moment of a shared machine, whose drift between runs is larger than the
chain's cost.  The figure is the median of the rounds' differences.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import importlib
import platform
import statistics
import sys
import tempfile
import threading
import time
import types
from collections.abc import AsyncIterator, Generator
from pathlib import Path
from typing import Any

import anyio

from routekit import Request
from routekit.config import EntryPoint, loads_config
from routekit.http import Client, EntryPointServer, RequestHead, Response
from routekit.middleware import Call, Chains, Fused, Next, with_fields
from routekit.proxy import Gateway
from routekit.runtime import RoutingDecision, build

# The proxy benchmark's module: its chain (one definition for both) and, for --wrk, its tools.
sys.path.insert(0, str(Path(__file__).resolve().parent / "proxy"))
PROXY_BENCH: Any = importlib.import_module("bench_proxy")
# The router of the proxy benchmark with its chain; the password of "bench" is "bench".
CONFIG = f"""
[http.routers.app]
rule = "Host(`app.test`)"
service = "app"
{PROXY_BENCH.CHAIN}
[[http.services.app.loadBalancer.servers]]
url = "http://127.0.0.1:8080"
"""
CHAIN_NAMES = 'middlewares = ["strip", "headers", "limit", "auth"]'

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


@types.coroutine
def _yield() -> Generator[None, None, None]:
    yield  # a bare yield: asyncio's task runs the coroutine again at the next loop turn


async def waiting(call: Call) -> Response:
    """The rest of the path: answers after yielding to the event loop three times."""
    for _ in range(3):
        await _yield()
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


def in_frame(chain: Fused, end: Next) -> Next:
    """*chain* run as `routekit.proxy.Proxy` runs a chain of steps: its befores, *end*, and
    the answer's fields put in a new list (the proxy puts them in the list it makes)."""
    enter, fields = chain.enter, chain.fields
    assert fields is not None

    async def handle(call: Call) -> Response:
        answer = enter(call)
        if answer is not None and not isinstance(answer, Response):
            answer = await answer  # the first bcrypt check
        if answer is not None:
            return answer
        response = await end(call)
        return Response(response.status, with_fields(response.headers, fields), response.body)

    return handle


async def measure(end: Next, calls: int, rounds: int) -> tuple[float, float]:
    """The median µs per request without and with the chain, around *end*."""
    routed = decision()
    path = Chains(end).path(routed)
    assert isinstance(path, Fused), path
    chained = in_frame(path, end)
    await run(chained, routed, 10)  # the one bcrypt check, then remembered
    plain: list[float] = []
    chain: list[float] = []
    for _ in range(rounds):
        plain.append(await run(end, routed, calls))
        chain.append(await run(chained, routed, calls))
    return statistics.median(plain) * 1e6, statistics.median(chain) * 1e6


async def backend(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
    """The server behind the gateways: 13 bytes, as the proxy benchmark's nginx."""
    return Response(200, [(b"content-type", b"text/plain")], b"Hello, world!")


async def through(url: str, client: Client, count: int) -> float:
    """CPU seconds of this process per request, *count* requests to *url* from 16 clients."""
    sent = [(HEADERS[0][0], HEADERS[0][1]), HEADERS[1]]

    async def one_client(n: int) -> None:
        for _ in range(n):
            answer = await client.request("GET", url + "/api/x", headers=sent)
            assert answer.status == 200, answer.status
            await answer.read()

    started = time.process_time()
    async with anyio.create_task_group() as tg:
        for _ in range(16):
            tg.start_soon(one_client, count // 16)
    return (time.process_time() - started) / (count // 16 * 16)


async def measure_proxy(calls: int, rounds: int) -> tuple[float, float, float]:
    """The median µs of CPU per request through the gateway without and with the chain, and
    the median of the differences of each round's two batches (run one after the other: the
    drift of a shared machine between rounds cancels out)."""
    server = EntryPointServer("127.0.0.1:0", backend)
    async with anyio.create_task_group() as tg:
        await tg.start(server.serve)
        url = f"http://127.0.0.1:{server.ports[0]}"
        chained = build(loads_config(CONFIG.replace("http://127.0.0.1:8080", url)))
        text = CONFIG.replace(CHAIN_NAMES, "")
        plain = build(loads_config(text.replace("http://127.0.0.1:8080", url)))
        web = {"web": EntryPoint(address="127.0.0.1:0")}
        async with Gateway(plain, web) as a, Gateway(chained, web) as b, Client() as client:
            for gateway in (a, b):
                await through(gateway.url("web"), client, 320)  # warm (and bcrypt once)
            without: list[float] = []
            with_chain: list[float] = []
            for turn in range(rounds):
                # Alternate which goes first, so that neither always follows the other.
                first, second = (a, b) if turn % 2 == 0 else (b, a)
                one = await through(first.url("web"), client, calls)
                two = await through(second.url("web"), client, calls)
                without.append(one if first is a else two)
                with_chain.append(two if first is a else one)
        server.stop()
    added = statistics.median(c - p for p, c in zip(without, with_chain, strict=True))
    return statistics.median(without) * 1e6, statistics.median(with_chain) * 1e6, added * 1e6


def _at_once(
    bench: Any, procs: dict[int, Any], seconds: int, load: dict[str, Any]
) -> tuple[float, float]:
    """µs of CPU per request of each proxy (port → process), both loaded at the same time."""
    done: dict[int, dict[str, float]] = {}
    before = {port: bench.cpu_seconds(proc.pid) for port, proc in procs.items()}

    def load_one(port: int) -> None:
        done[port] = bench.wrk(port, 32, seconds, "1", **load)

    both = [threading.Thread(target=load_one, args=(port,)) for port in procs]
    for thread in both:
        thread.start()
    for thread in both:
        thread.join()
    first, second = (
        (bench.cpu_seconds(proc.pid) - before[port]) / done[port]["requests"] * 1e6
        for port, proc in procs.items()
    )
    return first, second


def measure_wrk(rounds: int, seconds: int) -> list[tuple[float, float]]:
    """µs of CPU per request of ``routekit serve`` without and with the chain, each round with
    both loaded at once (the proxy benchmark's nginx, wrk and configuration)."""
    bench = PROXY_BENCH
    load = {"path": bench.CHAIN_PATH, "headers": bench.CHAIN_HEADERS}
    out: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        backend, plain, chained = (bench.free_port() for _ in range(3))
        with (
            bench.running(bench.nginx_conf(folder, backend, None), backend, "1"),
            bench.running(bench.routekit_conf(folder, plain, backend), plain, "0") as p,
            bench.running(
                bench.routekit_conf(folder, chained, backend, chain=True), chained, "0"
            ) as c,
        ):
            for port in (plain, chained):
                bench.wrk(port, 32, 2, "1", **load)  # warm-up, and the one bcrypt check
            procs = {plain: p, chained: c}
            for turn in range(rounds):
                without, with_chain = _at_once(bench, procs, seconds, load)
                out.append((without, with_chain))
                print(
                    f"round {turn + 1}: routekit {without:6.1f} µs/req, with the chain "
                    f"{with_chain:6.1f} µs/req: {with_chain - without:+5.1f} µs",
                    flush=True,
                )
    return out


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--proxy", action="store_true", help="the whole proxy, in process")
    parser.add_argument("--wrk", action="store_true", help="routekit serve under two wrk at once")
    parser.add_argument("--seconds", type=int, default=3, help="each --wrk round")
    args = parser.parse_args()
    today = datetime.date.today().isoformat()
    print(f"{platform.machine()}, Python {sys.version.split()[0]}; {today}")
    if args.wrk:
        print(f"{args.rounds} rounds of {args.seconds} s, both proxies loaded at once")
        rounds = measure_wrk(args.rounds, args.seconds)
        added = statistics.median(c - p for p, c in rounds)
        print(f"routekit serve, both loaded at once (wrk -c32 each): the chain adds {added:+.1f} "
              f"µs of CPU per request (median of {len(rounds)} rounds)")  # fmt: skip
        return
    print(f"{args.calls} calls x {args.rounds} rounds")
    if args.proxy:
        without, with_chain, added = anyio.run(measure_proxy, args.calls, args.rounds)
        print(
            f"proxy in process: without the chain {without:6.1f} µs of CPU, with it "
            f"{with_chain:6.1f} µs; the chain adds {added:5.1f} µs per request "
            "(median of the rounds' differences)"
        )
        return
    for label, end in (("answers at once", terminal), ("yields 3 times", waiting)):
        without, with_chain = asyncio.run(measure(end, args.calls, args.rounds))
        print(
            f"terminal {label:16} without the chain {without:6.2f} µs, with it "
            f"{with_chain:6.2f} µs: the chain adds {with_chain - without:6.2f} µs per request"
        )


if __name__ == "__main__":
    main()
