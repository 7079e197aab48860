"""`configurations()`: hypothesis strategy for `routekit.config.Configuration` values.

Derived from the model's own type hints, so every option of every element (each middleware
type, each service kind, TCP, TLS) is generated and a field added to the model is generated
too.  The values are any the model holds — not only valid ones — which is what codec
round-trip properties need (``loads(dumps(c)) == c``); pass the result to
`routekit.config.validate` for what a provider would accept.
"""

from __future__ import annotations

import types
import typing
from functools import cache
from typing import Any, Final

import attrs
from hypothesis import strategies as st

from ..config import Configuration, FrozenMap

__all__ = ["configurations"]

#: Element names: what every codec can write (no ``@`` or ``/``, not empty), case apart.
NAMES: Final = st.text("abcABC0129-_.", min_size=1, max_size=6)
#: Map keys such as header names: HTTP tokens.
_KEYS: Final = st.text("abcABC019-_", min_size=1, max_size=6)
_TEXT: Final = st.text("abcXYZ019-_./:", min_size=1, max_size=8)


def configurations(
    *, max_elements: int = 3, names: st.SearchStrategy[str] = NAMES
) -> st.SearchStrategy[Configuration]:
    """Configurations with up to *max_elements* elements per collection, any option set.

    *names* draws the element names (routers, services…); the default holds ``.``, which a
    label key cannot say, so label codecs pass a narrower one.
    """
    return _strategy(Configuration, (max_elements, names))


_Shape = tuple[int, st.SearchStrategy[str]]


def _strategy(tp: Any, size: _Shape) -> st.SearchStrategy[Any]:
    args = typing.get_args(tp)
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        present = [a for a in args if a is not type(None)]
        some = st.one_of([_strategy(a, size) for a in present])
        return st.none() | some if len(present) < len(args) else some
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(0, 10**6)
    if tp is float:
        # Milliseconds: durations are written as whole units and read back exactly.
        return st.integers(0, 10**5).map(lambda ms: ms / 1000)
    if tp is str:
        return _TEXT
    origin = typing.get_origin(tp)
    if origin is tuple:
        return st.lists(_strategy(args[0], size), max_size=2).map(tuple)
    if origin is FrozenMap or tp is FrozenMap:
        value = _strategy(args[1], size) if args else _TEXT
        keys = size[1] if attrs.has(args[1]) or typing.get_origin(args[1]) else _KEYS
        return st.dictionaries(keys, value, max_size=size[0]).map(FrozenMap)
    if isinstance(tp, type) and attrs.has(tp):
        return _model(tp, size)
    raise TypeError(f"no strategy for {tp!r}")  # a new kind of field: teach it here


@cache
def _model(cls: type, size: _Shape) -> st.SearchStrategy[Any]:
    hints = typing.get_type_hints(cls)

    def field(tp: Any) -> st.SearchStrategy[Any]:
        # Deferred: the model refers to itself through unions and maps.
        return st.deferred(lambda: _strategy(tp, size))

    return st.builds(cls, **{f.name: field(hints[f.name]) for f in attrs.fields(cls) if f.init})
