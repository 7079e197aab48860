"""Helpers for tests that talk to servers over real sockets."""

from __future__ import annotations

import contextlib
import os
import socket

import anyio
import anyio.abc


async def read_until_closed(stream: anyio.abc.ByteStream, timeout: float = 5) -> bytes:
    """Everything *stream* sends until the other side closes (a reset counts as a close)."""
    out = b""
    with anyio.fail_after(timeout):
        while True:
            try:
                out += await stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                return out


def free_port() -> int:
    """A loopback port nothing listens on now (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def open_sockets() -> set[str]:
    """The sockets this process holds open (``socket:[inode]``): one opened and left open
    shows as a new entry, whatever an earlier test closes meanwhile.  Only sockets: uvloop
    opens a descriptor on /dev/null once, and keeps it."""
    found: set[str] = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(FileNotFoundError):  # the one listdir itself used
            found.add(os.readlink(f"/proc/self/fd/{fd}"))
    return {fd for fd in found if fd.startswith("socket:")}
