"""The etcd provider: what a 10 000-key snapshot costs, and how fast a put is served everywhere.

Run: ``.venv/bin/python benchmarks/bench_etcd.py [--quick] [--no-server] [--served-only]
[--throttle S]`` (the server part
starts its own ``etcd``, from Debian's ``etcd-server``, as the tests do).

- snapshot: the ``/v3/kv/range`` answer for N keys (the JSON text etcd's gateway sends, keys
  and values in base64) → decoded, `kv_to_config`, and a routing `Runtime` built — what a full
  read costs the provider and the watcher, without the I/O.  Beside it, ``json.loads`` of the
  same answer: the floor any Python client pays.
- change: three `EtcdProvider` + `Watcher` pairs (``throttle=0``) — three gateways — on one
  real etcd; the time from a put returning to *every* watcher routing by it, over many puts
  (p50, p99, max).  etcd's own put (its HTTP round trip) is printed beside it; Traefik's
  equivalent runs inside its Go process, so there is no in-process peer for these figures.
- served: three ``routekit serve`` processes (the set-up of docs/scaling.md) on one real etcd,
  with a providers throttle; the time from a put returning to a request for the new host being
  answered by the backend on *every* gateway, each polled every 2 ms over HTTP (p50, p99, max
  over the changes).  The target is one second plus the throttle.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import platform
import statistics
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

import anyio
import anyio.to_thread

from routekit.config import kv_to_config
from routekit.providers import EtcdProvider
from routekit.request import Request
from routekit.rules import clear_rule_cache
from routekit.runtime import Runtime, Watcher, build

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def keys_for(routers: int) -> dict[str, str]:
    """Five keys per router: rule, service, entry point, and a service with two servers."""
    keys = {}
    for i in range(routers):
        keys[f"traefik/http/routers/r{i}/rule"] = f"Host(`r{i}.example.com`)"
        keys[f"traefik/http/routers/r{i}/service"] = f"s{i}"
        keys[f"traefik/http/routers/r{i}/entrypoints/0"] = "web"
        for n in range(2):
            url = f"http://10.{i // 256 % 256}.{i % 256}.{n + 1}:80"
            keys[f"traefik/http/services/s{i}/loadbalancer/servers/{n}/url"] = url
    return keys


def range_answer(keys: dict[str, str]) -> bytes:
    """The gateway's answer to a range over them."""
    kvs = [
        {"key": b64(k), "create_revision": "2", "mod_revision": "2", "version": "1",
         "value": b64(v)}
        for k, v in sorted(keys.items())
    ]  # fmt: skip
    header = {"cluster_id": "1", "member_id": "2", "revision": "2", "raft_term": "2"}
    return json.dumps({"header": header, "kvs": kvs, "count": str(len(kvs))}).encode()


def snapshot_cost(routers: int, reps: int) -> tuple[int, float, float, float]:
    """Keys, medians of a first read and a re-read, and the json.loads floor."""
    answer = range_answer(keys_for(routers))

    def full() -> Runtime:
        data = json.loads(answer)
        pairs = {
            base64.b64decode(kv["key"]).decode(): base64.b64decode(kv["value"]).decode()
            for kv in data["kvs"]
        }
        config, problems = kv_to_config(pairs)
        assert not problems, problems[:3]
        return build(config)

    runtime = full()
    assert runtime.route(Request(host=f"r{routers - 1}.example.com", path="/")) is not None
    cold, warm, floor = [], [], []
    for _ in range(reps):
        clear_rule_cache()
        t = time.perf_counter()
        full()
        cold.append(time.perf_counter() - t)
        t = time.perf_counter()
        full()
        warm.append(time.perf_counter() - t)
        t = time.perf_counter()
        json.loads(answer)
        floor.append(time.perf_counter() - t)
    n = len(keys_for(routers))
    return n, statistics.median(cold), statistics.median(warm), statistics.median(floor)


async def change_latency(changes: int) -> tuple[list[float], list[float]]:
    from _etcd import etcd, service  # the tests' servers

    hosts = [f"h{n}.test" for n in range(changes)]
    with tempfile.TemporaryDirectory(prefix="rk-bench-") as root, etcd(Path(root)) as store:
        for key, value in service("hello", "http://127.0.0.1:9000").items():
            store.put(key, value)
        watchers = [
            Watcher([EtcdProvider(store.endpoint, name=f"etcd{n}")], throttle=0) for n in range(3)
        ]
        seen: list[dict[str, float]] = [{} for _ in watchers]

        async def monitor(at: int) -> None:
            # Every publication timestamped as it happens: none is missed.
            async for runtime in watchers[at].subscribe():
                now = time.perf_counter()
                for host in hosts:
                    if host not in seen[at] and runtime.route(Request(host=host, path="/")):
                        seen[at][host] = now

        latency, put_cost = [], []
        async with AsyncExitStack() as stack:
            for watcher in watchers:
                await stack.enter_async_context(watcher.running())
            tg = await stack.enter_async_context(anyio.create_task_group())
            for at in range(len(watchers)):
                tg.start_soon(monitor, at)
            key = "traefik/http/routers/hello/rule"
            for host in hosts:
                t = time.perf_counter()
                await anyio.to_thread.run_sync(store.put, key, f"Host(`{host}`)")
                done = time.perf_counter()
                put_cost.append(done - t)
                with anyio.fail_after(30):
                    while not all(host in s for s in seen):
                        await anyio.sleep(0.0005)
                latency.append(max(s[host] for s in seen) - done)
            tg.cancel_scope.cancel()
    return latency, put_cost


