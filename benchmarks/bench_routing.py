"""RouteTable.match against a naive linear scan, Starlette's Router and werkzeug's Map.

Run: ``.venv/bin/python benchmarks/bench_routing.py [--quick]``

Three table shapes at 10, 100, 1 000 and 10 000 routes:

- ``hosts``: one route per host, ``Host(`hN.example.com`)``;
- ``host+prefix``: four path prefixes per host, ``Host(`hN.example.com`) && PathPrefix(`/api`)``;
- ``mixed``: host+prefix with 5 % regex rules — half ``Host(…) && PathRegexp(…)`` (indexed by
  host, the regexp checked), half ``HostRegexp(…)`` (not indexable; routekit runs them once per
  distinct host and remembers the result, so the repeated hosts of the mix hit that cache).

Each implementation does the same job from the same (host, path) pairs: build its request object
(routekit ``Request``, an ASGI scope for Starlette, ``Map.bind`` for werkzeug) and find the
endpoint.  The request mix hits routes spread over the whole table, 10 % of requests match
nothing.  A figure is the median over repetitions of (time for the mix / requests in the mix).
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from starlette.routing import Host, Mount, Route, Router
from werkzeug.exceptions import NotFound
from werkzeug.routing import Map
from werkzeug.routing import Rule as WRule

from routekit.request import Request
from routekit.routing import Route as RkRoute
from routekit.routing import RouteTable

PREFIXES = ("/api/v2", "/api", "/static", "/assets/img")
REGEX_PATH = "^/v[0-9]+/items/[0-9]+$"

# A route spec: (name, host or None, host regexp stem or None, path kind, path value).
Spec = tuple[str, str | None, str | None, str, str]


def make_specs(shape: str, n: int) -> list[Spec]:
    """The routes of a table shape, described once and built for every implementation."""
    specs: list[Spec] = []
    for i in range(n):
        if shape == "hosts":
            specs.append((f"r{i}", f"h{i}.example.com", None, "any", ""))
            continue
        host = f"h{i // len(PREFIXES)}.example.com"
        prefix = PREFIXES[i % len(PREFIXES)]
        if shape == "mixed" and i % 40 == 7:
            specs.append((f"r{i}", host, None, "regex", REGEX_PATH))
        elif shape == "mixed" and i % 40 == 27:
            specs.append((f"r{i}", None, f"x{i}", "any", ""))
        else:
            specs.append((f"r{i}", host, None, "prefix", prefix))
    return specs


def make_requests(specs: Sequence[Spec], count: int, seed: int = 7) -> list[tuple[str, str]]:
    """(host, path) pairs: 90 % hit a random route, 10 % miss (unknown host or path)."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    for _ in range(count):
        if rng.random() < 0.1:
            if rng.random() < 0.5:
                out.append((f"unknown{rng.randrange(10**6)}.example.org", "/api/x"))
            else:
                _, host, _, _, _ = rng.choice(specs)
                out.append((host or "h0.example.com", "/nothing/here"))
            continue
        _, host, stem, kind, value = rng.choice(specs)
        if stem is not None:
            host = f"{stem}-abc.regex.example.com"
        assert host is not None
        if kind == "regex":
            path = f"/v{rng.randrange(1, 4)}/items/{rng.randrange(1000)}"
        elif kind == "prefix":
            path = f"{value}/item/{rng.randrange(1000)}"
        else:
            path = f"/page/{rng.randrange(1000)}"
        out.append((host, path))
    return out


# -- routekit --------------------------------------------------------------------------------------


def rule_text(spec: Spec) -> str:
    _, host, stem, kind, value = spec
    if stem is not None:
        return rf"HostRegexp(`^{stem}-[a-z]+\.regex\.example\.com$`)"
    parts = [f"Host(`{host}`)"]
    if kind == "prefix":
        parts.append(f"PathPrefix(`{value}`)")
    elif kind == "regex":
        parts.append(f"PathRegexp(`{value}`)")
    return " && ".join(parts)


def build_routekit(specs: Sequence[Spec]) -> RouteTable:
    return RouteTable(RkRoute(spec[0], rule_text(spec), target=spec[0]) for spec in specs)


def routekit_matcher(specs: Sequence[Spec]) -> Callable[[str, str], object]:
    table = build_routekit(specs)
    match = table.match

    def run(host: str, path: str) -> object:
        m = match(Request(method="GET", host=host, path=path))
        return None if m is None else m.route.target

    return run


def linear_matcher(specs: Sequence[Spec]) -> Callable[[str, str], object]:
    routes = build_routekit(specs).routes
    pairs = [(r.rule.matches, r.target) for r in routes]

    def run(host: str, path: str) -> object:
        request = Request(method="GET", host=host, path=path)
        for matches, target in pairs:
            if matches(request):
                return target
        return None

    return run


# -- Starlette -------------------------------------------------------------------------------------


