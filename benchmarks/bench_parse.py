"""Rule parsing throughput: rules per second for each syntax over a realistic corpus.

Run: ``.venv/bin/python benchmarks/bench_parse.py [--rules N] [--repeat R] [--write]``.

Every repetition parses a fresh corpus (the rule texts carry a running number), so regexp and
template caches do not flatter the figures: this is what a configuration reload with new rules
costs.  The figure is the median over the repetitions, from ``time.perf_counter_ns``.
No peer: no other Python library parses Traefik rules.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from routekit.rules import clear_rule_cache, parse_rule, translate

Corpus = Callable[[int], str]

# (case, syntax, text of rule number i)
CASES: list[tuple[str, str, Corpus]] = [
    ("simple Host", "v1", lambda i: f"Host:svc{i}.example.com"),
    ("simple Host", "v2", lambda i: f"Host(`svc{i}.example.com`)"),
    ("simple Host", "v3", lambda i: f"Host(`svc{i}.example.com`)"),
    ("Host + PathPrefix", "v1", lambda i: f"Host:svc{i}.example.com;PathPrefix:/api/v{i}"),
    (
        "Host + PathPrefix",
        "v2",
        lambda i: f"Host(`svc{i}.example.com`) && PathPrefix(`/api/v{i}`)",
    ),
    (
        "Host + PathPrefix",
        "v3",
        lambda i: f"Host(`svc{i}.example.com`) && PathPrefix(`/api/v{i}`)",
    ),
    (
        "big expression, regexps",
        "v2",
        lambda i: (
            f"(Host(`a{i}.example.com`, `b{i}.example.com`)"
            f" || HostRegexp(`{{sub:[a-z]+}}.t{i}.io`))"
            f" && (Path(`/v{i}/users/{{id:[0-9]+}}`) || PathPrefix(`/static{i}`))"
            " && !Method(`DELETE`, `PUT`) && Headers(`X-Env`, `prod`)"
            f" && HeadersRegexp(`User-Agent`, `^curl/[0-9.]+{i}`) && Query(`page={i}`)"
        ),
    ),
    (
        "big expression, regexps",
        "v3",
        lambda i: (
            f"(Host(`a{i}.example.com`) || Host(`b{i}.example.com`)"
            f" || HostRegexp(`^[a-z]+\\.t{i}\\.io$`))"
            f" && (PathRegexp(`^/v{i}/users/[0-9]+$`) || PathPrefix(`/static{i}`))"
            " && !Method(`DELETE`) && !Method(`PUT`) && Header(`X-Env`, `prod`)"
            f" && HeaderRegexp(`User-Agent`, `^curl/[0-9.]+{i}`) && Query(`page`, `{i}`)"
            " && ClientIP(`10.0.0.0/8`)"
        ),
    ),
    (
        "v1 with modifiers",
        "v1",
        lambda i: (
            f"Host:svc{i}.example.com,www.svc{i}.example.com;Method:GET,POST;"
            f"PathPrefixStrip:/api/v{i},/api;AddPrefix:/internal;"
            f"ReplacePathRegex:^/internal/(.*) /svc{i}/$1"
        ),
    ),
]


def _measure(parse: Callable[[str], object], make: Corpus, n: int, repeat: int) -> float:
    """Median rules per second over *repeat* passes of *n* fresh rules."""
    rates = []
    for rep in range(repeat):
        texts = [make(rep * n + i) for i in range(n)]
        clear_rule_cache()  # a parse, not a cache lookup (translate would hit the parse pass's)
        start = time.perf_counter_ns()
        for text in texts:
            parse(text)
        elapsed = time.perf_counter_ns() - start
        rates.append(n / (elapsed / 1e9))
    return statistics.median(rates)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    """Run every case and print (optionally write) the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=400, help="rules per pass")
    parser.add_argument("--repeat", type=int, default=15, help="passes per case")
    parser.add_argument("--write", action="store_true", help="write benchmarks/results/parse.md")
    args = parser.parse_args()

    rows: list[tuple[str, str, str, float]] = []
    for case, syntax, make in CASES:
        sample = make(0)
        rate = _measure(
            lambda t, s=syntax: parse_rule(t, syntax=s),  # type: ignore[misc]
            make,
            args.rules,
            args.repeat,
        )
        rows.append((case, f"parse {syntax}", f"{len(sample.encode())} B", rate))
        if syntax in ("v1", "v2"):
            rate = _measure(
                lambda t, s=syntax: translate(t, syntax=s),  # type: ignore[misc]
                make,
                args.rules,
                args.repeat,
            )
            rows.append((case, f"translate {syntax} → v3", f"{len(sample.encode())} B", rate))

    header = "| case | operation | rule size | rules/s (median) |\n| --- | --- | ---: | ---: |"
    lines = [header, *(f"| {c} | {op} | {size} | {rate:,.0f} |" for c, op, size, rate in rows)]
    from routekit.rules._regex import DEFAULT_ENGINE

    env = (
        f"machine: {platform.machine()}, CPU: {_cpu_model()}, Python {platform.python_version()}, "
        f"regex engine: {DEFAULT_ENGINE}, {datetime.date.today().isoformat()}; "
        f"{args.rules} fresh rules per pass, median of {args.repeat} passes; "
        "translate figures include parsing the text; "
        f"load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
        "(other work on the machine skews the figures)"
    )
    peer = "No peer: no other Python library parses Traefik rules, so there is no ratio column."
    table = "\n".join(lines)
    print(table)
    print()
    print(env)
    print(peer)
    if args.write:
        out = Path(__file__).resolve().parent / "results" / "parse.md"
        out.parent.mkdir(exist_ok=True)
        out.write_text(
            "# Rule parsing throughput\n\n"
            "`.venv/bin/python benchmarks/bench_parse.py --write`\n\n"
            f"{table}\n\n{env}.\n\n{peer}\n",
            encoding="utf-8",
        )
        print(f"written to {out}")


if __name__ == "__main__":
    main()
