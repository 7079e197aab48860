"""The tree of a parsed Go RE2 pattern, and the error raised for a bad or unsafe pattern."""

from __future__ import annotations

import attrs

from ..errors import RoutekitError
from ._recharset import Ranges

__all__ = [
    "Alt",
    "Assert",
    "Concat",
    "Dot",
    "Group",
    "Lit",
    "Named",
    "Node",
    "RegexError",
    "Repeat",
    "Set",
    "children",
]


class RegexError(RoutekitError, ValueError):
    """A regular expression or template is not valid Go RE2, or is refused as unsafe.

    Attributes:
        message: what is wrong, naming the construct.
        position: 0-based offset of the fault inside the pattern (or template).
    """

    status_hint = 500

    def __init__(self, message: str, position: int = 0) -> None:
        self.message = message
        self.position = position
        super().__init__(f"{message} (at position {position})")

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.message, self.position))


# --- the AST ------------------------------------------------------------------------------
# Nodes carry ``pos``, the offset of their source in the pattern, so that the safety checks
# can point at the repetition they refuse.


@attrs.frozen
class Lit:
    """A literal string; ``fold`` = matched case-insensitively (``(?i)``)."""

    text: str
    fold: bool
    pos: int


@attrs.frozen
class Named:
    """A named class inside a set: ``kind`` is ``perl`` (``\\d``), ``posix`` (``[:alpha:]``)
    or ``unicode`` (``\\pL``, ``\\p{Greek}``); ``negated`` for ``\\D``, ``[:^alpha:]``, ``\\PL``.

    Under ``(?i)`` Go folds a named class *before* negating it, so ``(?i)\\W`` does not match
    the Kelvin sign; keeping the item whole lets each printer honour that order.
    """

    kind: str
    name: str
    negated: bool


@attrs.frozen
class Set:
    """A character class: explicit ranges plus named classes, possibly negated as a whole."""

    ranges: Ranges
    named: tuple[Named, ...]
    negated: bool
    fold: bool
    pos: int


@attrs.frozen
class Dot:
    """``.``; ``nl`` = it also matches ``\\n`` (flag ``s``)."""

    nl: bool
    pos: int


@attrs.frozen
class Assert:
    """An empty-width assertion: ``A`` (text start), ``z`` (text end), ``^``/``$`` (line, flag
    ``m``), ``b``/``B`` (ASCII word boundary or not)."""

    kind: str
    pos: int


@attrs.frozen
class Group:
    """A group; ``index`` is the capture number (1-based), ``None`` for ``(?:...)``."""

    body: Node
    index: int | None
    name: str | None
    pos: int


@attrs.frozen
class Repeat:
    """``body{lo,hi}`` (``hi`` = -1: unbounded), greedy or not (after applying ``(?U)``)."""

    body: Node
    lo: int
    hi: int
    greedy: bool
    pos: int
    end: int


@attrs.frozen
class Concat:
    """A sequence of two or more nodes."""

    items: tuple[Node, ...]
    pos: int


@attrs.frozen
class Alt:
    """An alternation of two or more branches, tried left to right."""

    branches: tuple[Node, ...]
    pos: int


Node = Lit | Set | Dot | Assert | Group | Repeat | Concat | Alt


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-nodes of ``node``."""
    if isinstance(node, Group | Repeat):
        return (node.body,)
    if isinstance(node, Concat):
        return node.items
    if isinstance(node, Alt):
        return node.branches
    return ()
