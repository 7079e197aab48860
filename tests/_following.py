"""Following a provider's ``watch()`` from a test: wait until its snapshot says what we expect."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import aclosing, asynccontextmanager

import anyio

from routekit.providers import Provider, Snapshot


class Following:
    """The snapshots a provider yielded so far, the last one first."""

    def __init__(self) -> None:
        self.seen: list[Snapshot] = []
        self._changed = anyio.Event()

    @property
    def last(self) -> Snapshot:
        """The last snapshot yielded."""
        return self.seen[-1]

    def add(self, snapshot: Snapshot) -> None:
        """Record one more snapshot."""
        self.seen.append(snapshot)
        self._changed.set()
        self._changed = anyio.Event()

    async def until(self, check: Callable[[Snapshot], bool], within: float = 10.0) -> Snapshot:
        """The first snapshot from now on (or the last one) for which *check* holds."""
        with anyio.fail_after(within):
            while not (self.seen and check(self.last)):
                await self._changed.wait()
        return self.last


@asynccontextmanager
async def following(provider: Provider) -> AsyncIterator[Following]:
    """Run ``provider.watch()`` in the background while the block runs."""
    seen = Following()

    async def follow() -> None:
        snapshots = provider.watch()
        async with aclosing(snapshots):  # type: ignore[type-var]  # an async generator
            async for snapshot in snapshots:
                seen.add(snapshot)

    async with anyio.create_task_group() as tg:
        tg.start_soon(follow)
        yield seen
        tg.cancel_scope.cancel()


def servers(snapshot: Snapshot) -> dict[str, list[str]]:
    """Service name → its servers' URLs, for the services with a load balancer."""
    out = {}
    for name, service in snapshot.config.http.services.items():
        if service.load_balancer is not None:
            out[name] = [s.url for s in service.load_balancer.servers]
    return out


def rules(snapshot: Snapshot) -> dict[str, str]:
    """Router name → its rule."""
    return {name: router.rule for name, router in snapshot.config.http.routers.items()}
