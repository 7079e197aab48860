"""Reverse proxies under wrk: routekit against aiohttp, uvicorn + httpx and nginx, same run.

Run: ``.venv/bin/python benchmarks/proxy/bench_proxy.py [--duration 10] [--only NAMES]``
(needs Debian's ``wrk`` and ``nginx``, and the ``bench`` extra: aiohttp, uvicorn, httpx, uvloop).

The backend is nginx answering a 13-byte body from one worker.  Each proxy runs as one process
pinned to core 0 (``taskset``); wrk and the backend share core 1, so the proxy has a core of
its own.  ``routekit`` runs on `routekit serve`'s default loop (uvloop, installed with the
``bench`` extra), ``routekit asyncio`` on asyncio's own; ``aiohttp`` on asyncio's (its
default), ``aiohttp uvloop`` on uvloop; uvicorn takes uvloop, its default when installed.
Each proxy is compared with its peer on the same loop.  ``routekit x2`` is ``routekit serve
--workers 2`` on both cores (wrk and the backend then compete with it, which the figure
includes).  For each proxy: a warm-up, then wrk at
``--connections`` connections for ``--duration`` seconds; req/s, latency p50 and p99 from wrk,
and the proxy's CPU time per request from ``/proc/<pid>/stat`` (its process tree).  Then the
memory of routekit per idle keep-alive connection: RSS growth over 10 000 connections that each
made one request and stay open.  ``--chain-rounds N`` measures the middleware chain's own cost
in N turns of routekit without and with it, both sent the chain's request.  ``--ab-rounds N``
measures routekit's fast path against h11 alone (``ROUTEKIT_FAST_PATH=0``), then routekit
against aiohttp on each loop, the same way (each pair side by side, in turns), and
``routekit h11`` in ``--only`` is routekit with h11 alone in the same table.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PY = sys.executable
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_ready(port: int, host: str = "app.test", timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    request = f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(request)
                # 401: up, behind the chain's basicAuth (wrk sends its credentials).
                if s.recv(64).startswith((b"HTTP/1.1 200", b"HTTP/1.1 401")):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"nothing answers 200 on port {port}")


def tree(pid: int) -> list[int]:
    """*pid* and its descendants."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    out, todo = [pid], [pid]
    while todo:
        current = todo.pop()
        kids = [p for p, parent in parents.items() if parent == current]
        out += kids
        todo += kids
    return out


