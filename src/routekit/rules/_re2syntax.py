"""A parser for Go's RE2 regular-expression syntax, producing a small AST.

Traefik compiles every regexp of a rule with Go's ``regexp`` package, so routekit accepts
exactly that language (``regexp/syntax`` with ``syntax.Perl`` flags) and nothing else: a
pattern Go rejects is a :class:`RegexError` here, with the offending construct and its
position, instead of being silently read as Python ``re`` syntax.  The parser follows
``regexp/syntax/parse.go`` closely (the same escapes, the same rules for when ``{`` is a
literal, the same repeat limits); the AST is then printed for Python's ``re`` or for
google-re2 by :mod:`._reemit` and checked for backtracking hazards by :mod:`._redos`.
"""

from __future__ import annotations

import attrs

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
    children,
)
from ._recharset import CATEGORIES, POSIX_CLASSES, SCRIPTS, normalize

__all__ = [
    "MAX_DEPTH",
    "MAX_PATTERN_BYTES",
    "MAX_REPEAT",
    "Parsed",
    "parse",
]

#: Largest count allowed in ``{n,m}``, and for the product of nested counts (Go and RE2: 1000).
MAX_REPEAT = 1000
#: Longest pattern accepted, in UTF-8 bytes; a rule regexp longer than this is not a route.
MAX_PATTERN_BYTES = 4096
#: Deepest nesting of groups accepted (Go allows 1000; Python's own ``re`` compiler recurses).
MAX_DEPTH = 100

_NOT_GO = "is not supported by Go's regexp (RE2)"


@attrs.frozen
class Parsed:
    """A parsed pattern: its tree, capture count and the name of each capture (or ``None``)."""

    node: Node
    captures: int
    names: tuple[str | None, ...]


# --- the parser ---------------------------------------------------------------------------

_FOLD, _DOTNL, _MULTILINE, _UNGREEDY = 1, 2, 4, 8
_FLAG_BITS = {"i": _FOLD, "s": _DOTNL, "m": _MULTILINE, "U": _UNGREEDY}

# Constructs of other regexp dialects that Go rejects, with what they are (for the message).
_UNSUPPORTED_GROUPS = (
    ("(?=", "look-ahead assertion"),
    ("(?!", "negative look-ahead assertion"),
    ("(?<=", "look-behind assertion"),
    ("(?<!", "negative look-behind assertion"),
    ("(?>", "atomic group"),
    ("(?P=", "named back-reference"),
    ("(?P>", "recursive pattern call"),
    ("(?#", "comment group"),
    ("(?(", "conditional group"),
    ("(?|", "branch-reset group"),
    ("(?R", "recursive pattern"),
    ("(?&", "recursive pattern call"),
    ("(?'", "named group with quotes"),
)
_UNSUPPORTED_ESCAPES = {
    "Z": "\\Z (end of text before a final newline); use \\z or $",
    "C": "\\C (any single byte)",
    "G": "\\G (end of the previous match)",
    "K": "\\K (reset of the match start)",
    "R": "\\R (any line break)",
    "X": "\\X (extended grapheme cluster)",
    "h": "\\h (horizontal space)",
    "H": "\\H (not horizontal space)",
    "N": "\\N",
    "e": "\\e (escape character); use \\x1B",
    "k": "\\k (named back-reference)",
    "g": "\\g (back-reference)",
    "E": "\\E without \\Q",
    "u": "\\u escape; use \\x{...}",
    "U": "\\U escape; use \\x{...}",
    "L": "\\L (case conversion)",
    "l": "\\l (case conversion)",
}
_C_ESCAPES = {"a": "\a", "f": "\f", "t": "\t", "n": "\n", "r": "\r", "v": "\v"}
_OCTAL = "01234567"
_HEX = "0123456789abcdefABCDEF"


@attrs.define
class _Frame:
    """An open group while parsing: the branches seen so far and the flags to restore."""

    pos: int
    index: int | None
    name: str | None
    saved_flags: int
    branches: list[list[Node]] = attrs.Factory(list)
    items: list[Node] = attrs.Factory(list)


