"""v1 modifier nodes: the strip matchers and the pure rewrites (`AddPrefix`…)."""

from __future__ import annotations

from typing import ClassVar, final

import attrs

from ._http import path_node
from ._node import Node, _set, _str_tuple

__all__ = [
    "AddPrefix",
    "PathPrefixStrip",
    "PathPrefixStripRegex",
    "PathStrip",
    "PathStripRegex",
    "ReplacePath",
    "ReplacePathRegex",
]


class _Strip(Node):
    """v1 strip modifiers: match like Path/PathPrefix over their values, then strip.

    Subclasses hold the values in their own field (named as Traefik's docs name them) and a
    ``_nodes`` field with one compiled Path/PathPrefix node per value.
    """

    __slots__ = ()
    _prefix: ClassVar[bool] = False
    _nodes: tuple[Node, ...]

    def __attrs_post_init__(self) -> None:
        nodes = tuple(path_node(v, prefix=self._prefix) for v in self.values())
        _set(self, "_nodes", nodes)

    def matches(self, request: object) -> bool:
        """Any of the values matches."""
        return any(n.matches(request) for n in self._nodes)

    def variables(self, request: object) -> dict[str, str]:
        """The template variables bound by the first of the values that matches."""
        for node in self._nodes:
            if node.matches(request):
                return node.variables(request)
        return {}


@final
@attrs.frozen
class PathStrip(_Strip):
    """v1 ``PathStrip``: matches like ``Path`` on any of ``paths``; strips the matched path."""

    paths: tuple[str, ...] = attrs.field(converter=_str_tuple)
    _nodes: tuple[Node, ...] = attrs.field(init=False, eq=False, repr=False)

    def values(self) -> tuple[str, ...]:
        """The paths."""
        return self.paths


@final
@attrs.frozen
class PathPrefixStrip(_Strip):
    """v1 ``PathPrefixStrip``: matches like ``PathPrefix`` on any prefix; strips it."""

    _prefix: ClassVar[bool] = True
    prefixes: tuple[str, ...] = attrs.field(converter=_str_tuple)
    _nodes: tuple[Node, ...] = attrs.field(init=False, eq=False, repr=False)

    def values(self) -> tuple[str, ...]:
        """The prefixes."""
        return self.prefixes


@final
@attrs.frozen
class PathStripRegex(_Strip):
    """v1 ``PathStripRegex``: matches like ``Path`` templates; strips the matched path."""

    templates: tuple[str, ...] = attrs.field(converter=_str_tuple)
    _nodes: tuple[Node, ...] = attrs.field(init=False, eq=False, repr=False)

    def values(self) -> tuple[str, ...]:
        """The templates."""
        return self.templates


@final
@attrs.frozen
class PathPrefixStripRegex(_Strip):
    """v1 ``PathPrefixStripRegex``: matches like ``PathPrefix`` templates; strips the match."""

    _prefix: ClassVar[bool] = True
    templates: tuple[str, ...] = attrs.field(converter=_str_tuple)
    _nodes: tuple[Node, ...] = attrs.field(init=False, eq=False, repr=False)

    def values(self) -> tuple[str, ...]:
        """The templates."""
        return self.templates


class _Modifier(Node):
    """Pure v1 modifiers: they rewrite the request after a match and always match."""

    __slots__ = ()
    always_matches: ClassVar[bool] = True

    def matches(self, request: object) -> bool:
        """Always true: modifiers never affect matching (Traefik v1 docs, §Modifiers)."""
        return True


@final
@attrs.frozen
class AddPrefix(_Modifier):
    """v1 ``AddPrefix``: prepend ``prefix`` to the path before forwarding."""

    prefix: str

    def values(self) -> tuple[str, ...]:
        """``(prefix,)``."""
        return (self.prefix,)


@final
@attrs.frozen
class ReplacePath(_Modifier):
    """v1 ``ReplacePath``: forward with ``path`` (the old one goes to ``X-Replaced-Path``)."""

    path: str

    def values(self) -> tuple[str, ...]:
        """``(path,)``."""
        return (self.path,)


@final
@attrs.frozen
class ReplacePathRegex(_Modifier):
    """v1 ``ReplacePathRegex``: replace ``pattern`` in the path by ``replacement`` (``$1``…)."""

    pattern: str
    replacement: str

    def values(self) -> tuple[str, ...]:
        """``(pattern, replacement)``."""
        return (self.pattern, self.replacement)
