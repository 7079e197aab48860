"""Bytes both ways between two streams, after an ``Upgrade`` (WebSocket and others).

After a ``101 Switching Protocols`` the connection is no longer HTTP: the proxy copies what
each side sends to the other, as Go's ``ReverseProxy`` does for Traefik, until either side
closes — then both are closed — or until nothing has passed either way for *idle* seconds.
"""

from __future__ import annotations

from typing import Final

import anyio
import anyio.abc

__all__ = ["tunnel"]

_CHUNK: Final = 64 * 1024
_GONE: Final = (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError)


async def tunnel(
    a: anyio.abc.ByteStream,
    b: anyio.abc.ByteStream,
    *,
    a_sent: bytes = b"",
    b_sent: bytes = b"",
    idle: float,
) -> None:
    """Copy *a* to *b* and *b* to *a* until one side closes or *idle* seconds pass quietly.

    *a_sent* and *b_sent* are bytes each side sent before the switch that are still to be
    delivered to the other.  Both streams are closed on return.
    """
    try:
        with anyio.CancelScope(deadline=anyio.current_time() + idle) as quiet:
            async with anyio.create_task_group() as tg:

                async def copy(
                    source: anyio.abc.ByteStream, sink: anyio.abc.ByteStream, first: bytes
                ) -> None:
                    try:
                        if first:
                            await sink.send(first)
                        while True:
                            data = await source.receive(_CHUNK)
                            # Either direction's traffic keeps the tunnel alive.
                            quiet.deadline = anyio.current_time() + idle
                            await sink.send(data)
                    except _GONE:
                        pass
                    # One side is done: a half-open tunnel serves no one, so both end.
                    tg.cancel_scope.cancel()

                tg.start_soon(copy, a, b, a_sent)
                tg.start_soon(copy, b, a, b_sent)
    finally:
        with anyio.CancelScope(shield=True):
            await a.aclose()
            await b.aclose()
