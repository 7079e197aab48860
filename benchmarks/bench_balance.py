"""Pick time of every balancer for 2 to 1 000 children, beside the obvious hand-written peers.

Run: .venv/bin/python benchmarks/bench_balance.py [--quick]

Prints the median time per pick (ns) over many repetitions of a batch of picks, for
routekit.balance and, in the same run, two peers a user might write instead: nginx's smooth
weighted round-robin in plain Python (O(n) per pick) and ``random.choices`` with weights.  Then
measures consistent hashing: share of keys moved when one child leaves, load spread, pick time.
"""

from __future__ import annotations

import platform
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable

from routekit import Request
from routekit.balance import (
    ConsistentHash,
    Failover,
    LeastRequests,
    Mirror,
    PowerOfTwoChoices,
    Random,
    RoundRobin,
    Sticky,
    StickyCookie,
    WeightedRoundRobin,
)

SIZES = (2, 10, 100, 1000)


class NaiveSmoothWRR:
    """nginx's smooth weighted round-robin (ngx_http_upstream_get_peer), written plainly."""

    def __init__(self, weighted: list[tuple[str, int]]) -> None:
        self.names = [n for n, _ in weighted]
        self.weights = [w for _, w in weighted]
        self.current = [0] * len(weighted)
        self.total = sum(self.weights)

    def pick(self) -> str:
        best = -1
        current, weights = self.current, self.weights
        for i in range(len(weights)):
            current[i] += weights[i]
            if best < 0 or current[i] > current[best]:
                best = i
        current[best] -= self.total
        return self.names[best]


def median_ns(fn: Callable[[], object], batch: int, repeats: int) -> float:
    """Median over *repeats* batches of the time of one call, in nanoseconds."""
    for _ in range(batch):  # warm up
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter_ns() - start) / batch)
    return statistics.median(samples)


def weighted(n: int) -> list[tuple[str, int]]:
    rng = random.Random(n)
    return [(f"http://10.0.{i // 250}.{i % 250}:80", rng.randint(1, 5)) for i in range(n)]


def acquire_release(lb: PowerOfTwoChoices | LeastRequests) -> Callable[[], object]:
    # Keep a steady 8 requests in flight so the in-flight counts matter.
    held = [lb.acquire() for _ in range(8)]
    state = {"i": 0}

    def step() -> None:
        i = state["i"] = (state["i"] + 1) % 8
        held[i].release()
        held[i] = lb.acquire()

    return step


