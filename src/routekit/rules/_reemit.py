"""Printing a parsed Go RE2 pattern for Python's ``re`` or for google-re2.

Both printers make every Go rule explicit, so that neither engine's own defaults leak in:

- ``^``/``$`` without ``(?m)`` are the ends of the text (``\\A``, and ``\\Z`` in Python, whose
  ``$`` would also match before a final newline);
- ``\\d``, ``\\s``, ``\\w``, ``\\b`` and the POSIX classes are ASCII, as in Go;
- ``(?i)`` and the other flags are scoped to the nodes they were set for, since Python only
  accepts global flags at the start of a pattern;
- ``(?U)`` was already applied by the parser (each repetition knows if it is greedy);
- captures are numbered, never named: names live beside the pattern, so duplicate names
  (legal in Go) cannot upset either engine.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from ._reast import (
    Alt,
    Assert,
    Concat,
    Dot,
    Group,
    Lit,
    Named,
    Node,
    RegexError,
    Repeat,
    Set,
)
from ._recharset import (
    PERL_CLASSES,
    POSIX_CLASSES,
    SCRIPTS,
    Ranges,
    category_ranges,
    fold,
    negate,
    orbit,
    union,
)

__all__ = ["set_ranges", "to_python", "to_re2"]

_ASCII_WORD = "0-9A-Za-z_"
# Go's \b is an ASCII word boundary whatever the case flag, hence (?-i:...).
_PY_ASSERT = {
    "A": r"\A",
    "z": r"\Z",
    "^": "(?m:^)",
    "$": "(?m:$)",
    "b": f"(?-i:(?<=[{_ASCII_WORD}])(?![{_ASCII_WORD}])|(?<![{_ASCII_WORD}])(?=[{_ASCII_WORD}]))",
    "B": f"(?-i:(?<=[{_ASCII_WORD}])(?=[{_ASCII_WORD}])|(?<![{_ASCII_WORD}])(?![{_ASCII_WORD}]))",
}
_RE2_NAMED: dict[str, Callable[[str, bool], str]] = {
    "perl": lambda name, neg: "\\" + (name.upper() if neg else name),
    "posix": lambda name, neg: f"[:{'^' if neg else ''}{name}:]",
    "unicode": lambda name, neg: f"\\{'P' if neg else 'p'}{{{name}}}",
}
_RE2_ASSERT = {"A": r"\A", "z": r"\z", "^": "(?m:^)", "$": "(?m:$)", "b": r"\b", "B": r"\B"}


def _ascii_char(cp: int) -> str | None:
    """Printable ASCII as both engines read it (word characters bare, the rest escaped)."""
    c = chr(cp)
    if c.isascii() and (c.isalnum() or c == "_"):
        return c
    if 0x20 < cp < 0x7F:
        return "\\" + c
    return None


def _py_char(cp: int) -> str:
    if (text := _ascii_char(cp)) is not None:
        return text
    if cp <= 0xFF:
        return f"\\x{cp:02x}"
    if cp <= 0xFFFF:
        return f"\\u{cp:04x}"
    return f"\\U{cp:08x}"


def _re2_char(cp: int) -> str:
    if (text := _ascii_char(cp)) is not None:
        return text
    return f"\\x{{{cp:x}}}"


def _named_ranges(item: Named, fold_case: bool) -> Ranges:
    if item.kind == "perl":
        ranges = PERL_CLASSES[item.name]
    elif item.kind == "posix":
        ranges = POSIX_CLASSES[item.name]
    else:
        ranges = category_ranges(item.name)
    if fold_case:
        ranges = fold(ranges)
    return negate(ranges) if item.negated else ranges


@functools.lru_cache(maxsize=1024)
def _class_ranges(
    ranges: Ranges, named: tuple[Named, ...], negated: bool, fold_case: bool
) -> Ranges:
    items = fold(ranges) if fold_case else ranges
    ranges = union(items, *(_named_ranges(n, fold_case) for n in named))
    return negate(ranges) if negated else ranges


def set_ranges(node: Set) -> Ranges:
    """Exactly the code points ``node`` matches, computed as Go's parser builds a class.

    Under ``(?i)`` each item is folded, a negated named item is negated after folding, and
    the whole set is negated last.

    Raises:
        RegexError: the set uses a Unicode script, which needs google-re2.
    """
    for item in node.named:
        if item.kind == "unicode" and item.name in SCRIPTS:
            raise RegexError(
                f"Unicode script class \\p{{{item.name}}} needs google-re2: install "
                "routekit[re2], or spell the script out as ranges",
                node.pos,
            )
    return _class_ranges(node.ranges, node.named, node.negated, node.fold)


def _ranges_text(ranges: Ranges, char: Callable[[int], str]) -> str:
    out = []
    for lo, hi in ranges:
        if lo == hi:
            out.append(char(lo))
        elif hi == lo + 1:
            out.append(char(lo) + char(hi))
        else:
            out.append(f"{char(lo)}-{char(hi)}")
    return "".join(out)


def _fold(text: str, fold: bool) -> str:
    return f"(?i:{text})" if fold else text


def to_python(node: Node) -> str:
    """The pattern text for Python's ``re`` (no flags needed at compile time)."""
    return _Printer(_py_char, _PY_ASSERT, python=True).emit(node)


