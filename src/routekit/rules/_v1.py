"""v1 rules (``Host:a.com,b.com;PathPrefix:/api``): Traefik 1.7's parser, into routekit nodes.

``parseRules`` (``v1.7:rules/rules.go``) splits a rule with Go's ``strings.FieldsFunc`` three
times: on ``;`` (segments), on ``:`` (function name, then the remaining fields re-joined with
``:``) and on ``,`` (arguments).  ``FieldsFunc`` drops empty fields, which is why ``;;`` is
harmless and ``::`` collapses to ``:``.  Names and arguments are trimmed with Go's
``strings.TrimSpace``.  This module keeps the offset of every piece in the original text so that
errors can point at it.  Each function then becomes nodes as ``rules.go`` builds its gorilla/mux
matchers (``Host`` → `Host` alternatives, ``Headers`` → `Header` pairs, strips and rewrites → the
v1 modifier nodes).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from typing import Final, TypeVar, final

import attrs

from ..errors import RuleSyntaxError
from ._ast import (
    AddPrefix,
    And,
    Header,
    HeaderRegexp,
    Host,
    HostTemplate,
    Method,
    Node,
    Or,
    PathPrefixStrip,
    PathPrefixStripRegex,
    PathStrip,
    PathStripRegex,
    Query,
    QueryTemplate,
    ReplacePath,
    ReplacePathRegex,
)
from ._http import path_node
from ._regex import compile_regexp

__all__ = [
    "V1_FUNCTIONS",
    "Piece",
    "Segment",
    "go_trim_space",
    "looks_like_v1",
    "parse_v1",
    "query_node",
    "split_v1",
]

#: The function names of ``v1.7:rules/rules.go`` (``parseRules``' map); case-sensitive.
V1_FUNCTIONS: Final = (
    "Host",
    "HostRegexp",
    "Path",
    "PathStrip",
    "PathStripRegex",
    "PathPrefix",
    "PathPrefixStrip",
    "PathPrefixStripRegex",
    "Method",
    "Headers",
    "HeadersRegexp",
    "AddPrefix",
    "ReplacePath",
    "ReplacePathRegex",
    "Query",
)

_N = TypeVar("_N")
_BY_LOWER: Final = {n.lower(): n for n in V1_FUNCTIONS}
_SURROGATE: Final = re.compile("[\ud800-\udfff]")

# Go's unicode.IsSpace set (what strings.TrimSpace removes).  Python's str.strip() would also
# remove U+001C..U+001F, which Go keeps.
_GO_SPACE: Final = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


def go_trim_space(text: str) -> tuple[str, int]:
    """``strings.TrimSpace``: the trimmed text and how many characters were cut on the left."""
    left = len(text) - len(text.lstrip(_GO_SPACE))
    return text.strip(_GO_SPACE), left


@final
@attrs.frozen
class Piece:
    """A trimmed piece of v1 rule text and its offset in the whole rule."""

    text: str
    position: int


@final
@attrs.frozen
class Segment:
    """One ``Name: arg, arg`` segment of a v1 rule (the text between two ``;``)."""

    name: Piece
    args: tuple[Piece, ...]
    #: Offset of the segment's first character and the segment text itself.
    position: int
    text: str


def _fields(text: str, sep: str, offsets: list[int]) -> list[tuple[str, list[int]]]:
    """``strings.FieldsFunc(text, c == sep)`` keeping each character's offset in the rule."""
    out: list[tuple[str, list[int]]] = []
    start = -1
    for i, c in enumerate(text):
        if c == sep:
            if start >= 0:
                out.append((text[start:i], offsets[start:i]))
                start = -1
        elif start < 0:
            start = i
    if start >= 0:
        out.append((text[start:], offsets[start:]))
    return out


def _trimmed(text: str, offsets: list[int], fallback: int) -> Piece:
    trimmed, left = go_trim_space(text)
    return Piece(trimmed, offsets[left] if left < len(offsets) else fallback)


