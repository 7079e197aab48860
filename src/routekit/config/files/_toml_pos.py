"""Where each key of a TOML text is: (line, column) by key path, for problem sources.

``tomllib`` and ``tomlkit`` do not report positions of keys, so this light scanner reads the text
line by line: table headers ``[a.b]``, array-of-tables headers ``[[a.b]]`` (counted, so that the
second ``[[…servers]]`` is ``servers.1``) and ``key = value`` lines, skipping multi-line strings.
Keys inside inline tables and multi-line arrays get the position of the key that holds them.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["key_positions"]

_BARE: Final = re.compile(r"[A-Za-z0-9_-]+")
_BASIC: Final = re.compile(r'"((?:[^"\\]|\\.)*)"')
_LITERAL: Final = re.compile(r"'([^']*)'")


def _read_key(line: str, pos: int) -> tuple[list[str], int] | None:
    """Parse a dotted key at ``pos``; return its parts and the position after it."""
    parts: list[str] = []
    while True:
        while pos < len(line) and line[pos] in " \t":
            pos += 1
        for pattern in (_BARE, _BASIC, _LITERAL):
            m = pattern.match(line, pos)
            if m:
                text = m.group(1) if pattern is not _BARE else m.group(0)
                if pattern is _BASIC:
                    text = _unescape(text)
                parts.append(text)
                pos = m.end()
                break
        else:
            return None
        while pos < len(line) and line[pos] in " \t":
            pos += 1
        if pos < len(line) and line[pos] == ".":
            pos += 1
            continue
        return parts, pos


def _unescape(text: str) -> str:
    try:
        return text.encode("latin-1", "backslashreplace").decode("unicode_escape")
    except UnicodeDecodeError:  # pragma: no cover - only for exotic escapes
        return text


_Positions = dict[tuple[str, ...], tuple[int, int]]
_SIMPLE_VALUE: Final = re.compile(r"""\s*(?:"([^"\\\n]*)"|'([^'\n]*)')\s*(?:#.*)?$""")


def key_positions(text: str) -> tuple[_Positions, _Positions]:
    """Map every key path found in ``text`` to its 1-based (line, column), and the path of each
    one-line string value to the (line, column) of its first character.

    Values are mapped only when each of their characters is one character of the text (a
    literal string, or a basic one without escapes): an index in the value is then a column.
    """
    positions: _Positions = {}
    values: _Positions = {}
    aot_index: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    in_string: str | None = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if in_string is not None:
            if line.count(in_string) % 2 == 1:
                in_string = None
            continue
        stripped = line.lstrip()
        col = len(line) - len(stripped) + 1
        if stripped.startswith("[["):
            parsed = _read_key(stripped, 2)
            if parsed is None:
                continue
            path = _resolve(tuple(parsed[0]), aot_index)
            # Arrays below an earlier element of this array need no clean-up: their resolved paths
            # hold that element's index, which no later header resolves to.
            aot_index[path] = aot_index.get(path, -1) + 1
            table = (*path, str(aot_index[path]))
            positions.setdefault(path, (lineno, col))
            positions[table] = (lineno, col)
            continue
        if stripped.startswith("["):
            parsed = _read_key(stripped, 1)
            if parsed is None:
                continue
            table = _resolve(tuple(parsed[0]), aot_index)
            positions[table] = (lineno, col)
            continue
        if not stripped or stripped[0] == "#":
            continue
        parsed = _read_key(stripped, 0)
        if parsed is None:
            continue
        parts, after = parsed
        if after >= len(stripped) or stripped[after] != "=":
            continue
        positions[(*table, *parts)] = (lineno, col)
        rest = stripped[after + 1 :]
        simple = _SIMPLE_VALUE.match(rest)
        if simple is not None:
            start = simple.start(1) if simple.group(1) is not None else simple.start(2)
            values[(*table, *parts)] = (lineno, col + after + 1 + start)
        for quote in ('"""', "'''"):
            if rest.count(quote) % 2 == 1:
                in_string = quote
                break
    # An implicit table (``http.services.api`` of ``[[http.services.api.loadBalancer.servers]]``)
    # is where its first key is.
    for path, pos in list(positions.items()):
        for end in range(1, len(path)):
            positions.setdefault(path[:end], pos)
    return positions, values


def _resolve(path: tuple[str, ...], aot_index: dict[tuple[str, ...], int]) -> tuple[str, ...]:
    # ``[a.b]`` after ``[[a]]`` means the table ``b`` of the last element of ``a``.
    out: list[str] = []
    for n, part in enumerate(path):
        out.append(part)
        index = aot_index.get(tuple(out))
        if index is not None and n < len(path) - 1:
            out.append(str(index))
    return tuple(out)