def to_re2(node: Node) -> str:
    """The pattern text for google-re2 (UTF-8 mode, default options)."""
    return _Printer(_re2_char, _RE2_ASSERT, python=False).emit(node)


class _Printer:
    def __init__(
        self, char: Callable[[int], str], asserts: dict[str, str], *, python: bool
    ) -> None:
        self.char = char
        self.asserts = asserts
        self.python = python

    def emit(self, node: Node) -> str:
        if isinstance(node, Lit):
            if self.python and node.fold:
                return "".join(self.folded_char(ord(c)) for c in node.text)
            return _fold("".join(self.char(ord(c)) for c in node.text), node.fold)
        if isinstance(node, Set):
            return self.emit_set(node)
        if isinstance(node, Dot):
            if not node.nl:
                return "." if self.python else r"[^\n]"
            return r"[\x00-\U0010ffff]" if self.python else r"(?s:.)"
        if isinstance(node, Assert):
            return self.asserts[node.kind]
        if isinstance(node, Group):
            head = "(" if node.index is not None else "(?:"
            return f"{head}{self.emit(node.body)})"
        if isinstance(node, Repeat):
            return self.emit_repeat(node)
        if isinstance(node, Concat):
            return "".join(
                f"(?:{self.emit(item)})" if isinstance(item, Alt) else self.emit(item)
                for item in node.items
            )
        return "|".join(self.emit(branch) for branch in node.branches)

    def folded_char(self, cp: int) -> str:
        chars = orbit(cp)
        if len(chars) == 1:
            return self.char(cp)
        return "[" + "".join(self.char(c) for c in chars) + "]"

    def emit_set(self, node: Set) -> str:
        if self.python:
            # Python has no \p and folds differently: print the exact set, without (?i).
            ranges = set_ranges(node)
            return f"[{_ranges_text(ranges, self.char)}]" if ranges else "(?!)"
        # RE2 is Go's engine: its own class syntax keeps Go's fold-then-negate order.
        body = _ranges_text(node.ranges, self.char) + "".join(
            _RE2_NAMED[n.kind](n.name, n.negated) for n in node.named
        )
        if not body:
            return r"[\x{0}-\x{10ffff}]" if node.negated else r"[^\x{0}-\x{10ffff}]"
        return _fold(f"[{'^' if node.negated else ''}{body}]", node.fold)

    def emit_repeat(self, node: Repeat) -> str:
        body = node.body
        text = self.emit(body)
        simple = (
            (isinstance(body, Lit) and len(body.text) == 1)
            or isinstance(body, Set | Dot)
            or (isinstance(body, Group) and body.index is not None)
        )
        if not simple:
            text = f"(?:{text})"
        if (node.lo, node.hi) == (0, -1):
            op = "*"
        elif (node.lo, node.hi) == (1, -1):
            op = "+"
        elif (node.lo, node.hi) == (0, 1):
            op = "?"
        elif node.hi == node.lo:
            op = f"{{{node.lo}}}"
        elif node.hi < 0:
            op = f"{{{node.lo},}}"
        else:
            op = f"{{{node.lo},{node.hi}}}"
        return text + op + ("" if node.greedy else "?")
