"""Go string literals, as Traefik's rule parser reads them (``go/parser`` + ``strconv.Unquote``).

Rule arguments are Go string literals: raw strings in backticks (no escapes; carriage returns
are dropped, as Go does) or interpreted strings in double quotes with Go's escape sequences.
"""

from __future__ import annotations

from typing import Final

__all__ = ["LiteralError", "go_quote", "unquote_interpreted", "unquote_raw"]


class LiteralError(Exception):
    """A malformed literal; ``offset`` is relative to the opening quote."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


_SIMPLE_ESCAPES: Final = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    '"': '"',
}
_QUOTE_ESCAPES: Final = {v: "\\" + k for k, v in _SIMPLE_ESCAPES.items()}
_HEX: Final = frozenset("0123456789abcdefABCDEF")
_OCT: Final = frozenset("01234567")


def _is_surrogate(char: str) -> bool:
    return "\ud800" <= char <= "\udfff"


def unquote_raw(body: str) -> tuple[str, list[int]]:
    """Decode the body of a backtick literal; return the value and each char's body offset."""
    for i, char in enumerate(body):
        if char == "\x00" or _is_surrogate(char):
            raise LiteralError("invalid character in string literal", i + 1)
    if "\r" not in body:
        return body, list(range(len(body)))
    # Go drops carriage returns from raw strings (spec: "Raw string literals").
    kept = [(i, c) for i, c in enumerate(body) if c != "\r"]
    return "".join(c for _, c in kept), [i for i, _ in kept]


def unquote_interpreted(body: str) -> tuple[str, list[int]]:
    """Decode the body of a double-quoted literal with Go's escapes.

    Returns the value and, for each decoded character, its offset in *body* (the offset of the
    escape sequence that produced it).  Byte escapes (``\\xNN``, ``\\NNN``) above 0x7F must
    form valid UTF-8 together, as Go strings read as text must.
    """
    out = bytearray()
    origins: list[int] = []  # one entry per output byte
    i, n = 0, len(body)
    while i < n:
        char = body[i]
        if char in "\n\x00" or _is_surrogate(char):
            raise LiteralError("invalid character in string literal", i + 1)
        if char != "\\":
            encoded = char.encode("utf-8")
            out += encoded
            origins.extend([i] * len(encoded))
            i += 1
            continue
        start = i
        if i + 1 >= n:
            raise LiteralError("escape sequence not terminated", i + 1)
        kind = body[i + 1]
        if kind in _SIMPLE_ESCAPES:
            out += _SIMPLE_ESCAPES[kind].encode()
            origins.append(start)
            i += 2
        elif kind == "x":
            digits = body[i + 2 : i + 4]
            if len(digits) != 2 or not set(digits) <= _HEX:
                raise LiteralError("invalid \\x escape: want two hex digits", start + 1)
            out.append(int(digits, 16))
            origins.append(start)
            i += 4
        elif kind in _OCT:
            digits = body[i + 1 : i + 4]
            if len(digits) != 3 or not set(digits) <= _OCT or int(digits, 8) > 255:
                raise LiteralError("invalid octal escape: want three digits up to \\377", start + 1)
            out.append(int(digits, 8))
            origins.append(start)
            i += 4
        elif kind in "uU":
            width = 4 if kind == "u" else 8
            digits = body[i + 2 : i + 2 + width]
            if len(digits) != width or not set(digits) <= _HEX:
                raise LiteralError(f"invalid \\{kind} escape: want {width} hex digits", start + 1)
            code = int(digits, 16)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise LiteralError("escape sequence is an invalid Unicode code point", start + 1)
            encoded = chr(code).encode("utf-8")
            out += encoded
            origins.extend([start] * len(encoded))
            i += 2 + width
        else:
            raise LiteralError(f"unknown escape sequence \\{kind}", start + 1)
    try:
        value = out.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LiteralError("byte escapes do not form valid UTF-8", origins[exc.start] + 1) from None
    # Map characters back to the escape (or character) they came from.
    offsets: list[int] = []
    pos = 0
    for char in value:
        offsets.append(origins[pos])
        pos += len(char.encode("utf-8"))
    return value, offsets


def go_quote(value: str) -> str:
    """Return *value* as a Go string literal: backticks when possible, else double quotes.

    Raises ValueError for lone surrogates, which no Go literal can carry.
    """
    if any(_is_surrogate(c) for c in value):
        raise ValueError("a lone surrogate cannot be written as a Go string literal")
    if "`" not in value and value.isprintable():
        return f"`{value}`"
    parts = ['"']
    for char in value:
        if char in _QUOTE_ESCAPES:
            parts.append(_QUOTE_ESCAPES[char])
        elif char.isprintable():
            parts.append(char)
        elif ord(char) < 0x80:
            parts.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            parts.append(f"\\u{ord(char):04x}")
        else:
            parts.append(f"\\U{ord(char):08x}")
    parts.append('"')
    return "".join(parts)
