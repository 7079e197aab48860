"""`StaticProvider`: a configuration given by the program itself (and replaced by it, if wanted)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import final

import anyio

from ..config import Configuration
from ..errors import ConfigError, Problem
from ._base import Snapshot, check_provider_name

__all__ = ["StaticProvider"]


def _snapshot(config: object, problems: Iterable[Problem]) -> Snapshot:
    if not isinstance(config, Configuration):
        raise ConfigError(f"StaticProvider needs a Configuration, got {type(config).__name__}")
    return Snapshot(config, problems)


@final
class StaticProvider:
    """Serve a `Configuration` built in Python; `update` replaces it while a watcher follows.

    Args:
        config: the configuration to serve.
        name: the provider name (elements become ``name@static``).
        problems: problems to report alongside (for configurations read by the caller).

    ``watch()`` yields the current snapshot at once, then each new one given to `update` (only
    the latest when several arrive before the consumer reads); it never ends by itself.
    """

    __slots__ = ("_current", "_version", "_waiters", "name")

    def __init__(
        self,
        config: Configuration | None = None,
        *,
        name: str = "static",
        problems: Iterable[Problem] = (),
    ) -> None:
        self.name = check_provider_name(name)
        self._current = _snapshot(config if config is not None else Configuration(), problems)
        self._version = 0
        # One event per waiting watch(): events belong to the event loop that made them.
        self._waiters: set[anyio.Event] = set()

    @property
    def current(self) -> Snapshot:
        """The snapshot served now."""
        return self._current

    def update(self, config: Configuration, problems: Iterable[Problem] = ()) -> None:
        """Serve *config* from now on (call it from the event loop's thread)."""
        self._current = _snapshot(config, problems)
        self._version += 1
        for event in self._waiters:
            event.set()

    async def snapshot(self) -> Snapshot:
        """The snapshot served now."""
        return self._current

    async def watch(self) -> AsyncIterator[Snapshot]:
        """Yield the current snapshot, then every later one given to `update` (latest wins)."""
        seen = self._version
        yield self._current
        while True:
            while seen == self._version:
                event = anyio.Event()
                self._waiters.add(event)
                try:
                    await event.wait()
                finally:
                    self._waiters.discard(event)
            seen = self._version
            yield self._current

    def __repr__(self) -> str:
        http = self._current.config.http
        return (
            f"<StaticProvider {self.name!r}: {len(http.routers)} routers, "
            f"{len(http.services)} services>"
        )