class _Endpoint:
    """An ASGI app that records which route took the request (a class: Starlette would wrap a
    plain function as a request/response endpoint)."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        scope["bench.hit"] = self.name


def _endpoint(name: str) -> Any:
    return _Endpoint(name)


async def _receive() -> Any:
    return {"type": "http.request"}


async def _send(message: Any) -> None:
    return None


def starlette_matcher(specs: Sequence[Spec]) -> Callable[[str, str], object]:
    # Starlette tries routes in list order: hosts in routekit's priority order, each host's
    # mounts longest prefix first (what the priorities give).  A Mount matches whole segments
    # (`/api` does not match `/apiary`), close enough for the requests used here.
    by_host: dict[str, list[Any]] = {}
    order = [r.name for r in build_routekit(specs).routes]
    spec_of = {s[0]: s for s in specs}
    host_routes: list[Any] = []
    for name in order:
        _, host, stem, kind, value = spec_of[name]
        if stem is not None:
            host_routes.append(Host(f"{stem}-{{sub}}.regex.example.com", app=_endpoint(name)))
            continue
        assert host is not None
        if kind == "any":
            host_routes.append(Host(host, app=_endpoint(name)))
            continue
        if host not in by_host:
            by_host[host] = []
            host_routes.append(Host(host, app=Router(routes=by_host[host])))
        if kind == "prefix":
            by_host[host].append(Mount(value, app=_endpoint(name)))
        else:
            by_host[host].append(Route("/v{n:int}/items/{id:int}", endpoint=_endpoint(name)))
    router = Router(routes=host_routes)

    def run(host: str, path: str) -> object:
        scope: dict[str, Any] = {
            "type": "http",
            "method": "GET",
            "path": path,
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", host.encode())],
        }
        coro = router(scope, _receive, _send)
        with contextlib.suppress(StopIteration):
            coro.send(None)
        return scope.get("bench.hit")

    return run


# -- werkzeug --------------------------------------------------------------------------------------


def werkzeug_matcher(specs: Sequence[Spec]) -> Callable[[str, str], object]:
    rules: list[WRule] = []
    for name, host, stem, kind, value in specs:
        if stem is not None:
            h = f"{stem}-<sub>.regex.example.com"
            rules += [
                WRule("/<path:rest>", host=h, endpoint=name),
                WRule("/", host=h, endpoint=name),
            ]
        elif kind == "prefix":
            rules += [
                WRule(f"{value}/<path:rest>", host=host, endpoint=name),
                WRule(value, host=host, endpoint=name),
            ]
        elif kind == "regex":
            rules.append(WRule("/v<int:n>/items/<int:id>", host=host, endpoint=name))
        else:
            rules += [
                WRule("/<path:rest>", host=host, endpoint=name),
                WRule("/", host=host, endpoint=name),
            ]
    url_map = Map(rules, host_matching=True)

    def run(host: str, path: str) -> object:
        try:
            endpoint, _ = url_map.bind(host, path_info=path).match(path)
        except NotFound:
            return None
        return endpoint

    return run


# -- harness ---------------------------------------------------------------------------------------

IMPLS: dict[str, Callable[[Sequence[Spec]], Callable[[str, str], object]]] = {
    "routekit": routekit_matcher,
    "linear": linear_matcher,
    "starlette": starlette_matcher,
    "werkzeug": werkzeug_matcher,
}


def measure(
    run: Callable[[str, str], object], requests: Sequence[tuple[str, str]], budget: float
) -> float:
    """Median µs per request over repetitions of the whole mix, within about *budget* seconds."""
    t0 = time.perf_counter_ns()
    for host, path in requests:
        run(host, path)
    once = (time.perf_counter_ns() - t0) / 1e9
    reps = max(3, min(200, int(budget / max(once, 1e-9))))
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        for host, path in requests:
            run(host, path)
        samples.append((time.perf_counter_ns() - t0) / len(requests))
    return statistics.median(samples) / 1000


def check_agreement(specs: Sequence[Spec], requests: Sequence[tuple[str, str]]) -> None:
    """routekit and the linear scan must agree on every request of the mix."""
    fast, slow = routekit_matcher(specs), linear_matcher(specs)
    for host, path in requests:
        if fast(host, path) != slow(host, path):
            raise SystemExit(f"routekit and the linear scan disagree on {host}{path}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller budget, fewer sizes")
    parser.add_argument("--sizes", default="10,100,1000,10000")
    parser.add_argument("--shapes", default="hosts,host+prefix,mixed")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    budget = 0.3 if args.quick else 1.5
    print(f"# routing benchmark — {platform.machine()}, Python {platform.python_version()}")
    print("# µs per match (median), request building included; ratio = peer / routekit")
    header = f"{'shape':<12} {'routes':>6} " + " ".join(f"{n:>10}" for n in IMPLS)
    header += f" {'lin/rk':>7} {'star/rk':>8} {'wz/rk':>6}"
    print(header)
    for shape in args.shapes.split(","):
        for n in sizes:
            specs = make_specs(shape, n)
            mix = make_requests(specs, 1000)
            check_agreement(specs, mix)
            figures: dict[str, float] = {}
            for impl, build in IMPLS.items():
                run = build(specs)
                # Slow peers get a smaller slice of the (shuffled, so representative) mix.
                slice_ = mix if impl in ("routekit", "werkzeug") or n <= 100 else mix[:200]
                figures[impl] = measure(run, slice_, budget)
            rk = figures["routekit"]
            row = f"{shape:<12} {n:>6} " + " ".join(f"{figures[i]:>10.2f}" for i in IMPLS)
            row += f" {figures['linear'] / rk:>7.1f} {figures['starlette'] / rk:>8.1f}"
            row += f" {figures['werkzeug'] / rk:>6.1f}"
            print(row, flush=True)


if __name__ == "__main__":
    sys.setrecursionlimit(10000)
    main()
