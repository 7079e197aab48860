"""Traefik durations: ``"10s"``, ``"1m30s"``, ``"100ms"``, ``"1h"``; plain numbers are seconds."""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Final

__all__ = ["MAX_DURATION", "format_duration", "parse_duration"]

# Go's time.ParseDuration units in nanoseconds (traefik/paerser types.Duration falls back to them
# for strings and reads a bare number as seconds).
_UNITS: Final = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_PART: Final = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_NUMBER: Final = re.compile(r"[+-]?(\d+(?:\.\d*)?|\.\d+)")
_SECOND: Final = 1_000_000_000

#: The longest duration, in seconds: Go's ``time.Duration`` is an int64 of nanoseconds (~292
#: years); Go's ParseDuration refuses anything longer, and so does `parse_duration`.
MAX_DURATION: Final = math.nextafter((2**63 - 1) / _SECOND, 0)  # the float below, not above


def parse_duration(value: str | int | float) -> float:
    """Return ``value`` in seconds; raise ``ValueError`` naming the text if it is not a duration.

    Accepts Go duration strings (``"1m30s"``, ``"-1.5h"``, ``"250ms"``), plain numbers as seconds
    (``10``, ``"10"``, ``2.5``) like Traefik's paerser.  Like Go, the value is a whole number of
    nanoseconds (finer fractions are dropped) of at most `MAX_DURATION` either way; the seconds
    returned are the float nearest to it, so ``"2550ms"`` is exactly ``2.55``.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"not a duration: {value!r}")
        return _seconds(int(Fraction(value) * _SECOND), value)
    text = value.strip()
    if len(text) > 200:
        raise ValueError(f"not a duration: {value[:40]!r}… (longer than 200 characters)")
    if _NUMBER.fullmatch(text):
        return _seconds(int(Fraction(text) * _SECOND), value)
    sign = 1
    if text[:1] in "+-" and text:
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    if text == "0":
        return 0.0
    if not text:
        raise ValueError(f"not a duration: {value!r}")
    pos = 0
    total = Fraction(0)
    while pos < len(text):
        m = _PART.match(text, pos)
        if m is None:
            raise ValueError(
                f"not a duration: {value!r} (expected e.g. '10s', '1m30s', '100ms' or seconds)"
            )
        total += Fraction(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    return _seconds(sign * int(total), value)


def _seconds(ns: int, value: object) -> float:
    if abs(ns) > 2**63 - 1:
        raise ValueError(f"not a duration: {value!r} (longer than {MAX_DURATION:.0f} seconds)")
    return ns / _SECOND  # int / int is correctly rounded


def format_duration(seconds: float) -> str:
    """Return the shortest Go duration string for ``seconds`` (``90`` → ``"1m30s"``)."""
    if seconds == 0:
        return "0s"
    sign = "-" if seconds < 0 else ""
    # Whole nanoseconds, exactly, so that parse(format(x)) == x for every x a file can express.
    ns = round(abs(Fraction(seconds)) * _SECOND)
    if ns % _SECOND == 0:
        whole = ns // _SECOND
        hours, rest = divmod(whole, 3600)
        minutes, secs = divmod(rest, 60)
        text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
        text += f"{secs}s" if secs or not text else ""
        return sign + text
    for unit, size in (("ms", 1_000_000), ("us", 1_000)):
        if ns % size == 0:
            return f"{sign}{ns // size}{unit}"
    return f"{sign}{ns}ns"
