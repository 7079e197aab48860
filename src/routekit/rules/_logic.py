"""Logic nodes: `And`, `Or`, `Not`, and their normalising constructors."""

from __future__ import annotations

from collections.abc import Iterable
from typing import final

import attrs

from ._node import Node

__all__ = ["And", "Not", "Or"]


def _children(nodes: Iterable[Node]) -> tuple[Node, ...]:
    return tuple(nodes)


@attrs.frozen
class _Junction(Node):
    """`And` and `Or`: a tuple of children, and a constructor that flattens nested ones."""

    children: tuple[Node, ...] = attrs.field(converter=_children)

    @classmethod
    def of(cls, *nodes: Node) -> Node:
        """The conjunction (`And`) or disjunction (`Or`) of *nodes*, flattened; one node as is."""
        if not nodes:
            raise ValueError(f"{cls.__name__}.of() needs at least one node")
        flat: list[Node] = []
        for node in nodes:
            flat.extend(node.children if isinstance(node, cls) else (node,))
        return flat[0] if len(flat) == 1 else cls(tuple(flat))


@final
@attrs.frozen
class And(_Junction):
    """All children match."""

    def matches(self, request: object) -> bool:
        """True when every child matches (short-circuits)."""
        # A plain loop: all() over a generator costs more on this hot path.
        for child in self.children:  # noqa: SIM110
            if not child.matches(request):
                return False
        return True

    def __str__(self) -> str:
        return " && ".join(f"({c})" if isinstance(c, Or) else str(c) for c in self.children)


@final
@attrs.frozen
class Or(_Junction):
    """At least one child matches."""

    def matches(self, request: object) -> bool:
        """True when some child matches (short-circuits)."""
        for child in self.children:  # noqa: SIM110
            if child.matches(request):
                return True
        return False

    def __str__(self) -> str:
        return " || ".join(str(c) for c in self.children)


@final
@attrs.frozen
class Not(Node):
    """The child does not match; in normalised trees the child is always a leaf."""

    child: Node

    @classmethod
    def of(cls, node: Node) -> Node:
        """Negation of *node* pushed to the leaves by De Morgan (Traefik's ``invert()``)."""
        if isinstance(node, Not):
            return node.child
        if isinstance(node, And):
            return Or.of(*(cls.of(c) for c in node.children))
        if isinstance(node, Or):
            return And.of(*(cls.of(c) for c in node.children))
        return cls(node)

    def matches(self, request: object) -> bool:
        """True when the child does not match."""
        return not self.child.matches(request)

    def __str__(self) -> str:
        inner = str(self.child)
        return f"!({inner})" if isinstance(self.child, (And, Or)) else f"!{inner}"