def pick_table(quick: bool) -> list[str]:
    batch, repeats = (200, 7) if quick else (2000, 31)
    rows = []
    header = ["balancer", *(f"n={n}" for n in SIZES)]
    cases: dict[str, Callable[[int], Callable[[], object]]] = {
        "WeightedRoundRobin.pick": lambda n: WeightedRoundRobin(weighted(n)).pick,
        "WeightedRoundRobin.pick, weights 0.1-0.5": lambda n: (
            WeightedRoundRobin([(url, w / 10) for url, w in weighted(n)]).pick
        ),
        "peer: naive smooth WRR (nginx, O(n))": lambda n: NaiveSmoothWRR(weighted(n)).pick,
        "RoundRobin.pick": lambda n: RoundRobin([u for u, _ in weighted(n)]).pick,
        "Random.pick": lambda n: Random(weighted(n), rng=random.Random(1)).pick,
        "peer: random.choices(weights)": lambda n: _choices(weighted(n)),
        "PowerOfTwoChoices acquire+release": lambda n: acquire_release(
            PowerOfTwoChoices(weighted(n), rng=random.Random(1))
        ),
        "LeastRequests acquire+release": lambda n: acquire_release(LeastRequests(weighted(n))),
        "WeightedRoundRobin acquire+release": _wrr_lease,
        "Sticky(WRR) acquire+release, returning client": _sticky_lease,
        "Failover(WRR, server).pick": lambda n: (
            Failover(WeightedRoundRobin(weighted(n), name="main"), "http://10.9.9.9:80").pick
        ),
        "Mirror(WRR, 10 % to WRR) acquire+release": _mirror_lease,
        "ConsistentHash ring (client IP)": lambda n: _hash_pick(n, "ring"),
        "ConsistentHash rendezvous (client IP)": lambda n: _hash_pick(n, "rendezvous"),
    }
    figures: dict[str, list[float]] = {}
    for label, make in cases.items():
        figures[label] = []
        for n in SIZES:
            fn = make(n)
            b = batch if n < 1000 or "rendezvous" not in label else max(20, batch // 20)
            figures[label].append(median_ns(fn, b, repeats))
    rows.append("| " + " | ".join(header) + " |")
    rows.append("|" + "---|" * len(header))
    for label, values in figures.items():
        rows.append(f"| {label} | " + " | ".join(f"{v:,.0f}" for v in values) + " |")
    ours, peer = figures["WeightedRoundRobin.pick"], figures["peer: naive smooth WRR (nginx, O(n))"]
    rows.append(
        "| ratio naive smooth WRR / WeightedRoundRobin | "
        + " | ".join(f"{p / o:.2f}×" for o, p in zip(ours, peer, strict=True))
        + " |"
    )
    ours, peer = figures["Random.pick"], figures["peer: random.choices(weights)"]
    rows.append(
        "| ratio random.choices / Random | "
        + " | ".join(f"{p / o:.2f}×" for o, p in zip(ours, peer, strict=True))
        + " |"
    )
    return rows


def _choices(children: list[tuple[str, int]]) -> Callable[[], object]:
    names = [n for n, _ in children]
    weights = [w for _, w in children]
    rng = random.Random(1)
    return lambda: rng.choices(names, weights)[0]


def _wrr_lease(n: int) -> Callable[[], object]:
    lb = WeightedRoundRobin(weighted(n))

    def step() -> None:
        lb.acquire().release()

    return step


def _sticky_lease(n: int) -> Callable[[], object]:
    # Clients that come back with the cookie of their server: the common case of a sticky service.
    lb = Sticky(WeightedRoundRobin(weighted(n), name="svc"), StickyCookie(name="lb"))
    requests = []
    for _ in range(64):
        with lb.acquire(Request()) as lease:
            cookie = lease.set_cookies[0].split(";")[0]
        requests.append(Request(headers={"cookie": cookie}))
    state = {"i": 0}

    def step() -> None:
        state["i"] = (state["i"] + 1) & 63
        lb.acquire(requests[state["i"]]).release()

    return step


def _mirror_lease(n: int) -> Callable[[], object]:
    shadow = WeightedRoundRobin(weighted(n), name="shadow")
    lb = Mirror(WeightedRoundRobin(weighted(n), name="main"), [(shadow, 10)])

    def step() -> None:
        lease = lb.acquire()
        for copy in lease.mirrors:
            copy.release()
        lease.release()

    return step


def _hash_pick(n: int, algorithm: str) -> Callable[[], object]:
    lb = ConsistentHash(weighted(n), algorithm=algorithm)  # type: ignore[arg-type]
    requests = [Request(client_ip=f"198.51.{i // 256}.{i % 256}") for i in range(512)]
    state = {"i": 0}

    def step() -> object:
        state["i"] = (state["i"] + 1) & 511
        return lb.pick(requests[state["i"]])

    return step


def hashing_table(quick: bool) -> list[str]:
    keys = [f"203.0.{i // 256}.{i % 256}" for i in range(5000 if quick else 20000)]
    rows = [
        "| algorithm | n | keys moved when 1 leaves (ideal 1/n) | max load / mean | build (ms) |",
        "|---|---|---|---|---|",
    ]
    for algorithm in ("ring", "rendezvous"):
        for n in (10, 100):
            servers = [f"http://10.2.0.{i}:80" for i in range(n)]
            start = time.perf_counter()
            lb = ConsistentHash(servers, algorithm=algorithm)
            lb.child_for("warm")
            build_ms = (time.perf_counter() - start) * 1000
            before = [lb.child_for(k) for k in keys]
            load = Counter(before)
            moved_total = 0.0
            leavers = servers[:: max(1, n // 5)][:5]
            for leaving in leavers:
                lb.remove(leaving)
                after = [lb.child_for(k) for k in keys]
                moved_total += sum(a != b for a, b in zip(before, after, strict=True)) / len(keys)
                lb.add(leaving)
            moved = moved_total / len(leavers)
            spread = max(load.values()) / (len(keys) / n)
            rows.append(
                f"| {algorithm} | {n} | {moved:.4f} ({1 / n:.4f}) | {spread:.2f} | {build_ms:.1f} |"
            )
    return rows


def main() -> None:
    quick = "--quick" in sys.argv
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    print(f"machine: {platform.machine()}, CPU: {cpu}")
    print(f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}")
    print()
    print("Median time per pick, ns (weights 1-5 at random; lower is better)")
    print()
    print("\n".join(pick_table(quick)))
    print()
    print("Consistent hashing: disruption and spread (160 points per unit of weight on the ring)")
    print()
    print("\n".join(hashing_table(quick)))


if __name__ == "__main__":
    main()