async def served_latency(changes: int, throttle: float) -> list[float]:
    from _backends import backends  # the tests' whoami servers and processes
    from _etcd import etcd, service
    from _process import finish, spawn
    from _sockets import free_port
    from routekit.http import Client

    hosts = [f"h{n}.test" for n in range(changes)]
    ports = [free_port() for _ in range(3)]
    with tempfile.TemporaryDirectory(prefix="rk-bench-") as root, etcd(Path(root)) as store:
        async with backends("hello") as backend, Client() as client:
            for key, value in service("hello", f"http://127.0.0.1:{backend['hello']}").items():
                store.put(key, value)
            procs = [
                spawn(
                    "serve", f"--entryPoints.web.address=127.0.0.1:{port}",
                    f"--providers.etcd.endpoints={store.endpoint}",
                    f"--providers.providersThrottleDuration={int(throttle * 1000)}ms",
                    ready=lambda line: "routekit serve: web on" in line,
                )[0]
                for port in ports
            ]  # fmt: skip
            latency = []
            try:

                async def served(port: int, host: str) -> None:
                    url = f"http://127.0.0.1:{port}/"
                    while True:
                        r = await client.request("GET", url, headers=[(b"host", host.encode())])
                        await r.read()
                        if r.status == 200:
                            return
                        await anyio.sleep(0.002)

                key = "traefik/http/routers/hello/rule"
                for host in hosts:
                    await anyio.to_thread.run_sync(store.put, key, f"Host(`{host}`)")
                    done = time.perf_counter()
                    with anyio.fail_after(30):
                        async with anyio.create_task_group() as tg:
                            for port in ports:
                                tg.start_soon(served, port, host)
                    latency.append(time.perf_counter() - done)
            finally:
                for proc in procs:
                    assert proc.stderr is not None
                    finish(proc, proc.stderr)
    return latency


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-server", action="store_true", help="skip the real-etcd part")
    parser.add_argument("--served-only", action="store_true", help="only the gateways' part")
    parser.add_argument(
        "--throttle", type=float, default=0.5, help="the gateways' providers throttle, seconds"
    )
    args = parser.parse_args()
    reps = 3 if args.quick else 5
    print(f"# bench_etcd — {platform.node()}, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, {datetime.date.today()}")  # fmt: skip
    print("\n| keys | range → Runtime, first | re-read | json.loads alone (floor) | ratio |")
    print("|---:|---:|---:|---:|---:|")
    for routers in () if args.served_only else (200, 2000) if args.quick else (200, 2000, 10000):
        n, cold, warm, floor = snapshot_cost(routers, reps)
        print(f"| {n} | {ms(cold)} | {ms(warm)} | {ms(floor)} | {cold / floor:.1f}× |")
    if args.no_server:
        return
    changes = 20 if args.quick else 100
    if args.served_only:
        served_table(changes, args.throttle)
        return
    latency, put_cost = anyio.run(change_latency, changes)
    q = statistics.quantiles(latency, n=100, method="inclusive")
    print(f"\n| put → routed on all 3 watchers ({changes} puts, throttle 0) | p50 | p99 | max |")
    print("|---|---:|---:|---:|")
    print(f"| routekit | {ms(q[49])} | {ms(q[98])} | {ms(max(latency))} |")
    pq = statistics.quantiles(put_cost, n=100, method="inclusive")
    print(f"| etcd's own put (HTTP round trip) | {ms(pq[49])} | {ms(pq[98])} | "
          f"{ms(max(put_cost))} |")  # fmt: skip
    served_table(changes, args.throttle)


def served_table(changes: int, throttle: float) -> None:
    served = anyio.run(served_latency, changes, throttle)
    q = statistics.quantiles(served, n=100, method="inclusive")
    print(f"\n| put → served by all 3 `routekit serve` gateways ({changes} puts, "
          f"throttle {throttle:g} s) | p50 | p99 | max | target |")  # fmt: skip
    print("|---|---:|---:|---:|---:|")
    print(f"| routekit | {ms(q[49])} | {ms(q[98])} | {ms(max(served))} | "
          f"≤ {ms(1 + throttle)} |")  # fmt: skip


if __name__ == "__main__":
    main()