def cpu_seconds(pid: int) -> float:
    total = 0
    for p in tree(pid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def rss_bytes(pid: int) -> int:
    total = 0
    for p in tree(pid):
        with contextlib.suppress(OSError):
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * PAGE
    return total


@contextlib.contextmanager
def running(command: list[str], port: int, cores: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        ["taskset", "-c", cores, *command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_ready(port)
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


def nginx_conf(folder: Path, port: int, backend: int | None) -> list[str]:
    """An nginx command: the backend (``backend`` None) or a proxy to it."""
    body = (
        'location / { return 200 "hello, world\\n"; }'
        if backend is None
        else "location / { proxy_pass http://up; proxy_http_version 1.1; "
        'proxy_set_header Connection ""; }'
    )
    upstream = (
        "" if backend is None else f"upstream up {{ server 127.0.0.1:{backend}; keepalive 64; }}"
    )
    conf = folder / f"nginx-{port}.conf"
    conf.write_text(f"""
worker_processes 1;
pid {folder}/nginx-{port}.pid;
error_log /dev/null crit;
events {{ worker_connections 20000; }}
http {{
  access_log off;
  keepalive_requests 1000000;
  {upstream}
  server {{ listen 127.0.0.1:{port}; {body} }}
}}
""")
    return ["nginx", "-p", str(folder), "-c", str(conf), "-g", "daemon off;"]


# The typical chain of the middlewares issue: stripPrefix + headers + rateLimit + basicAuth
# (bcrypt, checked once and then remembered).  The limit is far above the load: it is counted,
# never hit.  The password of "bench" is "bench".
CHAIN = """
middlewares = ["strip", "headers", "limit", "auth"]
[http.middlewares.strip.stripPrefix]
prefixes = ["/api"]
[http.middlewares.headers.headers]
frameDeny = true
contentTypeNosniff = true
[http.middlewares.headers.headers.customRequestHeaders]
X-Gateway = "routekit"
[http.middlewares.limit.rateLimit]
average = 10000000
burst = 10000000
[http.middlewares.auth.basicAuth]
users = ["bench:$2b$10$dzKkxe0KVvU/z35dmwOpReOhXzS7FIt4z7AcwpdlouNVUBeUv4COy"]
"""
CHAIN_PATH = "/api/x"
CHAIN_HEADERS = ("Authorization: Basic YmVuY2g6YmVuY2g=",)


def routekit_conf(
    folder: Path, port: int, backend: int, *, chain: bool = False, loop: str = "auto"
) -> list[str]:
    dynamic, static = folder / f"dynamic-{port}.toml", folder / f"static-{port}.toml"
    dynamic.write_text(f"""
[http.routers.app]
rule = "Host(`app.test`)"
service = "app"
{CHAIN if chain else ""}
[[http.services.app.loadBalancer.servers]]
url = "http://127.0.0.1:{backend}"
""")
    static.write_text(f"""
[entryPoints.web]
address = "127.0.0.1:{port}"
[providers.file]
filename = "{dynamic}"
watch = false
""")
    return [PY, "-m", "routekit", "serve", "--config", str(static), "--loop", loop]


def wrk(
    port: int,
    connections: int,
    duration: float,
    cores: str,
    path: str = "/",
    headers: tuple[str, ...] = (),
) -> dict[str, float]:
    extra = [arg for header in headers for arg in ("-H", header)]
    out = subprocess.run(
        ["taskset", "-c", cores, "wrk", "-t1", f"-c{connections}", f"-d{round(duration)}s",
         "--latency", "-H", "Host: app.test", *extra, f"http://127.0.0.1:{port}{path}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip

    def latency(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert m, out
        return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]

    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": latency("50"),
        "p99": latency("99"),
        "requests": requests,
        "bad": int(errors.group(1)) if errors else 0,
        "socket_errors": 1 if socket_errors else 0,
    }


def measure(
    name: str, command: list[str], port: int, cores: str, args: argparse.Namespace
) -> dict[str, float]:
    load: dict[str, Any] = {}
    if name == "routekit chain":
        load = {"path": CHAIN_PATH, "headers": CHAIN_HEADERS}
    with running(command, port, cores) as proc:
        wrk(port, args.connections, 2, "1", **load)  # warm-up
        before = cpu_seconds(proc.pid)
        result = wrk(port, args.connections, args.duration, "1", **load)
        result["cpu_us"] = (cpu_seconds(proc.pid) - before) / result["requests"] * 1e6
    print(
        f"{name:14} {result['rps']:9.0f} req/s  p50 {result['p50']:6.2f} ms  "
        f"p99 {result['p99']:6.2f} ms  cpu {result['cpu_us']:6.1f} µs/req"
        + (f"  ({result['bad']:.0f} non-2xx)" if result["bad"] else ""),
        flush=True,
    )
    return result


def _turns(
    first: tuple[str, list[str], int],
    second: tuple[str, list[str], int],
    rounds: int,
    args: argparse.Namespace,
    load: dict[str, Any],
) -> list[tuple[dict[str, float], dict[str, float]]]:
    """Two proxies running side by side on core 0, measured in turns (A, B, A, B…) with the
    same *load*, *rounds* times: on a shared machine only such pairs compare fairly."""
    out: list[tuple[dict[str, float], dict[str, float]]] = []
    with (
        running(first[1], first[2], "0") as a_proc,
        running(second[1], second[2], "0") as b_proc,
    ):
        sides = ((first[0], first[2], a_proc), (second[0], second[2], b_proc))
        for _, port, _ in sides:
            wrk(port, args.connections, 2, "1", **load)  # warm-up
        for turn in range(rounds):
            pair = []
            for _, port, proc in sides:
                before = cpu_seconds(proc.pid)
                result = wrk(port, args.connections, args.duration, "1", **load)
                result["cpu_us"] = (cpu_seconds(proc.pid) - before) / result["requests"] * 1e6
                pair.append(result)
            a, b = pair
            print(f"round {turn + 1}: {first[0]} {a['rps']:7.0f} req/s {a['cpu_us']:6.1f} µs/req "
                  f"p99 {a['p99']:6.2f} ms | {second[0]} {b['rps']:7.0f} req/s "
                  f"{b['cpu_us']:6.1f} µs/req p99 {b['p99']:6.2f} ms", flush=True)  # fmt: skip
            out.append((a, b))
    return out


def chain_rounds(folder: Path, backend: int, args: argparse.Namespace) -> None:
    """The chain's own cost: routekit with and without it, both sent the chain's request (path
    and credentials), measured in turns while both run, ``--chain-rounds`` times; the median
    of the differences (a shared machine drifts between runs more than the chain costs)."""
    plain, chained = free_port(), free_port()
    load: dict[str, Any] = {"path": CHAIN_PATH, "headers": CHAIN_HEADERS}
    pairs = _turns(
        ("routekit", routekit_conf(folder, plain, backend), plain),
        ("with the chain", routekit_conf(folder, chained, backend, chain=True), chained),
        args.chain_rounds,
        args,
        load,
    )
    added = sorted(b["cpu_us"] - a["cpu_us"] for a, b in pairs)
    print(f"the chain, same request to both: {added[len(added) // 2]:+.1f} µs of CPU per "
          f"request (median of {len(added)} rounds)")  # fmt: skip


def ab_rounds(folder: Path, backend: int, args: argparse.Namespace) -> None:
    """routekit against routekit with h11 alone (``ROUTEKIT_FAST_PATH=0``), then against the
    aiohttp proxy on the same event loop (uvloop, then asyncio's own), each pair in turns
    ``--ab-rounds`` times; the median of each side."""
    ports = [free_port() for _ in range(6)]
    h11_only = ["env", "ROUTEKIT_FAST_PATH=0", *routekit_conf(folder, ports[1], backend)]
    b = f"http://127.0.0.1:{backend}"
    peer = [PY, str(HERE / "peer_aiohttp.py"), str(ports[3]), b, "uvloop"]
    peer_asyncio = [PY, str(HERE / "peer_aiohttp.py"), str(ports[5]), b]
    rk_asyncio = routekit_conf(folder, ports[4], backend, loop="asyncio")
    for first, second in (
        (("fast path", routekit_conf(folder, ports[0], backend), ports[0]),
         ("h11 only", h11_only, ports[1])),
        (("routekit", routekit_conf(folder, ports[2], backend), ports[2]),
         ("aiohttp uvloop", peer, ports[3])),
        (("routekit asyncio", rk_asyncio, ports[4]),
         ("aiohttp", peer_asyncio, ports[5])),
    ):  # fmt: skip
        pairs = _turns(first, second, args.ab_rounds, args, {})
        for side, (name, _, _) in enumerate((first, second)):
            rps, cpu, p99 = (
                sorted(pair[side][key] for pair in pairs)[len(pairs) // 2]
                for key in ("rps", "cpu_us", "p99")
            )
            print(f"{name}: {rps:.0f} req/s, {cpu:.1f} µs of CPU per request, p99 {p99:.2f} ms "
                  f"(median of {len(pairs)} rounds)")  # fmt: skip
        ratios = sorted(a["rps"] / b["rps"] for a, b in pairs)
        print(f"{first[0]} / {second[0]}: {ratios[len(ratios) // 2]:.2f}x req/s "
              f"(median of the rounds' ratios; {min(ratios):.2f}x–{max(ratios):.2f}x)")  # fmt: skip


def idle_memory(command: list[str], port: int, count: int) -> float:
    """RSS growth per idle kept-alive connection (bytes), over *count* connections."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count * 3), hard))
    request = b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n"
    with running(command, port, "0") as proc:
        socks = []
        try:
            warm = socket.create_connection(("127.0.0.1", port))
            warm.sendall(request)
            warm.recv(4096)
            time.sleep(0.5)
            base = rss_bytes(proc.pid)
            for _ in range(count):
                s = socket.create_connection(("127.0.0.1", port))
                s.sendall(request)
                s.recv(4096)
                socks.append(s)
            time.sleep(1)
            return (rss_bytes(proc.pid) - base) / count
        finally:
            for s in socks:
                s.close()
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


# The ratios printed: each proxy against its peer on the same event loop first ("routekit" is
# `routekit serve`'s default loop, uvloop when installed; aiohttp's default is asyncio's).
RATIOS = (
    ("routekit", "aiohttp uvloop"),
    ("routekit asyncio", "aiohttp"),
    ("routekit", "aiohttp"),
    ("routekit", "uvicorn+httpx"),
    ("routekit", "nginx"),
    ("routekit x2", "routekit"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--idle", type=int, default=10_000, help="idle connections (0: skip)")
    parser.add_argument("--only", default="", help="comma-separated proxy names")
    parser.add_argument(
        "--chain-rounds", type=int, default=0, help="then the chain's cost in N A/B rounds"
    )
    parser.add_argument(
        "--ab-rounds", type=int, default=0, help="then fast path/h11, routekit/aiohttp: N turns"
    )
    args = parser.parse_args()
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    load = f"wrk -t1 -c{args.connections} -d{args.duration}s"
    print(f"{machine}, Python {platform.python_version()}, {load}; {time.strftime('%Y-%m-%d')}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        backend = free_port()
        with running(nginx_conf(folder, backend, None), backend, "1"):
            names = ("routekit", "asyncio", "h11", "chain", "x2", "aiohttp", "aiohttp uvloop",
                     "uvicorn", "nginx")  # fmt: skip
            ports = {n: free_port() for n in names}
            b = f"http://127.0.0.1:{backend}"
            proxies = {
                "routekit": (routekit_conf(folder, ports["routekit"], backend), "0"),
                "routekit asyncio": (
                    routekit_conf(folder, ports["asyncio"], backend, loop="asyncio"),
                    "0",
                ),
                "routekit h11": (
                    ["env", "ROUTEKIT_FAST_PATH=0", *routekit_conf(folder, ports["h11"], backend)],
                    "0",
                ),
                "routekit chain": (
                    routekit_conf(folder, ports["chain"], backend, chain=True),
                    "0",
                ),
                "aiohttp": ([PY, str(HERE / "peer_aiohttp.py"), str(ports["aiohttp"]), b], "0"),
                "aiohttp uvloop": (
                    [PY, str(HERE / "peer_aiohttp.py"), str(ports["aiohttp uvloop"]), b, "uvloop"],
                    "0",
                ),
                "uvicorn+httpx": (
                    [PY, str(HERE / "peer_uvicorn.py"), str(ports["uvicorn"]), b],
                    "0",
                ),
                "nginx": (nginx_conf(folder, ports["nginx"], backend), "0"),
                "routekit x2": (
                    [*routekit_conf(folder, ports["x2"], backend), "--workers", "2"],
                    "0,1",
                ),
            }
            port_of = {"routekit": "routekit", "routekit asyncio": "asyncio",
                       "routekit h11": "h11", "routekit chain": "chain",
                       "aiohttp": "aiohttp", "aiohttp uvloop": "aiohttp uvloop",
                       "uvicorn+httpx": "uvicorn", "nginx": "nginx",
                       "routekit x2": "x2"}  # fmt: skip
            wanted = set(args.only.split(",")) if args.only else set(proxies)
            results: dict[str, dict[str, float]] = {}
            for name, (command, cores) in proxies.items():
                if name in wanted:
                    results[name] = measure(name, command, ports[port_of[name]], cores, args)
            if "routekit" in results and "routekit chain" in results:
                added = results["routekit chain"]["cpu_us"] - results["routekit"]["cpu_us"]
                print(f"middleware chain (stripPrefix+headers+rateLimit+basicAuth): "
                      f"+{added:.1f} µs of CPU per request")  # fmt: skip
            for mine, peer in RATIOS:
                if mine in results and peer in results:
                    ours, theirs = results[mine], results[peer]
                    print(f"{mine} / {peer}: {ours['rps'] / theirs['rps']:.2f}x req/s, "
                          f"{ours['cpu_us'] / theirs['cpu_us']:.2f}x CPU per request")  # fmt: skip
            if args.chain_rounds:
                chain_rounds(folder, backend, args)
            if args.ab_rounds:
                ab_rounds(folder, backend, args)
            if args.idle:
                command = routekit_conf(folder, ports["routekit"], backend)
                per = idle_memory(command, ports["routekit"], args.idle)
                print(f"routekit memory per idle keep-alive connection: {per / 1024:.1f} KiB "
                      f"({args.idle} connections)")  # fmt: skip


if __name__ == "__main__":
    main()
