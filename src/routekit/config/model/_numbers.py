"""Integers in configuration text, read as Traefik reads them (Go's ``strconv.ParseInt``).

Python's ``int()`` also accepts ``'٣'``, ``'²'``-like digits (some of which it then refuses),
``'1_000'`` and surrounding blanks; Go accepts only ASCII digits with an optional sign, within
64 bits.  Every codec reads integers and list indexes through these two functions.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["is_index", "parse_int"]

_INT: Final = re.compile(r"[+-]?[0-9]+")
_INDEX: Final = re.compile(r"[0-9]{1,9}")


def parse_int(text: str) -> int:
    """*text* (blanks around it allowed) as a 64-bit integer; ``ValueError`` naming it if not."""
    stripped = text.strip()
    if _INT.fullmatch(stripped):
        # Past 20 digits it is out of range whatever it says, and int() of it would be slow.
        value = int(stripped) if len(stripped) <= 20 else 2**64
        if -(2**63) <= value < 2**63:
            return value
        shown = text if len(text) <= 40 else f"{text[:20]}…({len(text)} characters)"
        raise ValueError(f"{shown!r} is out of the 64-bit integer range")
    raise ValueError(f"expected an integer, got {text!r}")


def is_index(key: str) -> bool:
    """Whether *key* names a list element (``0``, ``12``): ASCII digits, at most nine."""
    return _INDEX.fullmatch(key) is not None
