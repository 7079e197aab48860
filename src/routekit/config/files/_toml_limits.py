"""Bounds checked before and after ``tomllib`` reads a text, so that no input makes it recurse
without end or convert a number Python refuses.

``tomllib`` parses nested arrays and inline tables recursively and converts decimal integers with
``int()``, which refuses more than 4 300 digits (``sys.get_int_max_str_digits``): without these
checks such a file raises `RecursionError` or `ValueError` instead of a located problem.  The
scan is one linear pass of one regular expression that skips strings and comments.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from typing import Any, Final

from ...errors import Problem

__all__ = ["MAX_DEPTH", "check_text", "deepest"]

#: Deepest nesting of tables and arrays a configuration file may have (Traefik's own deepest
#: keys, ``http.services.x.loadBalancer.healthCheck.headers.h``, are 7 levels).
MAX_DEPTH: Final = 64

#: Decimal digits Python's ``int()`` converts (the interpreter's limit; 4 300 by default).
_MAX_DIGITS: Final = sys.get_int_max_str_digits() or 4300

_TOKENS: Final = re.compile(
    r'"""(?:[^\\]|\\.)*?"""'  # multi-line basic string
    r"|'''.*?'''"  # multi-line literal string
    r'|"(?:[^"\\\n]|\\.)*"'  # basic string
    r"|'[^'\n]*'"  # literal string
    r"|#[^\n]*"  # comment
    r"|(?P<open>[\[{])|[\]}]"
    rf"|(?P<digits>[0-9](?:_?[0-9]){{{_MAX_DIGITS},}})",
    re.DOTALL,
)


def check_text(text: str, source: str) -> Problem | None:
    """The first place where *text* nests deeper than `MAX_DEPTH` or has a too long number."""
    depth = 0
    for m in _TOKENS.finditer(text):
        if m.group("open"):
            depth += 1
            if depth > MAX_DEPTH:
                message = f"arrays and inline tables nest more than {MAX_DEPTH} levels deep"
                return _problem(text, m.start(), source, message)
        elif m.group("digits"):
            message = f"a number has more than {_MAX_DIGITS} digits"
            return _problem(text, m.start(), source, message)
        elif m.group() in ("]", "}"):
            depth = max(0, depth - 1)
    return None


def deepest(data: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The path of the first value nested deeper than `MAX_DEPTH` (dotted keys do that), or
    ``None``; iterative, so that it cannot recurse too deep itself."""
    stack: list[tuple[tuple[str, ...], Any]] = [((), data)]
    while stack:
        path, value = stack.pop()
        if len(path) > MAX_DEPTH:
            return path
        if isinstance(value, Mapping):
            stack.extend(((*path, str(k)), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend(((*path, str(i)), v) for i, v in enumerate(value))
    return None


def _problem(text: str, offset: int, source: str, message: str) -> Problem:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Problem(
        path="", message=f"not valid TOML: {message}", source=f"{source}:{line}:{column}"
    )
