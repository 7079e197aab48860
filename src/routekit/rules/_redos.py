"""Refusing patterns that would make Python's backtracking ``re`` engine stall.

Only used when google-re2 is not installed: RE2 matches in linear time whatever the pattern,
but Python's ``re`` backtracks, and a pattern from a Docker label can be written to take
exponential (``(a+)+$``) or high-polynomial (``.*a.*a.*b``) time on a crafted request.  The
checks here are static and conservative: they accept the shapes routing rules are made of
(``[a-z0-9-]+\\.``-style label repetitions, ``^/api/.*$``, alternations of distinct words)
and refuse, with the reason and the fix, anything whose backtracking can explode:

1. A repeated sub-pattern (``*``, ``+``, ``{n,m}`` with m > 1) that can match text of varying
   length must contain a *separator*: a single mandatory character that none of its
   variable parts can match (the ``\\.`` in ``([a-z]+\\.)*``).  Without one, successive
   iterations can split the same text in exponentially many ways: ``(a+)+``, ``(a*)*``,
   ``(.*a){20}``, ``(\\w+\\s?)+``.  Between separators (and across the wrap-around from one
   iteration to the next) the variable parts must not overlap each other (``(a+ba+)*``).
2. An alternation inside a repetition must not have branches that can start the same match:
   ``(a|a)*``, ``(a|ab)*``, ``(\\w+|\\d+)*``.
3. At most two unbounded repetitions that can consume the same characters may follow each
   other (counting the implicit ``.*?`` of an unanchored search as one): three give cubic
   time on a long path.

What passes these checks can still take time quadratic in the length of the text (an
unanchored search retries at every position, and a repetition may run to the end each time:
``([a-z0-9-]+\\.)*example\\.com`` spends 0.3 s on an 8 KiB crafted host).  So the fallback
engine also bounds the text: a pattern that can repeat without bound (unless it is anchored at
the start of the text with ``^`` and repeats only once) never matches a text
longer than :data:`MAX_FALLBACK_SUBJECT` characters (see `_regex`), which keeps the worst case
under 0.1 s.
"""

from __future__ import annotations

import itertools

from ._reast import Alt, Assert, Concat, Dot, Group, Lit, Node, RegexError, Repeat, Set
from ._reast import children as _children
from ._recharset import MAX_CHAR, Ranges, fold, overlaps, union
from ._reemit import set_ranges

__all__ = ["MAX_FALLBACK_SUBJECT", "check_backtracking", "needs_bounded_text"]

#: Longest text a pattern with an unbounded repetition is searched in by Python's ``re``.
#: Hosts are at most 253 characters, and paths and header values that routing rules look at
#: are far shorter than this in practice; a longer one is not matched rather than risked.
MAX_FALLBACK_SUBJECT = 2048

_HINT = "install routekit[re2] for linear-time matching, or rewrite the pattern"
_INF = -1
_ALL: Ranges = ((0, MAX_CHAR),)
_NOT_NL: Ranges = ((0, 9), (11, MAX_CHAR))


def check_backtracking(node: Node, source: str) -> None:
    """Raise :class:`RegexError` if matching ``node`` with Python's ``re`` could stall.

    ``source`` is the text the positions of ``node`` refer to (the pattern, or the template a
    variable's pattern sits in), used to quote the offending part in the message.
    """
    _Checker(source).run(node)


def needs_bounded_text(node: Node) -> bool:
    """Whether searching ``node`` can cost time quadratic in the text (see the module notes).

    That takes an unbounded repetition and either an unanchored start (the search is retried at
    every position) or a second unbounded repetition (``^.*a.*b``: each split is retried).  A
    search anchored at the start (``^…`` without the ``m`` flag) with one repetition is linear.
    """
    unbounded = _unbounded_repeats(node)
    return unbounded > 1 or (unbounded == 1 and not _anchored_at_start(node))


def _unbounded_repeats(node: Node) -> int:
    own = 1 if isinstance(node, Repeat) and node.hi == _INF else 0
    return own + sum(_unbounded_repeats(child) for child in _children(node))


