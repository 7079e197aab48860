"""How long a reload stalls the event loop: a one-router change at 10 000 routers.

Run: ``.venv/bin/python benchmarks/bench_reload.py [--quick]``

- full rebuild: ``build`` of the whole (qualified) configuration from nothing, and the
  synchronous work of one reload (validate, qualify, merge, ``build(previous=)``), which is how
  long the loop would stall if the watcher did it all on the loop.
- loop block during a reload: a `Watcher` (``throttle=0``) over a `StaticProvider` of N routers;
  a ticker task sleeps 1 ms at a time and records how late it wakes.  The figure is the largest
  lateness seen between the update and the new runtime's publication (median over the
  repetitions), beside the same ticker's largest lateness while idle, and the time from the
  update to the publication.

The watcher does the work on a worker thread, so the loop still shares the interpreter lock
with it: the block is bounded by the lock's switch interval (``sys.getswitchinterval()``, 5 ms)
plus the loop's own part of the swap.  No peer: Traefik's equivalent runs inside its Go process.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import anyio

from routekit.config import Configuration, loads_dynamic, validate
from routekit.providers import StaticProvider
from routekit.rules import clear_rule_cache
from routekit.runtime import Runtime, Watcher, build
from routekit.runtime._qualify import merge_qualified, qualify

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_build import config_text


def make_config(n: int, variant: int = 0) -> Configuration:
    """N routers and services; a non-zero *variant* gives router r0 another host."""
    text = config_text(n)
    if variant:
        text = text.replace("Host(`h0.example.com`)", f"Host(`v{variant}.example.com`)")
    config, problems = loads_dynamic(text, source="bench.toml")
    assert not problems, problems[:3]
    return config


def seconds(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def full_rebuild(n: int) -> tuple[float, float]:
    base, changed = make_config(n), make_config(n, variant=1)
    qualified = merge_qualified([qualify(base, "static")[0]])
    first = build(qualified)

    def one_reload() -> Runtime:
        checked = validate(changed)
        merged = merge_qualified([qualify(checked.config, "static")[0]])
        return build(merged, previous=first)

    clear_rule_cache()  # the cold figure parses every rule, as a first build does
    cold = seconds(lambda: build(qualified))
    return cold, seconds(one_reload)


class Ticker:
    """Sleeps 1 ms at a time and keeps the largest lateness of each window."""

    def __init__(self) -> None:
        self.worst = 0.0

    async def run(self) -> None:
        while True:
            t0 = time.perf_counter()
            await anyio.sleep(0.001)
            self.worst = max(self.worst, time.perf_counter() - t0 - 0.001)


async def loop_block(n: int, reps: int) -> tuple[float, float, float]:
    # Each configuration is made just before it is offered, as a provider does: the heap holds
    # what a gateway holds (the current and the new configuration, the runtime), which is what
    # a full garbage collection, stopping every thread, has to walk.
    provider = StaticProvider(make_config(n))
    watcher = Watcher([provider], throttle=0)
    ticker = Ticker()
    blocks, idles, latencies = [], [], []
    async with watcher.running(), anyio.create_task_group() as tg:
        tg.start_soon(ticker.run)
        updates = watcher.subscribe()
        for rep in range(1, reps + 1):
            config = make_config(n, variant=rep)
            await anyio.sleep(0.05)  # the ticker's late wake from making it is not counted
            ticker.worst = 0.0
            await anyio.sleep(0.3)
            idles.append(ticker.worst)
            ticker.worst = 0.0
            t0 = time.perf_counter()
            provider.update(config)
            del config
            runtime = await updates.__anext__()
            latencies.append(time.perf_counter() - t0)
            await anyio.sleep(0.005)  # the swap itself, just before the ticker's next wake
            blocks.append(ticker.worst)
            assert len(runtime.tables["web"]) == n
        tg.cancel_scope.cancel()
    return statistics.median(blocks), statistics.median(idles), statistics.median(latencies)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    reps = 2 if args.quick else 5
    rows: list[tuple[str, str]] = []
    for n in (1_000, 10_000):
        cold, sync = full_rebuild(n)
        block, idle, latency = anyio.run(loop_block, n, reps)
        rows += [
            (f"full rebuild (build cold), {n} routers", f"{cold * 1000:.0f} ms"),
            (
                f"one reload done on the loop (validate+merge+build), {n} routers",
                f"{sync * 1000:.0f} ms",
            ),
            (f"max loop block during a one-router reload, {n} routers", f"{block * 1000:.1f} ms"),
            (f"max loop block while idle (same ticker), {n} routers", f"{idle * 1000:.1f} ms"),
            (f"update → new runtime published, {n} routers", f"{latency * 1000:.0f} ms"),
        ]
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
