"""Traefik durations: ``"10s"``, ``"1m30s"``, ``"100ms"``, ``"1h"``; plain numbers are seconds."""

from __future__ import annotations

import math
import re
from typing import Final

__all__ = ["format_duration", "parse_duration"]

# Go's time.ParseDuration units (traefik/paerser types.Duration falls back to them for strings and
# reads a bare number as seconds).
_UNITS: Final = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_PART: Final = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_NUMBER: Final = re.compile(r"[+-]?(\d+(?:\.\d*)?|\.\d+)")


def parse_duration(value: str | int | float) -> float:
    """Return ``value`` in seconds; raise ``ValueError`` naming the text if it is not a duration.

    Accepts Go duration strings (``"1m30s"``, ``"-1.5h"``, ``"250ms"``), plain numbers as seconds
    (``10``, ``"10"``, ``2.5``) like Traefik's paerser.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"not a duration: {value!r}")
        return float(value)
    text = value.strip()
    if _NUMBER.fullmatch(text):
        return float(text)
    sign = 1.0
    if text[:1] in "+-" and text:
        sign = -1.0 if text[0] == "-" else 1.0
        text = text[1:]
    if text == "0":
        return 0.0
    pos = 0
    total = 0.0
    while pos < len(text):
        m = _PART.match(text, pos)
        if m is None:
            raise ValueError(
                f"not a duration: {value!r} (expected e.g. '10s', '1m30s', '100ms' or seconds)"
            )
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not text:
        raise ValueError(f"not a duration: {value!r}")
    return sign * total


def format_duration(seconds: float) -> str:
    """Return the shortest Go duration string for ``seconds`` (``90`` → ``"1m30s"``)."""
    if seconds == 0:
        return "0s"
    sign = "-" if seconds < 0 else ""
    # Work in whole nanoseconds so that parse(format(x)) == x for every x a file can express.
    ns = round(abs(seconds) * 1e9)
    if ns % 1_000_000_000 == 0:
        whole = ns // 1_000_000_000
        hours, rest = divmod(whole, 3600)
        minutes, secs = divmod(rest, 60)
        text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
        text += f"{secs}s" if secs or not text else ""
        return sign + text
    for unit, size in (("ms", 1_000_000), ("us", 1_000)):
        if ns % size == 0:
            return f"{sign}{ns // size}{unit}"
    return f"{sign}{ns}ns"
