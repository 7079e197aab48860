"""whoami backends for end-to-end tests, and asking a gateway which of them answers."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import anyio

from routekit.http import Client, UpstreamError
from routekit.whoami import whoami


@asynccontextmanager
async def backends(*names: str) -> AsyncIterator[dict[str, int]]:
    """One whoami server per name; their ports."""
    async with AsyncExitStack() as stack:
        ports = {}
        for name in names:
            server = await stack.enter_async_context(whoami(name=name))
            ports[name] = server.ports[0]
        yield ports


async def names(client: Client, url: str, host: bytes, count: int) -> Counter[str]:
    """Which backends answered *count* requests for *host* (a status when not 200)."""
    seen: Counter[str] = Counter()
    for _ in range(count):
        try:
            r = await client.request("GET", url, headers=[(b"host", host)])
        except UpstreamError:
            seen["unreachable"] += 1
            continue
        first = (await r.read()).split(b"\n", 1)[0].decode()
        seen[first.removeprefix("Name: ") if r.status == 200 else str(r.status)] += 1
    return seen


async def until(client: Client, url: str, host: bytes, want: set[str], within: float = 10) -> None:
    """Wait until the answers for *host* come from exactly *want*."""
    with anyio.fail_after(within):
        while set(await names(client, url, host, 2 * len(want))) != want:
            await anyio.sleep(0.02)
