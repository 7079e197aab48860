"""`FrozenMap`: the immutable, hashable mapping the configuration model is made of."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar, final

__all__ = ["FrozenMap", "frozen_map", "frozen_tuple"]

K = TypeVar("K")
V = TypeVar("V")


@final
class FrozenMap(Mapping[K, V]):
    """An immutable mapping that keeps insertion order, compares like a dict and is hashable."""

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        self._data: dict[K, V] = dict(data)
        self._hash: int | None = None

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMap):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        # Order does not take part in equality, so it must not take part in the hash either.
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def set(self, key: K, value: V) -> FrozenMap[K, V]:
        """Return a copy with ``key`` set to ``value``."""
        data = dict(self._data)
        data[key] = value
        return FrozenMap(data)

    def remove(self, *keys: K) -> FrozenMap[K, V]:
        """Return a copy without ``keys`` (missing keys are ignored)."""
        return FrozenMap((k, v) for k, v in self._data.items() if k not in keys)


_EMPTY: FrozenMap[Any, Any] = FrozenMap()


def frozen_map(value: Mapping[Any, Any] | Iterable[tuple[Any, Any]]) -> FrozenMap[Any, Any]:
    """attrs converter: any mapping (or pairs) → `FrozenMap` (a `FrozenMap` is kept as it is)."""
    if isinstance(value, FrozenMap):
        return value
    if not value:
        return _EMPTY
    return FrozenMap(value)


def frozen_tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    """attrs converter: any iterable (but a lone string) → tuple."""
    if isinstance(value, tuple):
        return value
    if isinstance(value, str):
        # A lone string would otherwise become a tuple of characters.
        return (value,)
    return tuple(value)
