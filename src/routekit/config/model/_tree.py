"""The intermediate tree that labels, Consul tags and KV keys are parsed into.

Traefik's ``paerser`` turns ``traefik.http.routers.web.rule=…`` and
``traefik/http/routers/web/rule`` alike into a tree of named nodes, then fills the configuration
structs from it, matching field names case-insensitively.  routekit does the same in two steps:
this module builds the tree and keeps, for every leaf, the key it came from (so that a problem can
name it); ``_decoder`` fills the model.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final, final

import attrs

from ._numbers import is_index

__all__ = [
    "Node",
    "element_name_problem",
    "is_text",
    "name_problem",
    "shown_text",
    "split_label_key",
]

_SLICE: Final = re.compile(r"^(?P<name>[^\[\]]*)\[(?P<index>[0-9]+)\]$")


@final
@attrs.define(eq=False)
class Node:
    """One element of the tree: a leaf value, named children, or both.

    Attributes:
        name: the element's name as written (field names are matched case-insensitively later,
            names of routers/services/map keys keep their case).
        value: the leaf value, or ``None``.
        source: the full key the leaf value came from (label or KV key).
        children: child elements by name, in insertion order.
    """

    name: str
    value: str | None = None
    source: str | None = None
    children: dict[str, Node] = attrs.field(factory=dict)

    def child(self, name: str) -> Node:
        """Return the child *name*, creating it when absent."""
        node = self.children.get(name)
        if node is None:
            node = self.children[name] = Node(name)
        return node

    def find(self, name: str) -> Node | None:
        """The child whose name equals *name* ignoring case (the first one), or ``None``."""
        lowered = name.lower()
        for key, node in self.children.items():
            if key.lower() == lowered:
                return node
        return None

    def pop(self, name: str) -> Node | None:
        """Remove and return the child named *name* ignoring case, or ``None``."""
        node = self.find(name)
        if node is not None:
            del self.children[node.name]
        return node

    def insert(self, parts: list[str], value: str, source: str) -> None:
        """Set the leaf at *parts* below this node to *value* (the last write wins)."""
        node = self
        for part in parts:
            node = node.child(part)
        node.value = value
        node.source = source

    def leaves(self) -> Iterator[Node]:
        """Every node carrying a value, depth first."""
        if self.value is not None:
            yield self
        for child in self.children.values():
            yield from child.leaves()

    def first_source(self) -> str | None:
        """The key of some leaf at or below this node: where a problem about it points."""
        return next((leaf.source for leaf in self.leaves() if leaf.source), None)

    def is_list(self) -> bool:
        """True when every child is named by an index (``0``, ``1``…): a list in KV/labels."""
        return bool(self.children) and all(is_index(k) for k in self.children)

    def items_in_order(self) -> list[Node]:
        """The children of a list node ordered by index."""
        return [self.children[k] for k in sorted(self.children, key=int)]


def split_label_key(key: str) -> list[str] | None:
    """Split a label key below its root into path elements, or ``None`` if it is malformed.

    ``http.routers.web.entrypoints[1]`` → ``["http", "routers", "web", "entrypoints", "1"]``;
    an empty element (``a..b``, trailing dot) is malformed, as in paerser (``invalid element``).
    """
    parts: list[str] = []
    for raw in key.split("."):
        if raw == "":
            return None
        m = _SLICE.match(raw)
        if m is not None:
            if not m.group("name"):
                return None
            parts.extend((m.group("name"), str(int(m.group("index")))))
        elif "[" in raw or "]" in raw:
            return None
        else:
            parts.append(raw)
    return parts


def element_name_problem(parts: list[str] | tuple[str, ...]) -> str | None:
    """Why the element name in ``<section>.<collection>.<name>…`` is unusable, or ``None``.

    ``@`` separates a name from its provider (``api@docker``), so a provider cannot define a
    name containing it (Traefik rejects it too).
    """
    return name_problem(parts[2]) if len(parts) >= 3 else None


def name_problem(name: str) -> str | None:
    """Why *name* cannot name a router, service, middleware…, or ``None``.

    Empty names cannot be referred to; ``@`` is reserved for ``name@provider``.
    """
    if not name.strip():
        return "an empty name"
    if not is_text(name):
        return f"not valid Unicode text (a lone surrogate): {shown_text(name)!r}"
    if "@" in name:
        return f"'@' is not allowed in a name ({name!r})"
    return None


def is_text(text: str) -> bool:
    """Whether *text* is valid Unicode (no lone surrogate such as ``'\\udcda'``).

    Labels, KV values and Python callers can hold them, TOML files cannot; such text cannot be
    written to a socket, a cookie or a log, so codecs refuse it where it enters.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown_text(text: str) -> str:
    """*text* with lone surrogates escaped (``\\udcda``), safe to print in a problem."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
