"""The named sections of a `Configuration` (routers, services, …), addressed by dotted path.

Merging the sources of one provider and merging providers both work section by section; this
is the one place that knows which sections hold named elements and how to put them back.
"""

from __future__ import annotations

from collections.abc import Mapping
from operator import attrgetter
from typing import Any, Final

import attrs

from ._frozen import FrozenMap
from ._model import Configuration

__all__ = ["ELEMENT_KINDS", "NAMED_SECTIONS", "named_section", "with_named_sections"]

#: Dotted file path of each section whose elements have names → (attribute path in the model,
#: what one of its elements is called in messages).
_SECTIONS: Final = {
    "http.routers": ("http.routers", "router"),
    "http.services": ("http.services", "service"),
    "http.middlewares": ("http.middlewares", "middleware"),
    "http.serversTransports": ("http.servers_transports", "servers transport"),
    "tcp.routers": ("tcp.routers", "TCP router"),
    "tcp.services": ("tcp.services", "TCP service"),
    "tcp.middlewares": ("tcp.middlewares", "TCP middleware"),
    "udp.routers": ("udp.routers", "UDP router"),
    "udp.services": ("udp.services", "UDP service"),
    "tls.options": ("tls.options", "TLS options"),
    "tls.stores": ("tls.stores", "TLS store"),
}
_ATTRIBUTES: Final = {path: attribute for path, (attribute, _) in _SECTIONS.items()}

#: The sections whose elements have names, as dotted paths of the file format.
NAMED_SECTIONS: Final = tuple(_SECTIONS)
#: What one element of each named section is called in messages (``router``, ``TLS store``…).
ELEMENT_KINDS: Final = {path: kind for path, (_, kind) in _SECTIONS.items()}

_GETTERS: Final = {path: attrgetter(attr) for path, attr in _ATTRIBUTES.items()}


def named_section(config: Configuration, path: str) -> FrozenMap[str, Any]:
    """The elements of section *path* (``http.routers``…) of *config*, by name."""
    section: FrozenMap[str, Any] = _GETTERS[path](config)
    return section


def with_named_sections(
    config: Configuration, sections: Mapping[str, Mapping[str, Any]]
) -> Configuration:
    """*config* with the sections in *sections* replaced; everything else (sources too) kept."""
    groups: dict[str, dict[str, Any]] = {}
    for path, elements in sections.items():
        group, _, attr = _ATTRIBUTES[path].partition(".")
        groups.setdefault(group, {})[attr] = elements
    changes = {
        group: attrs.evolve(getattr(config, group), **fields) for group, fields in groups.items()
    }
    return attrs.evolve(config, **changes)
