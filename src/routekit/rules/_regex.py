"""Go RE2 regular expressions and gorilla/mux templates, matched safely from Python.

Traefik's ``HostRegexp``, ``PathRegexp``, ``HeaderRegexp``… take Go regexps, and its v1/v2
``{name:re}`` templates are gorilla/mux's.  :func:`compile_regexp` and
:func:`compile_template` accept exactly Go's syntax (see :mod:`._re2syntax`), then match with
google-re2 when it is installed (``routekit[re2]``: linear time, whatever the pattern) or with
Python's ``re`` after a translation that keeps Go's meaning (:mod:`._reemit`) and a static
check that refuses patterns whose backtracking could stall the process (:mod:`._redos`).

Patterns can come from Docker labels, so neither path may let a hostile pattern hang a
request: with re2 the matcher is linear; with ``re`` the dangerous shapes are refused at
compile time, and pattern size and repetition counts are bounded in both.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from typing import Final, Literal, final

import attrs

from ._re2syntax import MAX_PATTERN_BYTES, parse
from ._reast import Alt, Assert, Concat, Group, Lit, Node, RegexError, Repeat, Set
from ._recharset import negate
from ._redos import MAX_FALLBACK_SUBJECT, check_backtracking, needs_bounded_text
from ._reemit import to_python, to_re2

try:
    from re2 import Options as _Re2Options
    from re2 import _re2 as _re2_native

    _UNANCHORED = _re2_native.RE2.Anchor.UNANCHORED
    HAVE_RE2 = True
except ImportError:  # pragma: no cover - exercised only without the re2 extra
    HAVE_RE2 = False

__all__ = [
    "DEFAULT_ENGINE",
    "HAVE_RE2",
    "Engine",
    "RegexError",
    "Regexp",
    "brace_spans",
    "compile_regexp",
    "compile_template",
    "go_quote_meta",
    "template_regexp",
]

#: The matching engines: ``"re2"`` (google-re2) or ``"re"`` (Python's, with safety checks).
Engine = Literal["re", "re2"]


def _default_engine() -> Engine:
    chosen = os.environ.get("ROUTEKIT_REGEX_ENGINE", "")
    if chosen == "re" or (not chosen and not HAVE_RE2):
        return "re"
    if chosen in ("", "re2") and HAVE_RE2:
        return "re2"
    raise ImportError(
        f"ROUTEKIT_REGEX_ENGINE={chosen!r}: use 're', or 're2' with google-re2 installed"
    )


#: The engine used when a call does not name one: RE2 when installed.  The environment
#: variable ``ROUTEKIT_REGEX_ENGINE=re`` chooses Python's even then (to test what users without
#: google-re2 get); a value that names no engine, or ``re2`` without it, is an error at import.
DEFAULT_ENGINE: Engine = _default_engine()

# gorilla/mux's defaultPattern: a host variable stops at a dot, a path variable at a slash.
_HOST_DEFAULT = negate(((ord("."), ord(".")),))
_PATH_DEFAULT = negate(((ord("/"), ord("/")),))

# Largest translated pattern handed to Python's re (about 0.1 s of compile time).
_MAX_PYTHON_PATTERN = 100_000

_Search = Callable[[str], object]
_Spans = Callable[[str, int], "list[tuple[int, int]] | None"]


@final
class Regexp:
    """A compiled Go regexp or gorilla template.

    Attributes:
        pattern: the source text (the regexp, or the template).
        engine: ``"re2"`` or ``"re"``, the engine that matches it.
    """

    __slots__ = ("_key", "_names", "_search", "_spans", "engine", "pattern")

    def __init__(
        self,
        pattern: str,
        *,
        engine: Engine,
        search: _Search,
        spans: _Spans,
        names: dict[str, int],
        key: tuple[object, ...],
    ) -> None:
        self.pattern = pattern
        self.engine: Engine = engine
        self._search = search
        self._spans = spans
        self._names = names
        self._key = key

    def search(self, text: str) -> bool:
        """Whether the expression matches anywhere in ``text`` (templates are anchored)."""
        return self._search(text) is not None

    def groups(self, text: str) -> dict[str, str] | None:
        """The named groups (template variables) of the first match, or ``None``.

        A group that took no part in the match is ``""``, as in Go.
        """
        spans = self._spans(text, 0)
        if spans is None:
            return None
        return {name: _slice(text, spans[index]) for name, index in self._names.items()}

    def find(self, text: str) -> str | None:
        """The leftmost match in ``text`` (Go's ``FindString``), or ``None``."""
        spans = self._spans(text, 0)
        return None if spans is None else text[spans[0][0] : spans[0][1]]

    def replace_all(self, text: str, template: str) -> str:
        """Go's ``ReplaceAllString``: every match replaced by ``template`` expanded.

        ``$1``, ``${1}``, ``$name`` and ``${name}`` stand for groups (a group that took no part,
        or does not exist, is empty; ``$1x`` names the group ``1x``), and ``$$`` for ``$``.
        An empty match right after a match is not replaced, as in Go.
        """
        out: list[str] = []
        last = 0
        pos = 0
        end = len(text)
        while pos <= end:
            spans = self._spans(text, pos)
            if spans is None:
                break
            lo, hi = spans[0]
            out.append(text[last:lo])
            if hi > last or lo == 0:
                out.append(_expand(template, text, spans, self._names))
            last = hi
            pos = pos + 1 if pos + 1 > hi else hi  # always advance at least one character
        out.append(text[last:])
        return "".join(out)

    def __repr__(self) -> str:
        return f"<Regexp {self.pattern!r} engine={self.engine}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Regexp) and other._key == self._key

    def __hash__(self) -> int:
        return hash(self._key)


def _slice(text: str, span: tuple[int, int]) -> str:
    return text[span[0] : span[1]] if span[0] >= 0 else ""


_WORD: Final = re.compile(r"\w+", re.ASCII)


def _expand(template: str, text: str, spans: list[tuple[int, int]], names: dict[str, int]) -> str:
    """Go's ``Regexp.Expand`` of *template* for one match."""
    out: list[str] = []
    i = 0
    while True:
        dollar = template.find("$", i)
        if dollar < 0:
            out.append(template[i:])
            return "".join(out)
        out.append(template[i:dollar])
        i = dollar + 1
        if template.startswith("$", i):
            out.append("$")
            i += 1
            continue
        brace = template.startswith("{", i)
        word = _WORD.match(template, i + brace)
        if word is None or (brace and not template.startswith("}", word.end())):
            out.append("$")  # malformed: the dollar is text
            continue
        name = word.group()
        i = word.end() + brace
        index = int(name) if name.isdigit() and len(name) < 9 else names.get(name, -1)
        if 0 <= index < len(spans):
            out.append(_slice(text, spans[index]))


def compile_regexp(pattern: str, *, engine: Engine | None = None) -> Regexp:
    """Compile a Go RE2 regular expression for unanchored search.

    Args:
        pattern: Go ``regexp`` syntax (as in Traefik's v3 ``PathRegexp``).
        engine: ``"re2"`` or ``"re"``; by default :data:`DEFAULT_ENGINE`.

    Raises:
        RegexError: the pattern is not valid Go syntax, is too large, or (with ``re``)
            could backtrack catastrophically; ``message`` and ``position`` say where.
    """
    return _compile_regexp(pattern, _resolve(engine))


def compile_template(
    template: str,
    *,
    prefix: bool = False,
    case_insensitive: bool = False,
    host: bool | None = None,
    engine: Engine | None = None,
) -> Regexp:
    """Compile a gorilla/mux template such as ``/users/{id:[0-9]+}`` or ``{sub}.example.com``.

    Literal text is matched as is, ``{name}`` matches ``[^/]+`` (``[^.]+`` in a host) and
    ``{name:re}`` matches the Go regexp ``re`` (which may contain braces: ``{id:[0-9]{3}}``).
    The template is anchored at the start, and at the end unless ``prefix``.

    Args:
        template: the template text.
        prefix: match a prefix of the text (gorilla's ``PathPrefix``).
        case_insensitive: match letters in any case (host templates).
        host: use the host default pattern ``[^.]+``; by default, ``case_insensitive``
            (host templates are the case-insensitive ones).
        engine: ``"re2"`` or ``"re"``; by default :data:`DEFAULT_ENGINE`.

    Raises:
        RegexError: unbalanced braces, an empty name or pattern, or an invalid or unsafe inner
            regexp.  Capturing groups inside a variable are accepted (as Traefik's gorilla/mux
            fork does) and only group: the variable's value is the whole match of its pattern.
    """
    is_host = case_insensitive if host is None else host
    return _compile_template(template, prefix, case_insensitive, is_host, _resolve(engine))


def _resolve(engine: Engine | None) -> Engine:
    chosen = DEFAULT_ENGINE if engine is None else engine
    if chosen == "re2" and not HAVE_RE2:
        raise RuntimeError("engine 're2' needs google-re2: install routekit[re2]")
    if chosen not in ("re", "re2"):
        raise ValueError(f"unknown regexp engine {chosen!r}: use 're' or 're2'")
    return chosen


@functools.lru_cache(maxsize=2048)
def _compile_regexp(pattern: str, engine: Engine) -> Regexp:
    parsed = parse(pattern)
    names: dict[str, int] = {}
    for index, name in enumerate(parsed.names, start=1):
        if name is not None:
            names.setdefault(name, index)  # Go's SubexpIndex: the leftmost of that name
    return _build(pattern, parsed.node, engine, names, ("regexp", pattern, engine))


@functools.lru_cache(maxsize=2048)
def _compile_template(
    template: str, prefix: bool, fold: bool, host: bool, engine: Engine
) -> Regexp:
    if len(template.encode("utf-8", "surrogatepass")) > MAX_PATTERN_BYTES:
        raise RegexError(f"template is longer than {MAX_PATTERN_BYTES} bytes", MAX_PATTERN_BYTES)
    items: list[Node] = [Assert("A", 0)]
    names: dict[str, int] = {}
    end = 0
    for start, stop in brace_spans(template):
        if start > end:
            items.append(Lit(template[end:start], fold, end))
        name, colon, inner = template[start + 1 : stop - 1].partition(":")
        if not name or (colon and not inner):
            raise RegexError(
                f"missing name or pattern in template variable {template[start:stop]!r}", start
            )
        index = len(names) + 1
        names[name] = index  # gorilla fills its Vars map in order: a repeated name keeps the last
        items.append(
            Group(
                _variable(template, inner, colon, start, fold=fold, host=host), index, name, start
            )
        )
        end = stop
    if end < len(template):
        items.append(Lit(template[end:], fold, end))
    if not prefix:
        items.append(Assert("z", len(template)))
    node = Concat(tuple(items), 0)
    return _build(template, node, engine, names, ("template", template, prefix, fold, host, engine))


def brace_spans(template: str) -> list[tuple[int, int]]:
    """gorilla's braceIndices: the outermost ``{...}`` spans, as ``(start, end)`` pairs."""
    spans: list[tuple[int, int]] = []
    level = start = 0
    for i, c in enumerate(template):
        if c == "{":
            level += 1
            if level == 1:
                start = i
        elif c == "}":
            level -= 1
            if level == 0:
                spans.append((start, i + 1))
            elif level < 0:
                raise RegexError("unbalanced braces in template: '}' without '{'", i)
    if level:
        raise RegexError("unbalanced braces in template: '{' is never closed", start)
    return spans


# -- gorilla templates as plain regexp text (for v3 translations and query templates) ------------

# gorilla/mux regexp.go newRouteRegexp: the pattern of a bare "{name}" depends on what is matched
# (as text here; `_variable` builds the same host and path classes as nodes).
_DEFAULT_PATTERN: Final = {"path": "[^/]+", "host": "[^.]+", "query": ".*"}
# Go's regexp.QuoteMeta escapes exactly these.
_GO_META: Final = frozenset("\\.+*?()|[]{}^$")


def go_quote_meta(text: str) -> str:
    """Go's ``regexp.QuoteMeta``."""
    return "".join("\\" + c if c in _GO_META else c for c in text)


def template_regexp(template: str, *, kind: Literal["path", "host", "query"] = "path") -> str:
    """The RE2 regexp (without anchors) equivalent to a gorilla ``{name:re}`` template.

    Literal text is quoted as Go's ``regexp.QuoteMeta`` does; each variable becomes its pattern,
    grouped with ``(?:…)`` only when it contains ``|`` or parentheses.  *kind* (``path``,
    ``host``, ``query``) selects the pattern of a bare ``{name}``.  Raises ``RegexError`` for what
    gorilla rejects (the template is checked by :func:`compile_template` first).
    """
    compile_template(template, prefix=True)
    out: list[str] = []
    end = 0
    for start, stop in brace_spans(template):
        out.append(go_quote_meta(template[end:start]))
        _, colon, pattern = template[start + 1 : stop - 1].partition(":")
        pattern = pattern if colon else _DEFAULT_PATTERN[kind]
        bare = not any(ch in pattern for ch in "|()")
        out.append(pattern if bare else f"(?:{pattern})")
        end = stop
    out.append(go_quote_meta(template[end:]))
    return "".join(out)


def _variable(template: str, inner: str, colon: str, start: int, *, fold: bool, host: bool) -> Node:
    if not colon:
        chars = Set(_HOST_DEFAULT if host else _PATH_DEFAULT, (), False, fold, start)
        return Repeat(chars, 1, -1, True, start, start)
    offset = start + 1 + len(template[start + 1 :].partition(":")[0]) + 1
    if "\\Q" in inner and "\\E" not in inner[inner.index("\\Q") :]:
        # Go splices the variable into one pattern, where an unterminated \Q would swallow
        # the rest of the template.
        raise RegexError("\\Q without \\E in a template variable", offset + inner.index("\\Q"))
    parsed = parse(inner, fold=fold, offset=offset)
    # Traefik's gorilla/mux fork accepts capturing groups inside a variable (its own tests route
    # ``HostRegexp(`{subdomain:(foo\\.)?bar\\.com}`)`` and ``Path(`/css{path:(/.*)?}`)``); the
    # variable's value is the whole group either way, so inner groups only need to group.
    return _without_captures(parsed.node) if parsed.captures else parsed.node


def _without_captures(node: Node) -> Node:
    """``node`` with every capturing group turned into a non-capturing one."""
    if isinstance(node, Group):
        return Group(_without_captures(node.body), None, None, node.pos)
    if isinstance(node, Repeat):
        return attrs.evolve(node, body=_without_captures(node.body))
    if isinstance(node, Concat):
        return Concat(tuple(_without_captures(item) for item in node.items), node.pos)
    if isinstance(node, Alt):
        return Alt(tuple(_without_captures(branch) for branch in node.branches), node.pos)
    return node


def _build(
    source: str, node: Node, engine: Engine, names: dict[str, int], key: tuple[object, ...]
) -> Regexp:
    if engine == "re2":
        search, spans = _re2_matchers(to_re2(node), node)
    else:
        check_backtracking(node, source)
        search, spans = _re_matchers(to_python(node), node)
    return Regexp(source, engine=engine, search=search, spans=spans, names=names, key=key)


def _re_matchers(text: str, node: Node) -> tuple[_Search, _Spans]:
    if len(text) > _MAX_PYTHON_PATTERN:
        # Unicode classes become explicit ranges for Python (\pL is ~650 of them); a pattern
        # made of many would take seconds for re to compile.
        raise RegexError(
            f"pattern expands to {len(text)} characters for Python's re (Unicode classes are "
            f"spelled out as ranges; the limit is {_MAX_PYTHON_PATTERN}): install "
            "routekit[re2], or use fewer \\p classes",
            node.pos,
        )
    try:
        compiled = re.compile(text)
    except (re.error, RecursionError, OverflowError) as exc:  # a translation gap, not user error
        raise RegexError(f"pattern cannot be compiled with Python's re: {exc}", node.pos) from None

    if not needs_bounded_text(node):

        def spans(subject: str, pos: int) -> list[tuple[int, int]] | None:
            m = compiled.search(subject, pos)
            return None if m is None else list(m.regs)

        return compiled.search, spans

    # Bounded text, bounded time: see MAX_FALLBACK_SUBJECT in _redos.
    raw_search = compiled.search

    def bounded_search(subject: str) -> object:
        return None if len(subject) > MAX_FALLBACK_SUBJECT else raw_search(subject)

    def bounded_spans(subject: str, pos: int) -> list[tuple[int, int]] | None:
        m = None if len(subject) > MAX_FALLBACK_SUBJECT else compiled.search(subject, pos)
        return None if m is None else list(m.regs)

    return bounded_search, bounded_spans


def _re2_matchers(text: str, node: Node) -> tuple[_Search, _Spans]:
    def build(capture: bool) -> object:
        options = _Re2Options()
        options.log_errors = False
        options.never_capture = not capture
        rx = _re2_native.RE2(text.encode(), options)
        if not rx.ok():
            raise RegexError(f"pattern rejected by RE2: {rx.error()}", node.pos)
        return rx

    # The plain search never asks for groups, which lets RE2 use its fastest (DFA) path.
    match = build(capture=False).Match  # type: ignore[attr-defined]
    capturing: list[Callable[..., list[tuple[int, int]]]] = []

    def search(subject: str) -> object:
        data = _utf8(subject)
        found = match(_UNANCHORED, data, 0, len(data))[0]
        return None if found[0] < 0 else found

    def spans(subject: str, pos: int) -> list[tuple[int, int]] | None:
        if not capturing:
            capturing.append(build(capture=True).Match)  # type: ignore[attr-defined]
        data = _utf8(subject)
        start = len(_utf8(subject[:pos])) if pos else 0
        found = capturing[0](_UNANCHORED, data, start, len(data))
        if found[0][0] < 0:
            return None
        # Byte offsets back to str offsets.
        return [(-1, -1) if lo < 0 else (_chars(data, lo), _chars(data, hi)) for lo, hi in found]

    return search, spans


def _utf8(text: str) -> bytes:
    try:
        return text.encode()
    except UnicodeEncodeError:  # lone surrogates: keep them as (invalid) bytes RE2 skips over
        return text.encode("utf-8", "surrogatepass")


# Every byte that starts a UTF-8 sequence (anything but a 0b10xxxxxx continuation byte).
_LEAD_BYTES = bytes(b for b in range(256) if b & 0xC0 != 0x80)


def _chars(data: bytes, offset: int) -> int:
    # Characters started before the byte offset.  RE2 can report an empty match inside a
    # multi-byte character (\B works on bytes); it then counts as after that character.
    return offset - len(data[:offset].translate(None, _LEAD_BYTES))