def _anchored_at_start(node: Node) -> bool:
    while True:
        if isinstance(node, Assert):
            return node.kind == "A"
        if isinstance(node, Group):
            node = node.body
        elif isinstance(node, Concat) and node.items:
            node = node.items[0]
        elif isinstance(node, Alt):
            return all(_anchored_at_start(branch) for branch in node.branches)
        else:
            return False


def _charset(node: Node) -> Ranges:
    """Every character ``node`` can consume (an over-approximation)."""
    if isinstance(node, Lit):
        ranges = union(*(((ord(c), ord(c)),) for c in node.text))
        return fold(ranges) if node.fold else ranges
    if isinstance(node, Set):
        return set_ranges(node)
    if isinstance(node, Dot):
        return _ALL if node.nl else _NOT_NL
    return union(*(_charset(child) for child in _children(node)))


def _length(node: Node) -> tuple[int, int]:
    """The shortest and longest text ``node`` matches (-1: unbounded)."""
    if isinstance(node, Lit):
        return len(node.text), len(node.text)
    if isinstance(node, Set | Dot):
        return 1, 1
    if isinstance(node, Assert):
        return 0, 0
    if isinstance(node, Group):
        return _length(node.body)
    if isinstance(node, Repeat):
        lo, hi = _length(node.body)
        top = _INF if _INF in (hi, node.hi) else hi * node.hi
        return lo * node.lo, top
    if isinstance(node, Concat):
        lengths = [_length(item) for item in node.items]
        top = _INF if any(h == _INF for _, h in lengths) else sum(h for _, h in lengths)
        return sum(lo for lo, _ in lengths), top
    lengths = [_length(branch) for branch in node.branches]
    top = _INF if any(h == _INF for _, h in lengths) else max(h for _, h in lengths)
    return min(lo for lo, _ in lengths), top


def _first(node: Node) -> tuple[Ranges, bool]:
    """The characters a match of ``node`` can start with, and whether it can be empty."""
    if isinstance(node, Lit):
        return _charset(Lit(node.text[:1], node.fold, node.pos)), not node.text
    if isinstance(node, Set | Dot):
        return _charset(node), False
    if isinstance(node, Assert):
        return (), True
    if isinstance(node, Group):
        return _first(node.body)
    if isinstance(node, Repeat):
        ranges, empty = _first(node.body)
        return ranges, empty or node.lo == 0
    if isinstance(node, Concat):
        parts: list[Ranges] = []
        for item in node.items:
            ranges, empty = _first(item)
            parts.append(ranges)
            if not empty:
                return union(*parts), False
        return union(*parts), True
    firsts = [_first(branch) for branch in node.branches]
    return union(*(r for r, _ in firsts)), any(e for _, e in firsts)


def _literal(node: Node) -> str | None:
    """The text ``node`` matches if it is a plain (case-sensitive) literal, else ``None``."""
    if isinstance(node, Lit) and not node.fold:
        return node.text
    if isinstance(node, Group):
        return _literal(node.body)
    if isinstance(node, Concat):
        parts = [_literal(item) for item in node.items]
        return None if None in parts else "".join(p for p in parts if p is not None)
    return None


def _flatten(node: Node) -> list[Node]:
    """``node`` as a sequence: groups opened, concatenations spread, literals split."""
    if isinstance(node, Group):
        return _flatten(node.body)
    if isinstance(node, Concat):
        return [part for item in node.items for part in _flatten(item)]
    if isinstance(node, Lit) and len(node.text) > 1:
        return [Lit(c, node.fold, node.pos + k) for k, c in enumerate(node.text)]
    return [node]


def _is_char(node: Node) -> bool:
    return isinstance(node, Set | Dot) or (isinstance(node, Lit) and len(node.text) == 1)


def _variable(node: Node) -> bool:
    lo, hi = _length(node)
    return lo != hi


