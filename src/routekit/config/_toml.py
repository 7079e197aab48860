"""TOML codec for Traefik's dynamic configuration files (v2/v3 ``[http.routers.x]``; v1 detected).

`loads_dynamic` reads a file's text into a `Configuration` plus every problem, each with
``file:line:column``; `dumps_dynamic` writes a configuration back, into an existing document if
given, keeping its comments and layout (tomlkit).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from typing import Any

import tomlkit
import tomlkit.items

from ..errors import Problem
from ._decode import decode_configuration, to_data
from ._labels_tree import Node
from ._model import Configuration
from ._toml_pos import key_positions

__all__ = ["dumps_dynamic", "loads_dynamic", "parse_toml", "to_node"]

_V1_KEYS = frozenset({"frontends", "backends"})
_TOML_ERROR_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


def parse_toml(text: str, source: str) -> tuple[dict[str, Any] | None, Problem | None]:
    """Parse TOML text; on a syntax error return the problem with ``source:line:column``."""
    try:
        return tomllib.loads(text), None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = _TOML_ERROR_POS.search(message)
        where = f"{source}:{m.group(1)}:{m.group(2)}" if m else source
        message = _TOML_ERROR_POS.sub("", message).strip()
        return None, Problem(path="", message=f"not valid TOML: {message}", source=where)


class Locator:
    """Turns a key path into ``source:line:column`` (the nearest recorded parent's position)."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.positions = key_positions(text)

    def __call__(self, path: tuple[str, ...]) -> str:
        """The position of ``path`` or of its nearest parent found in the text."""
        while path:
            pos = self.positions.get(path)
            if pos is not None:
                return f"{self.source}:{pos[0]}:{pos[1]}"
            path = path[:-1]
        return self.source


def to_node(name: str, value: Any, path: tuple[str, ...], locate: Locator) -> Node:
    """Convert parsed TOML data into the text tree the decoder reads, with a source per node."""
    node = Node(name, source=locate(path))
    if isinstance(value, Mapping):
        for k, v in value.items():
            node.children[k] = to_node(k, v, (*path, k), locate)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            node.children[str(i)] = to_node(str(i), v, (*path, str(i)), locate)
    elif isinstance(value, bool):
        node.value = "true" if value else "false"
    else:
        node.value = str(value)
    return node


def loads_dynamic(text: str, *, source: str = "file.toml") -> tuple[Configuration, list[Problem]]:
    """Read a dynamic configuration file (Traefik v2/v3 layout, or v1 ``frontends``/``backends``).

    Returns the configuration made of every element without problems, and the problems found,
    each with ``source:line:column``.  Never raises on bad input.
    """
    data, problem = parse_toml(text, source)
    if data is None:
        assert problem is not None
        return Configuration(), [problem]
    return loads_dynamic_data(data, text=text, source=source)


def loads_dynamic_data(
    data: Mapping[str, Any], *, text: str, source: str
) -> tuple[Configuration, list[Problem]]:
    """Like `loads_dynamic` for already parsed data (``text`` is only used for positions)."""
    locate = Locator(text, source)
    if _V1_KEYS & set(data):
        from ._toml_v1 import decode_v1

        return decode_v1(data, locate)
    root = to_node("", data, (), locate)
    return decode_configuration(root, where=lambda node: node.source)


def dumps_dynamic(config: Configuration, *, into: str | None = None) -> str:
    """Write ``config`` as a Traefik v2/v3 dynamic TOML file.

    With ``into`` (the text of an existing file), its comments and layout are kept: tables and
    keys that still exist stay where they are, changed values are replaced in place, removed
    elements disappear and new ones are appended.
    """
    doc = tomlkit.parse(into) if into is not None else tomlkit.document()
    _merge(doc, to_data(config))
    return tomlkit.dumps(doc)


def _merge(container: Any, data: Mapping[str, Any]) -> None:
    for k in [k for k in container if k not in data]:
        del container[k]
    for k, v in data.items():
        current = container.get(k) if k in container else None
        if isinstance(v, Mapping):
            if isinstance(current, tomlkit.items.Table | tomlkit.items.InlineTable) and not (
                isinstance(current, tomlkit.items.InlineTable) and _has_tables(v)
            ):
                _merge(current, v)
                continue
            if current is not None:
                del container[k]
            container[k] = _new_table(v)
        elif isinstance(v, list) and v and all(isinstance(x, Mapping) for x in v):
            if current is not None and _same_list(current, v):
                continue
            if current is not None:
                del container[k]
            aot = tomlkit.aot()
            for item in v:
                table = tomlkit.table()
                _merge(table, item)
                aot.append(table)
            container[k] = aot
        else:
            if current is not None and _plain(current) == v:
                continue
            container[k] = v


def _is_table(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value) and all(isinstance(x, Mapping) for x in value)
    return isinstance(value, Mapping)


def _has_tables(data: Mapping[str, Any]) -> bool:
    return any(isinstance(v, Mapping) for v in data.values())


def _new_table(data: Mapping[str, Any]) -> Any:
    # Intermediate tables with only sub-tables get no header of their own ([http.routers.x], not
    # [http] + [http.routers] + [http.routers.x]), as in Traefik's documentation.
    table = tomlkit.table(is_super_table=bool(data) and all(map(_is_table, data.values())))
    _merge(table, data)
    return table


def _plain(item: Any) -> Any:
    unwrap = getattr(item, "unwrap", None)
    return unwrap() if callable(unwrap) else item


def _same_list(current: Any, new: list[Any]) -> bool:
    return bool(_plain(current) == new)