def split_v1(rule: str) -> tuple[Segment, ...]:
    """Split a v1 rule into segments exactly like Traefik 1.7, or raise :class:`RuleSyntaxError`.

    Raises for: an empty rule (also one made only of ``;`` and spaces, which Traefik would turn
    into a route without matchers — routekit refuses it), a segment made only of ``:``, an unknown
    function name (with a "did you mean" hint), a function without arguments, and an argument
    that is empty once trimmed (``Host: a.com, ,b.com``; Traefik would keep ``""``).
    """
    if not go_trim_space(rule.replace(";", ""))[0]:
        raise RuleSyntaxError(
            "empty rule", rule, 0, "a v1 rule looks like Host:example.com;PathPrefix:/api"
        )
    surrogate = _SURROGATE.search(rule)
    if surrogate:
        # Go reads rules as UTF-8 text: a lone surrogate cannot be in one.
        raise RuleSyntaxError("invalid character (a lone surrogate)", rule, surrogate.start())
    segments: list[Segment] = []
    for seg_text, seg_offsets in _fields(rule, ";", list(range(len(rule)))):
        seg_pos = seg_offsets[0]
        seg_end = seg_offsets[-1] + 1
        parts = _fields(seg_text, ":", seg_offsets)
        if not parts:
            raise RuleSyntaxError(
                "missing function name", rule, seg_pos, "a segment looks like Name:value"
            )
        name_text, name_offsets = parts[0]
        name = _trimmed(name_text, name_offsets, seg_pos)
        if name.text not in V1_FUNCTIONS:
            raise _unknown_function(rule, name)
        # Re-join the remaining fields with ":" (Traefik's strings.Join) — the offsets of the
        # joining colons are those of the first colon that followed each field.
        joined: list[str] = []
        joined_offsets: list[int] = []
        for i, (text, offsets) in enumerate(parts[1:]):
            if i:
                joined.append(":")
                joined_offsets.append(offsets[0] - 1)
            joined.append(text)
            joined_offsets.extend(offsets)
        args: list[Piece] = []
        for arg_text, arg_offsets in _fields("".join(joined), ",", joined_offsets):
            arg = _trimmed(arg_text, arg_offsets, arg_offsets[0])
            if not arg.text:
                raise RuleSyntaxError(
                    f"empty value in {name.text}",
                    rule,
                    arg_offsets[0],
                    "remove the extra ',' (routekit refuses values that are only spaces)",
                )
            args.append(arg)
        if not args:
            raise RuleSyntaxError(
                f"{name.text} has no value",
                rule,
                seg_end,
                f"write {name.text}:value (',' separates alternatives)",
            )
        segments.append(Segment(name, tuple(args), seg_pos, seg_text))
    return tuple(segments)


def _unknown_function(rule: str, name: Piece) -> RuleSyntaxError:
    if not name.text:
        return RuleSyntaxError(
            "missing function name", rule, name.position, "a segment looks like Name:value"
        )
    if "(" in name.text:
        return RuleSyntaxError(
            f"unknown v1 function {name.text!r}",
            rule,
            name.position,
            "this looks like a v2/v3 rule: parse it with syntax='v3' (or 'v2')",
        )
    return RuleSyntaxError(
        f"unknown v1 function {name.text!r}", rule, name.position, _suggest(name.text)
    )


def looks_like_v1(text: str) -> bool:
    """Whether ``text`` is written in the v1 colon form (``Host:a.com;PathPrefix:/api``).

    True when the first ``;`` segment starts with a function name followed by ``:`` — a v1 name,
    or one close enough to a v1 name (``host:``, ``Hots:``) that the v1 parser's "did you mean"
    error is the helpful one.  No v2/v3 rule starts with ``Name:``, so this never steals one.
    """
    for segment in text.split(";"):
        if not segment:
            continue
        if ":" not in segment:
            return False
        name = go_trim_space(next((f for f in segment.split(":") if f), ""))[0]
        return name in V1_FUNCTIONS or _close_v1_name(name) is not None
    return False


