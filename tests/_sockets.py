"""Helpers for tests that talk to servers over real sockets."""

from __future__ import annotations

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
