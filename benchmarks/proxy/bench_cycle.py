"""One HTTP/1.1 cycle of each side, without I/O: the strict fast path against h11.

Run: ``.venv/bin/python benchmarks/proxy/bench_cycle.py [--number 20000]``

Server cycle: a proxied request's head (what wrk sends, plus ``X-Forwarded-*``) fed to a
`ServerConnection`, answered with a checked head and a 13-byte body (nginx's answer, as the
proxy relays it), then `next_request` — with ``fast=True`` and ``fast=False``.  Client cycle:
the proxy's request to the server written, and nginx's answer read (status, fields, body),
by `_fast` and by a kept-alive ``h11.Connection``.  The best of ``--repeat`` runs, in µs.
"""

from __future__ import annotations

import argparse
import platform
import time
import timeit
from collections.abc import Callable
from importlib.metadata import version

import h11

from routekit.http import ServerConnection
from routekit.http._fast import parse_response_head, request_bytes

REQUEST = (
    b"GET / HTTP/1.1\r\nHost: app.test\r\nUser-Agent: wrk\r\nAccept: */*\r\n"
    b"X-Request-Id: 1b9d6bcd\r\n\r\n"
)
ANSWER: list[tuple[bytes, bytes]] = [
    (b"server", b"nginx/1.22.1"),
    (b"date", b"Mon, 07 Dec 2026 02:00:00 GMT"),
    (b"content-type", b"application/octet-stream"),
    (b"content-length", b"13"),
]
BODY = b"hello, world\n"
UPSTREAM = [
    (b"host", b"app.test"),
    (b"user-agent", b"wrk"),
    (b"accept", b"*/*"),
    (b"x-forwarded-for", b"127.0.0.1"),
    (b"x-forwarded-host", b"app.test"),
    (b"x-forwarded-port", b"80"),
    (b"x-forwarded-proto", b"http"),
    (b"x-forwarded-server", b"bench"),
    (b"x-real-ip", b"127.0.0.1"),
]
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 07 Dec 2026 02:00:00 GMT\r\n"
    b"Content-Type: application/octet-stream\r\nContent-Length: 13\r\n"
    b"Connection: keep-alive\r\n\r\n" + BODY
)


def server_cycle(fast: bool) -> Callable[[], None]:
    """One request through a `ServerConnection` and its answer."""
    conn = ServerConnection(fast=fast)

    def cycle() -> None:
        conn.receive(REQUEST)
        conn.respond(200, ANSWER, checked=True)
        conn.body(BODY)
        conn.end()
        conn.next_request()

    return cycle


def client_cycle_fast() -> None:
    """The proxy's request written and nginx's answer read by the fast path."""
    request_bytes(b"GET", b"/", UPSTREAM, 0, checked=True)
    head = RESPONSE.index(b"\r\n\r\n") + 4
    answer = parse_response_head(RESPONSE[:head], b"GET")
    assert answer is not None and len(RESPONSE) - head == answer.length


def client_cycle_h11() -> Callable[[], None]:
    """The same with a kept-alive h11 client connection."""
    conn = h11.Connection(h11.CLIENT)

    def cycle() -> None:
        event = h11.Request(
            method=b"GET", target=b"/", headers=UPSTREAM, http_version=b"1.1", _parsed=True
        )
        conn.send(event)
        conn.send(h11.EndOfMessage())
        conn.receive_data(RESPONSE)
        assert isinstance(conn.next_event(), h11.Response)
        assert isinstance(conn.next_event(), h11.Data)
        assert isinstance(conn.next_event(), h11.EndOfMessage)
        conn.start_next_cycle()

    return cycle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--number", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{platform.machine()}, Python {platform.python_version()}, h11 {version('h11')}; "
          f"{time.strftime('%Y-%m-%d %H:%M')}")  # fmt: skip

    number: int = args.number

    def best(cycle: Callable[[], None]) -> float:
        return min(timeit.repeat(cycle, number=number, repeat=args.repeat)) / number * 1e6

    rows = [
        ("server cycle", best(server_cycle(True)), best(server_cycle(False))),
        ("client cycle", best(client_cycle_fast), best(client_cycle_h11())),
    ]
    for name, fast, reference in rows:
        print(f"{name}: fast path {fast:6.1f} µs, h11 {reference:6.1f} µs "
              f"({reference / fast:.1f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