def parse(pattern: str, *, fold: bool = False, offset: int = 0) -> Parsed:
    """Parse ``pattern`` as Go RE2 syntax; ``fold`` starts with ``(?i)`` set.

    ``offset`` is added to every position (in errors and nodes), so that a pattern embedded in
    a larger text (a template) reports positions in that text.

    Raises:
        RegexError: for anything Go's ``regexp.Compile`` rejects, and for patterns longer
            than :data:`MAX_PATTERN_BYTES` or nested deeper than :data:`MAX_DEPTH`.
    """
    return _Parser(pattern, offset, _FOLD if fold else 0).run()


class _Parser:
    def __init__(self, pattern: str, offset: int, flags: int) -> None:
        self.s = pattern
        self.offset = offset
        self.flags = flags
        self.names: list[str | None] = []

    def error(self, message: str, pos: int) -> RegexError:
        return RegexError(message, pos + self.offset)

    def run(self) -> Parsed:
        s = self.s
        bad = next((i for i, c in enumerate(s) if 0xD800 <= ord(c) <= 0xDFFF), None)
        if bad is not None:
            raise self.error("invalid UTF-8 (a lone surrogate) in the pattern", bad)
        if len(s.encode()) > MAX_PATTERN_BYTES:
            raise self.error(f"pattern is longer than {MAX_PATTERN_BYTES} bytes", MAX_PATTERN_BYTES)
        stack = [_Frame(0, None, None, self.flags)]
        i, n = 0, len(s)
        last_repeat = -1  # position of the previous token if it was a repetition operator
        while i < n:
            c = s[i]
            frame = stack[-1]
            start = i
            repeated = False
            if c == "(":
                i = self.open_group(i, stack)
            elif c == "|":
                frame.branches.append(frame.items)
                frame.items = []
                i += 1
            elif c == ")":
                if len(stack) == 1:
                    raise self.error("unexpected ): no group is open", i)
                stack.pop()
                self.flags = frame.saved_flags
                stack[-1].items.append(self.close(frame, top=False))
                i += 1
            elif c in "*+?{":
                lo, hi, after = self.repeat_bounds(i)
                if after < 0:  # '{' that does not start a valid repeat is a literal (Go)
                    frame.items.append(Lit(c, self.fold, self.at(i)))
                    i += 1
                else:
                    self.repeat(frame, start, (lo, hi), after, last_repeat)
                    i = after + 1 if after < n and s[after] == "?" else after
                    repeated = True
            elif c == "[":
                i = self.char_class(i, frame.items)
            elif c == ".":
                frame.items.append(Dot(bool(self.flags & _DOTNL), self.at(i)))
                i += 1
            elif c == "^":
                frame.items.append(Assert("^" if self.flags & _MULTILINE else "A", self.at(i)))
                i += 1
            elif c == "$":
                frame.items.append(Assert("$" if self.flags & _MULTILINE else "z", self.at(i)))
                i += 1
            elif c == "\\":
                i = self.escape_outside_class(i, frame.items)
            else:
                frame.items.append(Lit(c, self.fold, self.at(i)))
                i += 1
            last_repeat = start if repeated else -1
        if len(stack) > 1:
            raise self.error("missing closing ): unterminated group", stack[-1].pos)
        return Parsed(self.close(stack[0], top=True), len(self.names), tuple(self.names))

    @property
    def fold(self) -> bool:
        return bool(self.flags & _FOLD)

    def at(self, i: int) -> int:
        return i + self.offset

    # -- groups

    def open_group(self, i: int, stack: list[_Frame]) -> int:
        s = self.s
        if len(stack) > MAX_DEPTH:
            raise self.error(f"groups are nested deeper than {MAX_DEPTH} levels", i)
        if not s.startswith("(?", i):
            self.names.append(None)
            stack.append(_Frame(i, len(self.names), None, self.flags))
            return i + 1
        if s.startswith(("(?P<", "(?<"), i) and not s.startswith(("(?<=", "(?<!"), i):
            begin = i + (4 if s[i + 2] == "P" else 3)
            end = s.find(">", begin)
            if end < 0:
                raise self.error("invalid named capture: missing '>' after the name", i)
            name = s[begin:end]
            if not name or not all(ch == "_" or ch.isalnum() for ch in name):
                raise self.error(
                    f"invalid named capture {s[i : end + 1]!r}: a name is letters, digits and '_'",
                    i,
                )
            self.names.append(name)
            stack.append(_Frame(i, len(self.names), name, self.flags))
            return end + 1
        for prefix, what in _UNSUPPORTED_GROUPS:
            if s.startswith(prefix, i):
                raise self.error(f"{what} {prefix!r} {_NOT_GO}", i)
        return self.flag_group(i, stack)

    def flag_group(self, i: int, stack: list[_Frame]) -> int:
        # (?flags) or (?flags:re), as in Go's parsePerlFlags: flags i, m, s, U, one '-'
        # negating those after it, and at least one flag after a '-'.
        s = self.s
        flags = self.flags
        negate_ = False
        saw_flag = False
        j = i + 2
        while j < len(s):
            c = s[j]
            if c in _FLAG_BITS:
                bit = _FLAG_BITS[c]
                # 'm' clears Go's OneLine flag; storing it positively keeps this uniform.
                flags = flags & ~bit if negate_ else flags | bit
                saw_flag = True
            elif c == "-" and not negate_:
                negate_ = True
                saw_flag = False
            elif c in ":)":
                if negate_ and not saw_flag:
                    break
                if c == ":":
                    stack.append(_Frame(i, None, None, self.flags))
                self.flags = flags
                return j + 1
            else:
                if c.isalpha() and c != "-":
                    raise self.error(
                        f"flag {c!r} in {s[i : j + 1]!r} is not supported: Go's regexp "
                        "knows the flags i, m, s and U",
                        j,
                    )
                break
            j += 1
        raise self.error(f"invalid or unsupported Perl syntax {s[i : j + 1]!r}", i)

    def close(self, frame: _Frame, *, top: bool) -> Node:
        branches = [*frame.branches, frame.items]
        nodes = [_concat(items, self.at(frame.pos)) for items in branches]
        body: Node = nodes[0] if len(nodes) == 1 else Alt(tuple(nodes), self.at(frame.pos))
        if top:
            return body
        return Group(body, frame.index, frame.name, self.at(frame.pos))

    # -- repetition

    def repeat_bounds(self, i: int) -> tuple[int, int, int]:
        """``(lo, hi, index after the operator)``; index -1 when ``{`` is a literal."""
        c = self.s[i]
        if c == "*":
            return 0, -1, i + 1
        if c == "+":
            return 1, -1, i + 1
        if c == "?":
            return 0, 1, i + 1
        # Go's parseRepeat: {n}, {n,} or {n,m}, decimal without leading zeros; anything
        # else (including '{,n}' and spaces) leaves '{' as a literal character.
        s = self.s
        lo, j = _parse_int(s, i + 1)
        if j < 0 or j >= len(s):
            return 0, 0, -1
        if s[j] == "}":
            hi = lo
        elif s[j] == ",":
            j += 1
            if j < len(s) and s[j] == "}":
                hi = -1
            else:
                hi, j = _parse_int(s, j)
                if j < 0 or j >= len(s) or s[j] != "}":
                    return 0, 0, -1
        else:
            return 0, 0, -1
        if lo > MAX_REPEAT or hi > MAX_REPEAT or 0 <= hi < lo or lo < 0:
            text = s[i : j + 1]
            if lo > MAX_REPEAT or hi > MAX_REPEAT:
                raise self.error(f"invalid repeat count {text}: RE2 allows at most {MAX_REPEAT}", i)
            raise self.error(f"invalid repeat count {text}: the minimum exceeds the maximum", i)
        return lo, hi, j + 1

    def repeat(
        self, frame: _Frame, start: int, bounds: tuple[int, int], after: int, last_repeat: int
    ) -> None:
        lo, hi = bounds
        s = self.s
        op = s[start:after]
        greedy = not (after < len(s) and s[after] == "?")
        if last_repeat >= 0:
            both = s[last_repeat:after]
            if op == "+":
                raise self.error(
                    f"possessive quantifier {both!r} {_NOT_GO}, which has no possessive "
                    "quantifiers or atomic groups",
                    last_repeat,
                )
            raise self.error(
                f"invalid nested repetition operator {both!r}: group the inner one, as in "
                f"(?:x{s[last_repeat:start]}){op}",
                last_repeat,
            )
        if not frame.items:
            raise self.error(f"missing argument to repetition operator {op!r}", start)
        body = frame.items.pop()
        if isinstance(body, Lit) and len(body.text) > 1:  # only ever built by \Q...\E
            frame.items.append(Lit(body.text[:-1], body.fold, body.pos))
            body = Lit(body.text[-1], body.fold, body.pos + len(body.text) - 1)
        if self.flags & _UNGREEDY:
            greedy = not greedy
        node = Repeat(body, lo, hi, greedy, body.pos, self.at(after))
        if (lo >= 2 or hi >= 2) and not _repeat_fits(node, MAX_REPEAT):
            raise self.error(
                f"nested repetition {op} exceeds RE2's limit of {MAX_REPEAT} repetitions",
                start,
            )
        frame.items.append(node)

    # -- escapes

    def escape_outside_class(self, i: int, items: list[Node]) -> int:
        s = self.s
        if i + 1 >= len(s):
            raise self.error("trailing backslash at end of expression", i)
        c = s[i + 1]
        if c in "AbBz":
            items.append(Assert(c, self.at(i)))
            return i + 2
        if c == "Q":
            end = s.find("\\E", i + 2)
            text = s[i + 2 :] if end < 0 else s[i + 2 : end]
            if text:
                items.append(Lit(text, self.fold, self.at(i + 2)))
            return len(s) if end < 0 else end + 2
        named, j = self.class_escape(i)
        if named is not None:
            items.append(Set((), (named,), False, self.fold, self.at(i)))
            return j
        ch, j = self.escape(i)
        items.append(Lit(ch, self.fold, self.at(i)))
        return j

    def class_escape(self, i: int) -> tuple[Named | None, int]:
        """A Perl (``\\d``) or Unicode (``\\pL``) class at ``i``; ``(None, -1)`` if none."""
        s = self.s
        c = s[i + 1] if i + 1 < len(s) else ""
        if c and c in "dDsSwW":
            return Named("perl", c.lower(), c.isupper()), i + 2
        if c not in ("p", "P"):
            return None, -1
        negated = c == "P"
        if i + 2 >= len(s):
            raise self.error(f"invalid Unicode class {s[i:]!r}: missing name", i)
        if s[i + 2] == "{":
            end = s.find("}", i + 3)
            if end < 0:
                raise self.error(f"invalid Unicode class {s[i:]!r}: missing '}}'", i)
            name, j = s[i + 3 : end], end + 1
        else:
            name, j = s[i + 2], i + 3
        if name.startswith("^"):
            negated, name = not negated, name[1:]
        if not (name == "Any" or name in CATEGORIES or name in SCRIPTS):
            raise self.error(f"unknown Unicode class {s[i:j]!r}", i)
        return Named("unicode", name, negated), j

    def escape(self, i: int) -> tuple[str, int]:
        """A single escaped character (Go's parseEscape): ``(char, index after)``."""
        s = self.s
        if i + 1 >= len(s):
            raise self.error("trailing backslash at end of expression", i)
        c = s[i + 1]
        j = i + 2
        if c in _C_ESCAPES:
            return _C_ESCAPES[c], j
        if c.isascii() and not c.isalnum():
            return c, j  # escaped punctuation is always itself (Go accepts \_ too)
        if c == "0" or (c in "1234567" and j < len(s) and s[j] in _OCTAL):
            # Octal: \0, \0nn, and \nn when a second octal digit follows (\1 alone would
            # be a back-reference).
            value = int(c)
            for _ in range(2):
                if j < len(s) and s[j] in _OCTAL:
                    value, j = value * 8 + int(s[j]), j + 1
            return chr(value), j
        if c in "123456789":
            raise self.error(f"back-reference \\{c} {_NOT_GO}", i)
        if c == "x":
            return self.hex_escape(i)
        if c in _UNSUPPORTED_ESCAPES:
            what, _, hint = _UNSUPPORTED_ESCAPES[c].partition("; ")
            raise self.error(f"{what} {_NOT_GO}" + (f"; {hint}" if hint else ""), i)
        raise self.error(f"invalid escape sequence {s[i:j]!r}", i)

    def hex_escape(self, i: int) -> tuple[str, int]:
        s = self.s
        j = i + 2
        if s.startswith("{", j):
            end = s.find("}", j)
            digits = s[j + 1 : end] if end > 0 else ""
            if digits and all(d in _HEX for d in digits) and len(digits) <= 8:
                value = int(digits, 16)
                if value <= 0x10FFFF:
                    if 0xD800 <= value <= 0xDFFF:
                        raise self.error(f"surrogate code point {s[i : end + 1]!r}", i)
                    return chr(value), end + 1
            raise self.error(f"invalid escape sequence {s[i : max(end + 1, j + 1)]!r}", i)
        digits = s[j : j + 2]
        if len(digits) == 2 and all(d in _HEX for d in digits):
            return chr(int(digits, 16)), j + 2
        raise self.error(f"invalid escape sequence {s[i : j + 2]!r}", i)

    # -- character classes

    def char_class(self, i: int, items: list[Node]) -> int:
        s = self.s
        j = i + 1
        negated = j < len(s) and s[j] == "^"
        if negated:
            j += 1
        ranges: list[tuple[int, int]] = []
        named: list[Named] = []
        first = True
        while True:
            if j >= len(s):
                raise self.error(f"missing closing ]: {s[i:]!r}", i)
            if s[j] == "]" and not first:
                break
            first = False
            if s.startswith("[:", j):
                k = s.find(":]", j + 2)
                if k >= 0:
                    text = s[j : k + 2]
                    name = text[2:-2].removeprefix("^")
                    if name not in POSIX_CLASSES:
                        raise self.error(f"invalid POSIX class {text!r}", j)
                    named.append(Named("posix", name, text.startswith("[:^")))
                    j = k + 2
                    continue
            if s[j] == "\\":
                item, k = self.class_escape(j)
                if item is not None:
                    named.append(item)
                    j = k
                    continue
            lo, j = self.class_char(j, i)
            hi = lo
            if j + 1 < len(s) and s[j] == "-" and s[j + 1] != "]":
                start = j - 1
                hi, j = self.class_char(j + 1, i)
                if hi < lo:
                    raise self.error(f"invalid character class range {s[start:j]!r}", start)
            ranges.append((ord(lo), ord(hi)))
        items.append(Set(normalize(ranges), tuple(named), negated, self.fold, self.at(i)))
        return j + 1

    def class_char(self, j: int, start: int) -> tuple[str, int]:
        s = self.s
        if j >= len(s):
            raise self.error(f"missing closing ]: {s[start:]!r}", start)
        if s[j] == "\\":
            if s.startswith("\\b", j):
                raise self.error(
                    "\\b inside a character class is not supported by Go's regexp; "
                    "use \\x08 for a backspace",
                    j,
                )
            if s.startswith("\\Q", j):
                raise self.error("\\Q inside a character class is not supported", j)
            return self.escape(j)
        return s[j], j + 1


