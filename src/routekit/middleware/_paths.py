"""The path middlewares: stripPrefix, stripPrefixRegex, addPrefix, replacePath, replacePathRegex.

Each decision is a pure function of the wire path (percent-encoded, as the request carried it)
returning the new wire path, or a `PathRefused` with the status Traefik answers: 400 when the
rewritten path is not already clean (``..``, ``//`` — a rewrite must not open a traversal), 500
when a configured path cannot be unescaped.  Prefixes are compared with the decoded path and cut
from the encoded one, as Traefik's ``encodedPrefixLen`` does
(``master:pkg/middlewares/stripprefix/strip_prefix.go``).
"""

from __future__ import annotations

import functools
import re
import urllib.parse
from collections.abc import Callable
from typing import Final, TypeVar, final

import attrs

from ..config import (
    AddPrefix,
    ReplacePath,
    ReplacePathRegex,
    StripPrefix,
    StripPrefixRegex,
    valid_field,
)
from ..http import Response
from ..rules import Regexp, compile_regexp
from ._call import Call, Layer, Step, add_header, plain

__all__ = [
    "PathRefused",
    "add_prefix",
    "clean_path",
    "decode_path",
    "replace_path",
    "replace_path_regex",
    "strip_prefix",
    "strip_prefix_regex",
]

_FORWARDED_PREFIX: Final = b"x-forwarded-prefix"
_REPLACED_PATH: Final = b"x-replaced-path"
_BAD_ESCAPE: Final = re.compile(r"%(?![0-9A-Fa-f]{2})")
# Characters that may stand in a path as they are (RFC 3986 pchar and "/"), and "%" escapes.
_PATH_SAFE: Final = "/:@!$&'()*+,;=-._~%"


@final
@attrs.frozen
class PathRefused:
    """A rewrite that must not be forwarded: the status to answer and why."""

    status: int
    reason: str


def decode_path(path: str) -> str:
    """The decoded form of a wire path (``%2F`` → ``/``; bytes that are not UTF-8 kept)."""
    if "%" not in path and path.isascii():
        return path
    return urllib.parse.unquote_to_bytes(path.encode("latin-1", "replace")).decode(
        "utf-8", "surrogateescape"
    )


def clean_path(path: str) -> str:
    """Go's ``path.Clean`` keeping a trailing slash (what ``URL.JoinPath`` does)."""
    if not path:
        return path
    out: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if out:
                out.pop()
            continue
        out.append(segment)
    cleaned = "/" + "/".join(out) if path.startswith("/") else "/".join(out) or "."
    if path.endswith("/") and not cleaned.endswith("/"):
        cleaned += "/"
    return cleaned


def _slash(path: str) -> str:
    return path if not path or path.startswith("/") else "/" + path


def _encoded_length(raw: str, decoded_prefix: str) -> int:
    """How many characters of the wire path *raw* spell the decoded prefix (by UTF-8 bytes)."""
    want = len(decoded_prefix.encode("utf-8", "surrogateescape"))
    if "%" not in raw[: want * 3]:
        return min(want, len(raw))  # nothing escaped where the prefix is: one byte each
    i = got = 0
    while i < len(raw) and got < want:
        i += 3 if raw[i] == "%" and i + 2 < len(raw) else 1
        got += 1
    return i


_UNCLEAN: Final = re.compile(r"//|/\.\.?(?:/|$)|%")


def _checked(raw: str) -> str | PathRefused:
    """*raw* if it is clean (decoded, it equals its cleaned form), else a 400 refusal."""
    if not _UNCLEAN.search(raw):  # no doubled slash, dot segment or escape: clean as it is
        return raw
    if raw and decode_path(clean_path(raw)) != decode_path(raw):
        return PathRefused(400, "Bad Request")
    return raw


def _wire(raw: str) -> str:
    """A configured path as it may go on the wire: escaped where it is not (Go's EscapedPath)."""
    return urllib.parse.quote(raw, safe=_PATH_SAFE)


def strip_prefix(path: str, prefixes: tuple[str, ...]) -> tuple[str, str] | PathRefused | None:
    """The first prefix of *prefixes* that starts the decoded *path*, and the path without it.

    ``None`` when no prefix applies (the request goes on unchanged).
    """
    escaped = "%" in path or not path.isascii()  # else one character per one of the prefix
    decoded = decode_path(path) if escaped else path
    for prefix in prefixes:
        if decoded.startswith(prefix):
            rest = path[_encoded_length(path, prefix) if escaped else len(prefix) :]
            stripped = _checked(rest if not rest or rest[0] == "/" else "/" + rest)
            return stripped if isinstance(stripped, PathRefused) else (prefix, stripped)
    return None


def strip_prefix_regex(
    path: str, expressions: tuple[Regexp, ...]
) -> tuple[str, str] | PathRefused | None:
    """As `strip_prefix`, the prefix being the first non-empty leftmost match that starts the
    decoded path."""
    decoded = decode_path(path)
    for expression in expressions:
        found = expression.find(decoded)
        if found and decoded.startswith(found):
            stripped = _checked(_slash(path[_encoded_length(path, found) :]))
            return stripped if isinstance(stripped, PathRefused) else (found, stripped)
    return None


def add_prefix(path: str, prefix: str) -> str:
    """*prefix* put before *path* (with a leading slash)."""
    return _slash(_wire(prefix) + path)


