"""build() time and memory, and how long the watcher takes to serve a file edit.

Run: ``.venv/bin/python benchmarks/bench_build.py [--quick]``

- ``build`` cold: a configuration of N routers, each with its own two-server service (every
  tenth router with a two-middleware chain), built from nothing.  Peak memory is tracemalloc's
  peak during one cold build (the Python objects allocated, not the process RSS).
- ``build`` warm: the same configuration built again with ``previous=`` (rules and balancers
  reused), and with one service changed.
- file edit → new runtime: a `FileProvider` (default poll 0.25 s) over a file of N routers
  behind a `Watcher`; the time from the write to the new runtime published (``subscribe()``),
  with ``throttle=0`` and with the default 2 s throttle — for an edit made after the previous
  reload's pause (leading edge) and one made right after a reload (waits for the pause to end).

No peer: Traefik's equivalent runs inside its Go process and is not measurable from here.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import anyio

from routekit.config import Configuration, loads_dynamic
from routekit.providers import FileProvider
from routekit.rules import clear_rule_cache
from routekit.runtime import Runtime, Watcher, build


def config_text(n: int, variant: int = 0) -> str:
    """The TOML of N routers and services (``variant`` changes service 0's second server)."""
    out: list[str] = [
        '[http.middlewares.strip.stripPrefix]\nprefixes = ["/api"]\n',
        '[http.middlewares.common.chain]\nmiddlewares = ["strip"]\n',
    ]
    for i in range(n):
        mws = 'middlewares = ["common", "strip"]\n' if i % 10 == 0 else ""
        out.append(
            f"[http.routers.r{i}]\n"
            f'rule = "Host(`h{i}.example.com`) && PathPrefix(`/api`)"\n'
            f'service = "s{i}"\n{mws}'
        )
        second = 3 + variant if i == 0 else 2
        out.append(
            f"[http.services.s{i}.loadBalancer]\n"
            f'servers = [{{url = "http://10.{i // 250}.{i % 250}.1:80"}}, '
            f'{{url = "http://10.{i // 250}.{i % 250}.{second}:80", weight = 2}}]\n'
        )
    return "\n".join(out)


def make_config(n: int, variant: int = 0) -> Configuration:
    config, problems = loads_dynamic(config_text(n, variant), source="bench.toml")
    assert not problems, problems[:3]
    return config


def median_ms(fn: Callable[[], object], reps: int, *, cold: bool = False) -> float:
    times = []
    for _ in range(reps):
        if cold:
            clear_rule_cache()  # every rule parsed again, as on a first build
        t0 = time.perf_counter_ns()
        fn()
        times.append(time.perf_counter_ns() - t0)
    return statistics.median(times) / 1e6


def bench_build(n: int, reps: int) -> list[tuple[str, str]]:
    config = make_config(n)
    changed = make_config(n, variant=1)
    tracemalloc.start()
    first = build(config)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert not first.problems and len(first.tables["web"]) == n
    cold = median_ms(lambda: build(config), reps, cold=True)
    warm = median_ms(lambda: build(config, previous=first), reps)
    one = median_ms(lambda: build(changed, previous=first), reps)
    return [
        (f"build cold, {n} routers", f"{cold:.1f} ms"),
        (f"build peak memory, {n} routers", f"{peak / 2**20:.1f} MiB"),
        (f"build warm (previous=, unchanged), {n} routers", f"{warm:.1f} ms"),
        (f"build warm (previous=, 1 service changed), {n} routers", f"{one:.1f} ms"),
    ]


async def edit_latency(n: int, throttle: float, reps: int, during_pause: bool) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dynamic.toml"
        path.write_text(config_text(n), encoding="utf-8")
        watcher = Watcher([FileProvider(path)], throttle=throttle)
        latencies = []
        async with watcher.running():
            updates = watcher.subscribe()
            for rep in range(1, reps + 1):
                if not during_pause:
                    await anyio.sleep(throttle + 0.1)  # the previous reload's pause is over
                t0 = time.perf_counter()
                path.write_text(config_text(n, variant=rep), encoding="utf-8")
                runtime: Runtime = await updates.__anext__()
                latencies.append(time.perf_counter() - t0)
                assert runtime.services["s0@file"] is not None
        return statistics.median(latencies)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    for n, reps in ((1_000, 5 if args.quick else 20), (10_000, 3 if args.quick else 7)):
        rows += bench_build(n, reps)
    reps = 2 if args.quick else 5
    for n in (100, 1_000):
        for throttle, pause in ((0.0, False), (2.0, False), (2.0, True)):
            latency = anyio.run(edit_latency, n, throttle, reps, pause)
            when = "right after a reload" if pause else "after the pause"
            rows.append(
                (
                    f"file edit → new runtime, {n} routers, throttle {throttle:g} s, {when}",
                    f"{latency * 1000:.0f} ms",
                )
            )
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    print(
        f"machine: {platform.machine()}, {cpu}; Python {sys.version.split()[0]}; "
        f"{datetime.date.today()}"
    )
    width = max(len(r[0]) for r in rows)
    print(f"| {'measure':<{width}} | figure |")
    print(f"| {'-' * width} | ------ |")
    for name, value in rows:
        print(f"| {name:<{width}} | {value} |")


if __name__ == "__main__":
    main()
