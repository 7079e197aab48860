"""Go's ``hash/fnv`` ``New64`` (FNV-1, 64 bits), which Traefik uses to derive stable names."""

from __future__ import annotations

from typing import Final

__all__ = ["fnv1_64"]

_OFFSET: Final = 0xCBF29CE484222325
_PRIME: Final = 0x100000001B3
_MASK: Final = 0xFFFFFFFFFFFFFFFF


def fnv1_64(data: bytes) -> int:
    """FNV-1 (multiply, then xor: not FNV-1a) of *data*, as Go's ``fnv.New64().Sum64()``."""
    h = _OFFSET
    for byte in data:
        h = ((h * _PRIME) & _MASK) ^ byte
    return h