def replace_path(path: str) -> str | PathRefused:
    """The configured *path* as the new wire path (500 when it cannot be unescaped)."""
    if _BAD_ESCAPE.search(path):
        return PathRefused(500, f"invalid URL escape in {path!r}")
    return _wire(path)


def replace_path_regex(path: str, regex: Regexp, replacement: str) -> str | PathRefused | None:
    """The wire *path* rewritten by *regex* and *replacement* (``$1``), ``None`` if no match."""
    if not regex.search(path):
        return None
    replaced = replace_path(regex.replace_all(path, replacement))
    return replaced if isinstance(replaced, PathRefused) else _checked(replaced)


_Strip = Callable[[str], "tuple[str, str] | PathRefused | None"]
_Replace = Callable[[str], "str | PathRefused | None"]
_T = TypeVar("_T")


def _rewrite(
    decide: Callable[[str], _T | PathRefused | None],
    note: Callable[[Call, _T], Response | None],
) -> Callable[[Call], Response | None]:
    """What a path decision does to a call: refuse, or note it (*note*) and go on with the new
    path."""

    def before(call: Call) -> Response | None:
        outcome = decide(call.path)
        if outcome is None:
            return None
        if isinstance(outcome, PathRefused):
            return plain(outcome.status, outcome.reason)
        return note(call, outcome)

    return before


def _rewrite_layer(
    decide: Callable[[str], _T | PathRefused | None],
    note: Callable[[Call, _T], Response | None],
) -> Layer:
    """The step of a path decision (`_rewrite`)."""
    return Step(_rewrite(decide, note))


def _prefix_value(prefix: str) -> bytes | None:
    """The ``X-Forwarded-Prefix`` value of *prefix*, or ``None``: a decoded prefix with a CR,
    LF or NUL (%0D%0A…) cannot be a header."""
    value = prefix.encode("utf-8", "surrogateescape")
    return value if valid_field(_FORWARDED_PREFIX, value) else None


def _note_prefix(call: Call, outcome: tuple[str, str]) -> Response | None:
    prefix, call.path = outcome
    value = _prefix_value(prefix)
    if value is None:
        return plain(400, "Bad Request")
    add_header(call.headers, _FORWARDED_PREFIX, value)
    return None


def _note_replaced(call: Call, path: str) -> Response | None:
    add_header(call.headers, _REPLACED_PATH, (call.path or "/").encode("latin-1"))
    call.path = path
    return None


def _strip_layer(decide: _Strip) -> Layer:
    """The layer of a strip decision; the prefix cut goes to ``X-Forwarded-Prefix``."""
    return _rewrite_layer(decide, _note_prefix)


def _replace_layer(decide: _Replace) -> Layer:
    """The layer of a replace decision; the old wire path goes to ``X-Replaced-Path``."""
    return _rewrite_layer(decide, _note_replaced)


def build_strip_prefix(model: StripPrefix) -> Layer:
    """The stripPrefix layer."""
    prefixes = tuple(p.strip() for p in model.prefixes)
    # The configured prefixes are the ones cut: their header values are worked out now.
    values = {p: _prefix_value(p) for p in prefixes}

    def note(call: Call, outcome: tuple[str, str]) -> Response | None:
        prefix, call.path = outcome
        value = values[prefix]
        if value is None:
            return plain(400, "Bad Request")
        call.headers.append((_FORWARDED_PREFIX, value))
        return None

    slow = _rewrite(functools.partial(strip_prefix, prefixes=prefixes), note)
    cuts = tuple((p, len(p), (_FORWARDED_PREFIX, v)) for p, v in values.items() if v is not None)
    if len(cuts) != len(values):  # a prefix that cannot be a header: always the long way
        return Step(slow)

    def before(call: Call) -> Response | None:
        # `strip_prefix` and `note` in one frame for the usual path: nothing escaped, so the
        # prefix is cut by its length, and a rest with no "//" or "/." is clean (`_checked`)
        # and forwarded as it is; anything else takes the long way.
        path = call.path
        if "%" in path or not path.isascii():
            return slow(call)
        for prefix, size, field in cuts:
            if path.startswith(prefix):
                rest = path[size:]
                if rest and rest[0] != "/":
                    rest = "/" + rest
                if "//" in rest or "/." in rest:
                    return slow(call)
                call.path = rest
                call.headers.append(field)
                return None
        return None

    return Step(before)


def build_strip_prefix_regex(model: StripPrefixRegex) -> Layer:
    """The stripPrefixRegex layer (its expressions compiled now)."""
    expressions = tuple(compile_regexp(r) for r in model.regex)
    return _strip_layer(lambda path: strip_prefix_regex(path, expressions))


def build_add_prefix(model: AddPrefix) -> Layer:
    """The addPrefix layer."""
    prefix = model.prefix

    def before(call: Call) -> None:
        call.path = add_prefix(call.path, prefix)

    return Step(before)


def build_replace_path(model: ReplacePath) -> Layer:
    """The replacePath layer."""
    outcome = replace_path(model.path)
    return _replace_layer(lambda path: outcome)


def build_replace_path_regex(model: ReplacePathRegex) -> Layer:
    """The replacePathRegex layer (its expression compiled now)."""
    regex = compile_regexp(model.regex)
    return _replace_layer(lambda path: replace_path_regex(path, regex, model.replacement))