def _parse_int(s: str, i: int) -> tuple[int, int]:
    """Go's parseInt: decimal digits without a leading zero; ``(value, end)``, end -1 if none.

    Values over 10^8 are returned as a large number (Go reports them as too big).
    """
    j = i
    while j < len(s) and "0" <= s[j] <= "9":
        j += 1
    if j == i or (j - i >= 2 and s[i] == "0"):
        return 0, -1
    digits = s[i:j]
    return (int(digits) if len(digits) <= 9 else 10**9), j


def _repeat_fits(node: Node, limit: int) -> bool:
    # Go's repeatIsValid: the product of nested repeat counts must stay within the limit.
    if isinstance(node, Repeat):
        count = node.hi if node.hi >= 0 else node.lo
        if count > limit:
            return False
        if count > 0:
            limit //= count
        return _repeat_fits(node.body, limit)
    return all(_repeat_fits(child, limit) for child in children(node))


def _concat(items: list[Node], pos: int) -> Node:
    # Adjacent literals with the same case flag become one string, as in Go's parser.
    merged: list[Node] = []
    for item in items:
        prev = merged[-1] if merged else None
        if isinstance(item, Lit) and isinstance(prev, Lit) and prev.fold == item.fold:
            merged[-1] = Lit(prev.text + item.text, prev.fold, prev.pos)
        else:
            merged.append(item)
    if len(merged) == 1:
        return merged[0]
    return Concat(tuple(merged), merged[0].pos if merged else pos)
