"""Bytes both ways between two wires, after an ``Upgrade`` (WebSocket and others).

After a ``101 Switching Protocols`` the connection is no longer HTTP: the proxy copies what
each side sends to the other, as Go's ``ReverseProxy`` does for Traefik, until either side
closes — then both are closed — or until nothing has passed either way for *idle* seconds.
"""

from __future__ import annotations

import time

import anyio

from ._wire import GONE, Wire

__all__ = ["tunnel"]


async def tunnel(
    a: Wire, b: Wire, *, a_sent: bytes = b"", b_sent: bytes = b"", idle: float
) -> None:
    """Copy *a* to *b* and *b* to *a* until one side closes or *idle* seconds pass quietly.

    *a_sent* and *b_sent* are bytes each side sent before the switch that are still to be
    delivered to the other.  Both wires are closed on return.
    """
    last = time.monotonic()  # the last time a byte passed, either way
    try:
        async with anyio.create_task_group() as tg:

            async def copy(source: Wire, sink: Wire, first: bytes) -> None:
                nonlocal last
                try:
                    if first:
                        await sink.send(first)
                    while True:
                        try:
                            data = await source.receive(last + idle - time.monotonic())
                        except TimeoutError:
                            if time.monotonic() - last < idle:
                                continue  # the other direction kept the tunnel alive
                            break
                        if not data:
                            break
                        last = time.monotonic()
                        await sink.send(data)
                except GONE:
                    pass
                # One side is done: a half-open tunnel serves no one, so both end.
                tg.cancel_scope.cancel()

            tg.start_soon(copy, a, b, a_sent)
            tg.start_soon(copy, b, a, b_sent)
    finally:
        with anyio.CancelScope(shield=True):
            await a.aclose()
            await b.aclose()