def _ambiguous_branches(alt: Alt) -> bool:
    # Literal branches clash when one is a prefix of another ("a" and "ab"); in sorted order
    # such a prefix sits right before a string that extends it.  Other branches clash with
    # anything that can start with the same character, or when two can match nothing.
    literals: list[str] = []
    others: list[Node] = []
    for branch in alt.branches:
        text = _literal(branch)
        if text is None:
            others.append(branch)
        else:
            literals.append(text)
    literals.sort()
    if any(b.startswith(a) for a, b in itertools.pairwise(literals)):
        return True
    seen = union(*(_first(Lit(text[:1], False, 0))[0] for text in literals))
    empties = sum(1 for text in literals if not text)
    for branch in others:
        first, empty = _first(branch)
        empties += empty
        if empties > 1 or overlaps(first, seen):
            return True
        seen = union(seen, first)
    return False


def _walk(node: Node) -> list[Node]:
    out = [node]
    for child in _children(node):
        out.extend(_walk(child))
    return out


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source

    def refuse(self, why: str, node: Node) -> RegexError:
        start = node.pos
        stop = node.end if isinstance(node, Repeat) else start + 1
        part = self.source[start:stop] if 0 <= start < stop else ""
        quoted = f" {part!r}" if part else ""
        return RegexError(f"unsafe pattern without google-re2:{quoted} {why}; {_HINT}", node.pos)

    def run(self, node: Node) -> None:
        for sub in _walk(node):
            if isinstance(sub, Repeat) and (sub.hi == _INF or sub.hi > 1):
                self.check_repeat(sub)
        self.check_chains(node)

    def check_repeat(self, rep: Repeat) -> None:
        for sub in _walk(rep.body):
            if isinstance(sub, Alt) and _ambiguous_branches(sub):
                raise self.refuse(
                    "repeats an alternation whose branches can match the same text, so "
                    "backtracking can try exponentially many combinations",
                    rep,
                )
        if not _variable(rep.body):
            return
        elements = _flatten(rep.body)
        if (
            len(elements) == 1
            and isinstance(elements[0], Alt)
            and not any(_variable(b) for b in elements[0].branches)
        ):
            # Fixed-length branches with distinct first characters (checked above): each
            # repetition is decided by its first character.
            return
        varying = [e for e in elements if _variable(e)]
        var_chars = union(*(_charset(e) for e in varying))
        cuts = [
            k
            for k, e in enumerate(elements)
            if _is_char(e) and not overlaps(_charset(e), var_chars)
        ]
        nested = (
            "repeats a sub-pattern of varying length with no character that separates "
            "one repetition from the next (nested quantifiers), so backtracking can take "
            "exponential time"
        )
        if not cuts:
            raise self.refuse(nested, rep)
        segments: list[list[Node]] = []
        start = 0
        for k in cuts:
            segments.append(elements[start:k])
            start = k + 1
        # The text after the last separator runs into the next repetition's first part.
        segments[0] = elements[start:] + segments[0]
        for segment in segments:
            parts = [_charset(e) for e in segment if _variable(e)]
            for i, a in enumerate(parts):
                if any(overlaps(a, b) for b in parts[i + 1 :]):
                    raise self.refuse(nested, rep)

    def check_chains(self, node: Node) -> None:
        # Polynomial blow-up: k unbounded repetitions over shared characters cost O(n^k)
        # on a failing match; an unanchored search adds one more factor.
        if isinstance(node, Alt):
            for branch in node.branches:
                self.check_chains(branch)
            return
        elements = _flatten(node)
        anchored = bool(elements) and isinstance(elements[0], Assert) and elements[0].kind == "A"
        if elements and isinstance(elements[-1], Repeat) and elements[-1].hi == _INF:
            elements = elements[:-1]  # a final unbounded repetition never backtracks
        chain, prev = (0, None) if anchored else (1, _ALL)
        for element in elements:
            if isinstance(element, Alt):
                self.check_chains(element)
            if _length(element)[1] == _INF:
                chars = _charset(element)
                chain = chain + 1 if prev is not None and overlaps(chars, prev) else 1
                prev = chars
                if chain >= 3:
                    raise self.refuse(
                        "chains three or more unbounded repetitions over the same "
                        "characters, which takes polynomial time of high degree on long "
                        "input",
                        element,
                    )
            elif _is_char(element) and prev is not None and not overlaps(_charset(element), prev):
                chain, prev = 0, None
