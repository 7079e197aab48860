"""The provider protocol: a named source of `Snapshot` values (a configuration and its problems).

A provider describes the world; it never routes.  ``watch()`` is an async iterator that yields a
`Snapshot` whenever the source changes (the first one at once), ``snapshot()`` reads the source
once.  Problems travel *with* the configuration they concern, in the same `Snapshot`, so a broken
source is reported at the moment its last good configuration is served instead — never silently.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Protocol, final, runtime_checkable

import attrs

from ..config import Configuration
from ..errors import ConfigError, Problem

__all__ = ["Provider", "Snapshot", "as_snapshot", "check_provider_name"]


def _problems(value: Iterable[Problem]) -> tuple[Problem, ...]:
    items = tuple(value)
    for item in items:
        if not isinstance(item, Problem):
            raise TypeError(f"Snapshot.problems must hold Problem values, got {item!r}")
    return items


@final
@attrs.frozen
class Snapshot:
    """What a provider serves at one moment: the configuration and what is wrong with its source.

    Attributes:
        config: every element the provider can serve now (for a broken file: its last good
            version).
        problems: each problem found, with its source (``file.toml:3:7``, a label, a KV key);
            an empty tuple when the source is clean.
    """

    config: Configuration = attrs.field(factory=Configuration)
    problems: tuple[Problem, ...] = attrs.field(default=(), converter=_problems)

    @property
    def errors(self) -> tuple[Problem, ...]:
        """The problems that left something out (severity ``error``)."""
        return tuple(p for p in self.problems if p.severity == "error")


@runtime_checkable
class Provider(Protocol):
    """A source of configuration snapshots, followed by a `routekit.runtime.Watcher`.

    Attributes:
        name: the provider name: the ``@provider`` suffix its elements get once merged (``file``,
            ``docker``…).  Unique among the providers of one watcher; no ``@``, ``.`` or space
            in it (`check_provider_name`).

    A provider may also have a ``throttle_duration`` attribute (seconds, or ``None``): the
    watcher then uses it instead of its own throttle for this provider, as Traefik lets a
    provider override ``providersThrottleDuration``.
    """

    name: str

    def watch(self) -> AsyncIterator[Snapshot]:
        """Yield the current snapshot, then a new one each time the source changes.

        Written as an ``async def`` generator.  A provider that cannot change (or that was asked
        not to watch) may end the iteration after its first snapshot; the watcher keeps serving
        it.  A source that cannot be read yields a snapshot whose problems say so (and whose
        configuration is the last good one), rather than raising.
        """
        ...

    async def snapshot(self) -> Snapshot:
        """Read the source once and return what it describes now."""
        ...


def check_provider_name(name: object) -> str:
    """Return *name* if it is a valid provider name (see `Provider.name`), else raise `ConfigError`.

    ``@`` separates an element's name from its provider and ``.`` the parts of a problem's path,
    so neither may appear in it.
    """
    if not isinstance(name, str) or not name or any(c in name for c in "@. \t\r\n"):
        raise ConfigError(
            f"a provider name must be a non-empty string without '@', '.' or spaces, got {name!r}"
        )
    return name


def as_snapshot(item: Snapshot | Configuration) -> Snapshot:
    """A `Snapshot` from what a provider yielded (a bare `Configuration` has no problems).

    Raises:
        TypeError: *item* is neither.
    """
    if isinstance(item, Snapshot):
        return item
    if isinstance(item, Configuration):
        return Snapshot(item)
    raise TypeError(f"a provider must yield Snapshot or Configuration values, got {item!r}")
