"""The Docker provider: what a 1 000-container snapshot costs, and how fast a change is served.

Run: ``.venv/bin/python benchmarks/bench_docker.py [--quick] [--no-engine]`` (as root for the
engine part: it starts its own ``dockerd``, as the tests do).

- snapshot: N Engine API inspect answers (the JSON text, as the socket gives it) → parsed,
  checked (`docker_container`), labels decoded (`labels_to_config`) and a routing `Runtime`
  built — everything the provider and the watcher do for a full re-list, without the I/O.
  Beside it, ``json.loads`` of the same answers: the floor any Python client pays.
- change: on a real engine, a `DockerProvider` followed by a `Watcher` (``throttle=0``); the
  time from calling ``docker run`` to the runtime routing the new container, and from
  calling ``docker stop`` to it being gone.  The engine's own part (the CLI's run/stop) is
  printed beside it.  Traefik's equivalent runs inside its Go process: there is no in-process
  peer for these figures.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
import anyio.to_thread

from routekit.config import docker_container, labels_to_config
from routekit.providers import DockerProvider
from routekit.request import Request
from routekit.rules import clear_rule_cache
from routekit.runtime import Runtime, Watcher, build

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def inspect_json(n: int) -> list[bytes]:
    """N inspect answers like Docker 20.10's, each with v2 labels and its own address."""
    out = []
    for i in range(n):
        data = {
            "Id": f"{i:064x}",
            "Name": f"/app-{i}",
            "State": {"Status": "running", "Running": True, "Pid": 1000 + i},
            "HostConfig": {"NetworkMode": "bridge", "PortBindings": {}},
            "Config": {
                "Image": "whoami",
                "Labels": {
                    f"traefik.http.routers.app-{i}.rule": f"Host(`app-{i}.example.com`)",
                    f"traefik.http.services.app-{i}.loadbalancer.server.port": "80",
                    "com.example.team": f"team-{i % 10}",
                },
                "ExposedPorts": {"80/tcp": {}},
            },
            "NetworkSettings": {
                "Networks": {
                    "bridge": {"IPAddress": f"10.{i // 65536}.{i // 256 % 256}.{i % 256}"}
                },
                "Ports": {"80/tcp": None},
            },
        }
        out.append(json.dumps(data).encode())
    return out


def snapshot_cost(n: int, reps: int) -> tuple[float, float, float]:
    """Medians: a first snapshot (nothing parsed before), a re-list, and the json.loads floor."""
    answers = inspect_json(n)

    def full() -> Runtime:
        containers = [docker_container(json.loads(a)).info for a in answers]
        config, problems = labels_to_config(containers)
        assert not problems, problems[:3]
        return build(config)

    def floor() -> object:
        return [json.loads(a) for a in answers]

    runtime = full()
    assert runtime.route(Request(host=f"app-{n - 1}.example.com", path="/")) is not None
    cold, warm, peer = [], [], []
    for _ in range(reps):
        clear_rule_cache()
        t = time.perf_counter()
        full()
        cold.append(time.perf_counter() - t)
        t = time.perf_counter()
        full()
        warm.append(time.perf_counter() - t)
        t = time.perf_counter()
        floor()
        peer.append(time.perf_counter() - t)
    return statistics.median(cold), statistics.median(warm), statistics.median(peer)


async def change_latency(reps: int) -> tuple[list[float], list[float], list[float], list[float]]:
    from _dockerd import dockerd  # the tests' engine: private socket, busybox image

    seen: dict[str, float] = {}  # name → when the runtime first routed it
    gone: dict[str, float] = {}  # name → when it first stopped routing it, after being seen

    def note(runtime: Runtime) -> None:
        now = time.perf_counter()
        for i in range(reps):
            name = f"bench{i}"
            routed = runtime.route(Request(host=f"{name}.test", path="/")) is not None
            if routed:
                seen.setdefault(name, now)
            elif name in seen:
                gone.setdefault(name, now)

    async def monitor(watcher: Watcher) -> None:
        # Every publication is timestamped as it happens, so none is missed between a CLI
        # call returning and the benchmark starting to look.
        async for runtime in watcher.subscribe():
            note(runtime)

    async def until(table: dict[str, float], name: str) -> float:
        with anyio.fail_after(30):
            while name not in table:
                await anyio.sleep(0.0005)
        return table[name]

    appear, leave, run_cli, stop_cli = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="rk-bench-") as root, dockerd(Path(root)) as engine:
        watcher = Watcher([DockerProvider(engine.endpoint)], throttle=0)
        async with watcher.running(), anyio.create_task_group() as tg:
            tg.start_soon(monitor, watcher)
            for i in range(reps):
                name = f"bench{i}"
                labels = {
                    f"traefik.http.routers.{name}.rule": f"Host(`{name}.test`)",
                    f"traefik.http.services.{name}.loadbalancer.server.port": "80",
                }
                t = time.perf_counter()
                await anyio.to_thread.run_sync(lambda: engine.run(name, labels))  # noqa: B023
                t_run = time.perf_counter()
                # From the CLI's call: the engine starts the container before the CLI returns,
                # and the event may be served before then too.
                appear.append(await until(seen, name) - t)
                run_cli.append(t_run - t)
                t = time.perf_counter()
                await anyio.to_thread.run_sync(engine.cli, "stop", "-t", "1", name)
                stop_cli.append(time.perf_counter() - t)
                leave.append(await until(gone, name) - t)
            tg.cancel_scope.cancel()
    return appear, leave, run_cli, stop_cli


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-engine", action="store_true", help="skip the real-engine part")
    args = parser.parse_args()
    reps = 3 if args.quick else 7
    print(f"# bench_docker — {platform.node()}, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, {datetime.date.today()}")  # fmt: skip
    print("\n| containers | JSON → Runtime, first | re-list | json.loads alone (floor) | ratio |")
    print("|---:|---:|---:|---:|---:|")
    for n in (100, 1000) if args.quick else (100, 1000, 5000):
        cold, warm, floor = snapshot_cost(n, reps)
        print(f"| {n} | {ms(cold)} | {ms(warm)} | {ms(floor)} | {cold / floor:.1f}× |")
    if args.no_engine:
        return
    appear, leave, run_cli, stop_cli = anyio.run(change_latency, 5 if args.quick else 15)
    print("\n| change (real dockerd, throttle 0) | median | max | engine's own (CLI) median |")
    print("|---|---:|---:|---:|")
    print(f"| `docker run` called → routed | {ms(statistics.median(appear))} | {ms(max(appear))} | "
          f"{ms(statistics.median(run_cli))} |")  # fmt: skip
    print(f"| `docker stop` called → gone | {ms(statistics.median(leave))} | {ms(max(leave))} | "
          f"{ms(statistics.median(stop_cli))} |")  # fmt: skip


if __name__ == "__main__":
    main()
