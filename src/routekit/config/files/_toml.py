"""TOML codec for Traefik's dynamic configuration files (v2/v3 ``[http.routers.x]``; v1 detected).

`loads_dynamic` reads a file's text into a `Configuration` plus every problem, each with
``file:line:column``; `dumps_dynamic` writes a configuration back, into an existing document if
given, keeping its comments and layout (tomlkit).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Container, Iterable, Mapping
from typing import Any

import attrs
import tomlkit
import tomlkit.exceptions
import tomlkit.items

from ...errors import ConfigError, Problem
from ..model import Configuration, Node, decode_configuration, to_data
from ._toml_limits import MAX_DEPTH, check_text, deepest
from ._toml_pos import key_positions
from ._toml_v1 import decode_v1

__all__ = ["dumps_dynamic", "loads_dynamic", "parse_toml", "to_node"]

_V1_KEYS = frozenset({"frontends", "backends"})
_TOML_ERROR_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


def _is_v1(keys: Iterable[str]) -> bool:
    # v1 read its files ignoring the case of keys, ``[Frontends]`` included.
    return any(k.lower() in _V1_KEYS for k in keys)


def parse_toml(text: str, source: str) -> dict[str, Any] | Problem:
    """Parse TOML text; on a syntax error return the problem with ``source:line:column``."""
    too_much = check_text(text, source)
    if too_much is not None:
        return too_much
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = _TOML_ERROR_POS.search(message)
        where = f"{source}:{m.group(1)}:{m.group(2)}" if m else source
        message = _TOML_ERROR_POS.sub("", message).strip()
        return Problem(path="", message=f"not valid TOML: {message}", source=where)
    path = deepest(data)
    if path is not None:
        message = f"not valid TOML: keys nest more than {MAX_DEPTH} levels deep"
        return Problem(path="", message=message, source=Locator(text, source)(path))
    return data


class Locator:
    """Turns a key path into ``source:line:column`` (the nearest recorded parent's position)."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.positions, self.values = key_positions(text)

    def __call__(self, path: tuple[str, ...]) -> str:
        """The position of ``path`` or of its nearest parent found in the text."""
        while path:
            pos = self.positions.get(path)
            if pos is not None:
                return f"{self.source}:{pos[0]}:{pos[1]}"
            path = path[:-1]
        return self.source

    def at_fault(self, problem: Problem) -> Problem:
        """*problem* with its source at the fault inside the value, when its ``offset`` and the
        value's place in the text say where that is; else *problem* unchanged."""
        if problem.offset is None:
            return problem
        start = self.values.get(tuple(problem.path.split(".")))
        if start is None:
            return problem
        line, column = start
        return attrs.evolve(problem, source=f"{self.source}:{line}:{column + problem.offset}")


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
    data = parse_toml(text, source)
    if isinstance(data, Problem):
        return Configuration(), [data]
    return loads_dynamic_data(data, Locator(text, source))


def loads_dynamic_data(
    data: Mapping[str, Any], locate: Locator
) -> tuple[Configuration, list[Problem]]:
    """Like `loads_dynamic` for already parsed data; *locate* knows the positions in its text."""
    if _is_v1(data):
        return decode_v1(data, locate)
    root = to_node("", data, (), locate)
    return decode_configuration(root, where=lambda node: node.source)


def dumps_dynamic(config: Configuration, *, into: str | None = None) -> str:
    """Write ``config`` as a Traefik v2/v3 dynamic TOML file.

    With ``into`` (the text of an existing file), its comments and layout are kept: what did not
    change is left exactly as written (key spelling, explicit default values, duration style,
    inline or ``[[…]]`` arrays), changed values are replaced in place, list items are updated one
    by one, removed elements disappear and new ones are appended.  Into a v1 file
    (``frontends``/``backends``), the v1 tables are replaced by the v2/v3 ones.

    Raises:
        ConfigError: ``into`` is not valid TOML.
    """
    if into is None:
        doc, old = tomlkit.document(), None
    else:
        too_much = check_text(into, "the file written into")
        if too_much is not None:
            raise ConfigError(f"cannot write into {too_much.source}: {too_much.message}")
        try:
            doc = tomlkit.parse(into)
        except tomlkit.exceptions.ParseError as exc:
            raise ConfigError(f"cannot write into a file that is not valid TOML: {exc}") from None
        # What the file means now, in the writer's own terms: an element whose data did not
        # change is left as written, and a key absent from both (a default written out) stays.
        old = None if _is_v1(doc) else to_data(loads_dynamic(into)[0])
    _merge(doc, to_data(config), old)
    return tomlkit.dumps(doc)


def _find(keys: Iterable[str], key: str, claimed: Container[str] = ()) -> str | None:
    # Traefik matches option keys ignoring case; so does the writer, keeping the file's
    # spelling.  Names and header keys that differ only in case are different entries: an
    # exact match wins, and a key *claimed* exactly by another entry is never taken.
    keys = list(keys)
    if key in keys:
        return key
    lowered = key.lower()
    return next((k for k in keys if k.lower() == lowered and k not in claimed), None)


def _merge(container: Any, data: Mapping[str, Any], old: Mapping[str, Any] | None) -> None:
    """Make ``container`` (a tomlkit table) say ``data``; ``old`` is what it said before, if known.

    ``old`` ``None`` means "not known": every key ``data`` lacks is removed.
    """
    present = list(container)
    for k in present:
        if _find(data, k, present) is None and (old is None or _find(old, k, present) is not None):
            del container[k]  # removed, or back to its default
    for k, v in data.items():
        name = _find(container, k, data)
        current = container[name] if name is not None else None
        known = _find(old, k, data) if old is not None else None
        before = old[known] if old is not None and known is not None else None
        if current is not None and known is not None and before == v:
            continue  # unchanged: left exactly as written
        if isinstance(v, Mapping):
            if isinstance(current, tomlkit.items.Table | tomlkit.items.InlineTable) and not (
                isinstance(current, tomlkit.items.InlineTable) and _has_tables(v)
            ):
                _merge(current, v, before if isinstance(before, Mapping) else None)
                continue
            if name is not None:
                del container[name]
            container[k] = _new_table(v)
        elif _is_table(v):
            if _table_list(current):
                _merge_list(current, v, before if isinstance(before, list) else None)
                continue
            if name is not None:
                del container[name]
            aot = tomlkit.aot()
            for item in v:
                aot.append(_new_table(item))
            container[k] = aot
        elif current is None:
            container[k] = _indented_like_siblings(container, v)
        elif _plain(current) != v:
            container[name] = v  # tomlkit keeps the key's indentation and comment


def _indented_like_siblings(container: Any, value: Any) -> Any:
    # A key added to an indented table is indented like the table's other keys.
    item = tomlkit.item(value)
    if isinstance(container, tomlkit.items.Table):
        body = container.value
        plain = [
            found
            for k in body
            if isinstance(found := body.item(k), tomlkit.items.Item)
            and not _is_table(_plain(found))
        ]
        if plain:
            item.trivia.indent = plain[-1].trivia.indent
    return item


def _merge_list(current: Any, new: list[Any], old: list[Any] | None) -> None:
    # Item by item, so that the items (and their comments) that stayed are left as they are.
    common = min(len(current), len(new))
    for i in range(common):
        before = old[i] if old is not None and i < len(old) else None
        if before == new[i]:
            continue
        _merge(current[i], new[i], before if isinstance(before, Mapping) else None)
    while len(current) > len(new):
        del current[len(current) - 1]
    for item in new[common:]:
        # An inline array takes plain dicts (tomlkit makes them inline tables).
        current.append(_new_table(item) if isinstance(current, tomlkit.items.AoT) else item)


def _table_list(value: Any) -> bool:
    if isinstance(value, tomlkit.items.AoT):
        return True
    return isinstance(value, tomlkit.items.Array) and all(
        isinstance(x, tomlkit.items.InlineTable) for x in value
    )


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
    _merge(table, data, None)
    return table


def _plain(item: Any) -> Any:
    unwrap = getattr(item, "unwrap", None)
    return unwrap() if callable(unwrap) else item