def _close_v1_name(name: str) -> str | None:
    if not name.isidentifier():
        return None
    close = _BY_LOWER.get(name.lower())
    if close is None:
        matches = difflib.get_close_matches(name, V1_FUNCTIONS, n=1, cutoff=0.75)
        close = matches[0] if matches else None
    return close


def _suggest(name: str) -> str:
    """A "did you mean" hint for a misspelt v1 function name (names are case-sensitive)."""
    close = _close_v1_name(name)
    if close is not None:
        return f"did you mean {close!r}? (v1 function names are case-sensitive)"
    return "v1 functions: " + ", ".join(V1_FUNCTIONS)


# -- from segments to nodes ----------------------------------------------------------------------


def parse_v1(text: str) -> Node:
    """Parse a v1 rule (``Host:a.com,b.com;PathPrefix:/api``) into a normalised node tree.

    ``;`` segments become an `And`, the ``,`` alternatives of a matcher an `Or`; modifiers become
    the v1 nodes (`PathStrip`…, `AddPrefix`…).  Raises :class:`RuleSyntaxError` and nothing else.
    """
    return And.of(*(_BUILDERS[s.name.text](text, s) for s in split_v1(text)))


def _node(rule: str, segment: Segment, arg: Piece, make: Callable[..., _N], *values: str) -> _N:
    """Build a node from *arg*, turning a rejected value into a `RuleSyntaxError` pointing at it."""
    try:
        return make(*values)
    except RuleSyntaxError:
        raise
    except ValueError as exc:
        # RegexError carries the offset inside the pattern, which starts where the value does.
        offset = getattr(exc, "position", 0)
        message = getattr(exc, "message", None) or str(exc)
        raise RuleSyntaxError(
            f"invalid value in {segment.name.text}: {message}", rule, arg.position + offset
        ) from None


def _any_of(rule: str, segment: Segment, make: Callable[[str], Node]) -> Node:
    return Or.of(*(_node(rule, segment, a, make, a.text) for a in segment.args))


def _host(rule: str, segment: Segment) -> Node:
    return _any_of(rule, segment, Host)


def _host_regexp(rule: str, segment: Segment) -> Node:
    return _any_of(rule, segment, _host_template)


def _host_template(value: str) -> Node:
    # rules.go hostRegexp: router.Host(types.CanonicalDomain(host)) lower-cases the whole
    # template, its regular expressions included.
    return HostTemplate(value.lower())


# rules.go: Path is gorilla's Path (without "{" an exact match, the plain Path node); PathPrefix
# without "{" is a raw strings.HasPrefix (buildPath), so "api" never matches and "/api" matches
# "/apiary"; with "{" both are gorilla templates.  `path_node` builds exactly that.
def _exact_path(value: str) -> Node:
    return path_node(value)


def _prefix_path(value: str) -> Node:
    return path_node(value, prefix=True)


def _path(rule: str, segment: Segment) -> Node:
    return _any_of(rule, segment, _exact_path)


def _path_prefix(rule: str, segment: Segment) -> Node:
    return _any_of(rule, segment, _prefix_path)


def _strip(node: Callable[[tuple[str, ...]], Node], *, prefix: bool) -> _Builder:
    def build(rule: str, segment: Segment) -> Node:
        # Validate value by value so that an error points at the faulty one.
        for arg in segment.args:
            _node(rule, segment, arg, _prefix_path if prefix else _exact_path, arg.text)
        return node(tuple(a.text for a in segment.args))

    return build


def _method(rule: str, segment: Segment) -> Node:
    return _any_of(rule, segment, Method)


def _pairs(rule: str, segment: Segment, items: list[Piece], what: str) -> list[tuple[Piece, Piece]]:
    if len(items) % 2:
        raise RuleSyntaxError(
            f"{segment.name.text} takes {what} pairs, got an odd number of items ({len(items)})",
            rule,
            items[-1].position,
            "',' does not mean 'or' here: every pair must match",
        )
    # gorilla/mux keeps the pairs in a map: a repeated key keeps its last value.
    last: dict[str, tuple[Piece, Piece]] = {}
    for i in range(0, len(items), 2):
        last[items[i].text] = (items[i], items[i + 1])
    return list(last.values())


