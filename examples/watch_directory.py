"""Follow a directory of Traefik dynamic TOML files and print the route table on every change.

    python examples/watch_directory.py conf/ [--seconds 30] [--throttle 2]

Edit, add or delete ``*.toml`` files under the directory while it runs: each change that yields
a new routing runtime is printed (routers in priority order, with their services), and broken
files are reported with ``file:line:column`` while the last good version keeps serving.
"""

from __future__ import annotations

import argparse
import contextlib
import math
from pathlib import Path

import anyio

from routekit.providers import FileProvider
from routekit.runtime import Runtime, Watcher


def describe(runtime: Runtime, problems: list[str]) -> str:
    """The route table of every entry point, then the problems, as printable text."""
    lines = []
    for entry_point, table in sorted(runtime.tables.items()):
        lines.append(f"[{entry_point}] {len(table)} router(s)")
        for route in table.routes:
            service = getattr(route.target, "service_name", route.target)
            lines.append(f"  {route.priority:>5}  {route.name:<24} -> {service:<20} {route.rule}")
    lines.extend(f"  ! {problem}" for problem in problems)
    return "\n".join(lines)


async def follow(directory: Path, seconds: float, throttle: float) -> None:
    """Print the routing runtime each time the watcher publishes one, for *seconds*."""
    watcher = Watcher([FileProvider(directory, poll_interval=0.2)], throttle=throttle)
    with anyio.move_on_after(seconds):
        async with watcher.running():
            updates = watcher.subscribe()
            runtime = watcher.runtime
            while True:
                problems = [str(p) for ps in watcher.problems.values() for p in ps]
                print(describe(runtime, problems), flush=True)
                print("--", flush=True)
                runtime = await anext(updates)


def main() -> None:
    """Parse the arguments and follow the directory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--seconds", type=float, default=math.inf, help="stop after this long")
    parser.add_argument("--throttle", type=float, default=2.0, help="providersThrottleDuration")
    args = parser.parse_args()
    args.directory.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(follow, args.directory, args.seconds, args.throttle)


if __name__ == "__main__":
    main()
