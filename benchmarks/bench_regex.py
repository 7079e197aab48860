"""Hostile regexps from labels: time per search, routekit's engines against plain ``re``.

    python benchmarks/bench_regex.py

For each pattern and text length it prints the median time of one search with routekit's RE2
engine, routekit's ``re`` fallback (which refuses exponential patterns and bounds the text for
patterns that can repeat without end), and the peer a user would write: ``re.search`` on the
same pattern.  The peer is only run on lengths where it finishes within a few seconds.
"""

from __future__ import annotations

import platform
import re
import statistics
import time
from collections.abc import Callable

from routekit.rules._regex import RegexError, compile_regexp

# (name, pattern, text of length n, lengths, longest length plain `re` is run on: beyond it,
# it would take minutes or more).
#: (name, pattern, subject of length n, lengths, the longest length plain `re` is timed on)
CASES: list[tuple[str, str, Callable[[int], str], tuple[int, ...], int]] = [
    ("exponential", r"^(a+)+$", lambda n: "a" * n + "!", (20, 24, 10_000, 100_000), 24),
    ("quadratic", r"(a\s*)*b", lambda n: "a" * n, (1_000, 2_000, 8_000, 32_000), 8_000),
    (
        "host labels",
        r"([a-z0-9-]+\.)*example\.com",
        lambda n: "a." * (n // 2),
        (2_000, 8_000),
        8_000,
    ),
    (
        "benign",
        r"^/api/v[0-9]+/users/[0-9]+$",
        lambda n: "/api/v1/users/" + "1" * n,
        (100, 10_000),
        10_000,
    ),
]


def median_time(search: Callable[[str], object], text: str, repeat: int = 5) -> float:
    """Median seconds of one call of *search* on *text*."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        search(text)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def fmt(seconds: float | None) -> str:
    """Seconds as a readable duration, or a dash."""
    if seconds is None:
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main() -> None:
    """Print the table."""
    print(f"# regex benchmark — {platform.machine()}, Python {platform.python_version()}")
    print(f"{'case':<12} {'length':>8} {'re2':>10} {'fallback':>22} {'plain re':>12}")
    for name, pattern, make, lengths, peer_max in CASES:
        re2 = compile_regexp(pattern, engine="re2")
        try:
            fallback: Callable[[str], object] | None = compile_regexp(pattern, engine="re").search
        except RegexError:
            fallback = None
        peer = re.compile(pattern).search
        for n in lengths:
            text = make(n)
            t_re2 = median_time(re2.search, text)
            t_fb = fmt(median_time(fallback, text)) if fallback else "refused"
            t_peer = median_time(peer, text, repeat=1) if n <= peer_max else None
            print(f"{name:<12} {n:>8} {fmt(t_re2):>10} {t_fb:>22} {fmt(t_peer):>12}")


if __name__ == "__main__":
    main()