def _headers(rule: str, segment: Segment) -> Node:
    pairs = _pairs(rule, segment, list(segment.args), "name, value")
    return And.of(*(_node(rule, segment, k, Header, k.text, v.text) for k, v in pairs))


def _headers_regexp(rule: str, segment: Segment) -> Node:
    pairs = _pairs(rule, segment, list(segment.args), "name, regexp")
    return And.of(*(_node(rule, segment, v, HeaderRegexp, k.text, v.text) for k, v in pairs))


def _query(rule: str, segment: Segment) -> Node:
    # rules.go query: every argument is split on *every* "=" and the pieces are handed to
    # gorilla's Queries as one flat key, value, key, value… list (not trimmed again).
    items: list[Piece] = []
    for arg in segment.args:
        offset = arg.position
        for piece in arg.text.split("="):
            items.append(Piece(piece, offset))
            offset += len(piece) + 1
    nodes: list[Node] = []
    for key, value in _pairs(rule, segment, items, "key=value"):
        if "{" in key.text:
            raise RuleSyntaxError(
                "a template in a Query key is not supported",
                rule,
                key.position,
                "templates are allowed in the value: Query:id={id:[0-9]+}",
            )
        nodes.append(_node(rule, segment, value, query_node, key.text, value.text))
    return And.of(*nodes)


def query_node(key: str, value: str) -> Node:
    """The node of one gorilla ``Queries`` pair (v1 ``Query:k=v``, v2 ``Query(`k=v`)``).

    An empty value matches any value of a present key and a value with ``{`` is a template:
    both are `QueryTemplate`; a plain value is a `Query`.
    """
    if not value or "{" in value:
        return QueryTemplate(key, value)
    return Query(key, value)


def _single(rule: str, segment: Segment) -> Piece:
    if len(segment.args) > 1:
        raise RuleSyntaxError(
            f"{segment.name.text} takes one value, got {len(segment.args)}",
            rule,
            segment.args[1].position,
            "Traefik 1.7 silently kept the last one; remove the others "
            "(a ',' cannot appear in a v1 value)",
        )
    return segment.args[0]


def _add_prefix(rule: str, segment: Segment) -> Node:
    return AddPrefix(_single(rule, segment).text)


def _replace_path(rule: str, segment: Segment) -> Node:
    return ReplacePath(_single(rule, segment).text)


def _replace_path_regex(rule: str, segment: Segment) -> Node:
    arg = _single(rule, segment)
    # server.go wireFrontendBackend: strings.Split(value, " ") must give exactly two parts
    # (Traefik only logged a warning and ignored the modifier; routekit refuses the rule).
    parts = arg.text.split(" ")
    if len(parts) != 2:
        raise RuleSyntaxError(
            "ReplacePathRegex takes a regular expression and a replacement separated by one space",
            rule,
            arg.position,
            "e.g. ReplacePathRegex: ^/api/(.*) /$1",
        )
    _node(rule, segment, arg, compile_regexp, parts[0])
    return ReplacePathRegex(parts[0], parts[1])


_Builder = Callable[[str, Segment], Node]

_BUILDERS: Final[dict[str, _Builder]] = {
    "Host": _host,
    "HostRegexp": _host_regexp,
    "Path": _path,
    "PathStrip": _strip(PathStrip, prefix=False),
    "PathStripRegex": _strip(PathStripRegex, prefix=False),
    "PathPrefix": _path_prefix,
    "PathPrefixStrip": _strip(PathPrefixStrip, prefix=True),
    "PathPrefixStripRegex": _strip(PathPrefixStripRegex, prefix=True),
    "Method": _method,
    "Headers": _headers,
    "HeadersRegexp": _headers_regexp,
    "AddPrefix": _add_prefix,
    "ReplacePath": _replace_path,
    "ReplacePathRegex": _replace_path_regex,
    "Query": _query,
}
