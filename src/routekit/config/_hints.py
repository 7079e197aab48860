"""The "did you mean" hint every unknown key, section and reference gets."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["closest", "did_you_mean"]


def closest(name: str, options: Iterable[str]) -> str | None:
    """The option closest to *name* ignoring case, as written, or ``None`` if none is close."""
    lowered: dict[str, str] = {}
    for option in options:
        lowered.setdefault(option.lower(), option)
    found = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[found[0]] if found else None


def did_you_mean(name: str, options: Iterable[str]) -> str | None:
    """``did you mean 'entryPoints'?`` for the option closest to *name*, or ``None``."""
    found = closest(name, options)
    return None if found is None else f"did you mean {found!r}?"
