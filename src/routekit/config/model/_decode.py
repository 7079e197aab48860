"""Plain data ↔ model: the one walk shared by the TOML, labels and KV codecs.

Decoding goes through the :class:`Node` tree (``_tree``) and the field-by-field
decoder of ``_decoder`` (Traefik's paerser reads files, labels and KV alike through such a
tree of text values, which is why ``weight = "3"`` is accepted in a Traefik TOML file too).  This
module adds the element level: every router, service, middleware… is decoded on its own, so a bad
one is reported and left out while the rest still applies.

Encoding (`to_data`) is the inverse for typed formats: nested dicts, lists and scalars with the
file keys, fields at their defaults left out, durations written as ``"10s"``.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

from ...errors import ConfigError, Problem
from ._decoder import INVALID, Decoder
from ._durations import format_duration
from ._fields import file_key, is_duration
from ._frozen import FrozenMap
from ._hints import did_you_mean
from ._middlewares import MIDDLEWARE_ALIASES, MIDDLEWARE_TYPES, TCP_MIDDLEWARE_TYPES
from ._model import Configuration
from ._tree import Node

__all__ = ["SECTIONS", "decode_configuration", "to_data"]


@attrs.frozen
class _Collection:
    """One collection of a section (``http.routers``): where it goes and what it holds."""

    attribute: str  # of the section class: ``servers_transports`` for ``serversTransports``
    element: Any  # Router, the Middleware union…
    is_list: bool  # ``tls.certificates``; the other collections are maps by name


def _collections(section: type) -> dict[str, _Collection]:
    hints = typing.get_type_hints(section)
    out = {}
    for f in attrs.fields(section):
        tp = hints[f.name]  # FrozenMap[str, Router] or tuple[TLSCertificate, ...]
        is_list = typing.get_origin(tp) is tuple
        element = typing.get_args(tp)[0 if is_list else 1]
        out[file_key(f)] = _Collection(f.name, element, is_list)
    return out


#: section (``http``) → its class and its collections by file key, read from the model.
SECTIONS: Final[dict[str, tuple[type, dict[str, _Collection]]]] = {
    name: (cls, _collections(cls))
    for name, cls in typing.get_type_hints(Configuration).items()
    if attrs.has(cls)  # not ``sources``
}
#: Middleware types by the other names Traefik still reads (``ipWhiteList``).
_ALIASES: Final = {
    alias: tuple(t[key] for t in (MIDDLEWARE_TYPES, TCP_MIDDLEWARE_TYPES) if key in t)
    for alias, key in MIDDLEWARE_ALIASES.items()
}


def _where_default(node: Node) -> str | None:
    return node.source or node.first_source()


def _match(name: str, options: Mapping[str, Any]) -> str | None:
    lowered = {k.lower(): k for k in options}
    return lowered.get(name.lower())


def _did_you_mean(name: str, options: list[str]) -> str:
    return did_you_mean(name, options) or "expected one of: " + ", ".join(options)


def _record_sources(
    node: Node, path: str, where: Callable[[Node], str | None], out: dict[str, str]
) -> None:
    src = where(node)
    if src is not None:
        out[path] = src
    for name, child in node.children.items():
        _record_sources(child, f"{path}.{name}", where, out)


def decode_configuration(
    root: Node,
    *,
    where: Callable[[Node], str | None] = _where_default,
    problems: list[Problem] | None = None,
) -> tuple[Configuration, list[Problem]]:
    """Decode a tree shaped like Traefik's dynamic configuration (``http``/``tcp``/``tls``).

    Returns the configuration made of every element that decoded cleanly, and the problems
    (unknown keys with "did you mean", values of the wrong type, missing keys); an element with
    a problem is left out.  ``where(node)`` tells where a node came from (``file.toml:3:1``).
    """
    problems = [] if problems is None else problems
    decoder = Decoder(problems, where, aliases=_ALIASES)
    sources: dict[str, str] = {}
    sections: dict[str, Any] = {}
    for section_name, section_node in root.children.items():
        section = _match(section_name, SECTIONS)
        if section is None:
            problems.append(
                Problem(
                    path=section_name,
                    message=f"unknown section {section_name!r}",
                    source=where(section_node),
                    hint=_did_you_mean(section_name, list(SECTIONS)),
                )
            )
            continue
        if section_node.value is not None and not section_node.children:
            problems.append(
                Problem(section, "expected a table, found a value", where(section_node))
            )
            continue
        fields: dict[str, Any] = sections.setdefault(section, {})
        collections = SECTIONS[section][1]
        for coll_name, coll_node in section_node.children.items():
            coll = _match(coll_name, collections)
            if coll is None:
                problems.append(
                    Problem(
                        path=f"{section}.{coll_name}",
                        message=f"unknown key {coll_name!r}",
                        source=where(coll_node),
                        hint=_did_you_mean(coll_name, list(collections)),
                    )
                )
                continue
            collection = collections[coll]
            prefix = f"{section}.{coll}"
            if coll_node.value is not None and not coll_node.children:
                problems.append(
                    Problem(prefix, "expected a table, found a value", where(coll_node))
                )
                continue
            elements: dict[str, Any] = {}
            for name, node in _elements(coll_node, is_list=collection.is_list):
                path = f"{prefix}.{name}"
                value = decoder.decode(node, collection.element, path)
                _record_sources(node, path, where, sources)
                if value is not INVALID:
                    elements[name] = value
            fields[collection.attribute] = (
                tuple(elements.values()) if collection.is_list else FrozenMap(elements)
            )
    config = Configuration(
        **{name: SECTIONS[name][0](**kw) for name, kw in sections.items()},
        sources=FrozenMap(sources),
    )
    return config, problems


def _elements(node: Node, *, is_list: bool) -> list[tuple[str, Node]]:
    if is_list and node.is_list():
        return [(str(i), child) for i, child in enumerate(node.items_in_order())]
    return list(node.children.items())


# --- encoding --------------------------------------------------------------------------------


def to_data(value: Any) -> Any:
    """Return ``value`` (a model object) as plain data: dicts with file keys, lists, scalars.

    Fields at their default are left out, so an element with only defaults becomes ``{}`` (which
    still enables it: an empty ``tls`` table turns TLS on).  Middlewares become
    ``{type_key: options}``.
    """
    if isinstance(value, Configuration):
        out: dict[str, Any] = {}
        for section, cls_value in (
            ("http", value.http),
            ("tcp", value.tcp),
            ("udp", value.udp),
            ("tls", value.tls),
        ):
            data = to_data(cls_value)
            if data:
                out[section] = data
        return out
    cls = type(value)
    if attrs.has(cls):
        data = {}
        for f in attrs.fields(cls):
            if not f.init or not f.eq:
                continue
            v = getattr(value, f.name)
            if _is_default(f, v):
                continue
            if is_duration(f) and isinstance(v, int | float):
                data[file_key(f)] = format_duration(v)
            else:
                data[file_key(f)] = to_data(v)
        type_key = getattr(cls, "type_key", None)
        if isinstance(type_key, str):
            return {type_key: data}
        return data
    if isinstance(value, Mapping):
        return {str(k): to_data(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [to_data(v) for v in value]
    return value


def _is_default(f: attrs.Attribute[Any], value: Any) -> bool:
    default: Any = f.default
    if default is attrs.NOTHING:
        return False
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        default = default.factory()
    if f.converter is not None and callable(f.converter):
        default = f.converter(default)
    return bool(value == default)


def flatten_data(
    value: Any,
    key: str,
    out: dict[str, str],
    *,
    separator: str,
    index: Callable[[str, int], str],
    what: str,
    joined_lists: bool = False,
) -> None:
    """Write plain data (`to_data`) into *out* as ``key → text`` pairs, the KV and label way.

    Map keys are joined with *separator* (``/`` for KV, ``.`` for labels), list items named by
    *index*; with *joined_lists*, a list of plain values is one comma-separated value (as labels
    write it) unless a value would not survive the split.  An element with nothing written
    below it (no options, only empty lists) is written as ``<key> = true``: the key alone still
    defines it.

    Raises:
        ConfigError: a name or map key is empty or holds *separator*.
    """
    if isinstance(value, dict):
        before = len(out)
        for k, v in value.items():
            if not k or separator in k:
                raise ConfigError(
                    f"{key}{separator}{k}: an empty name or one holding {separator!r} "
                    f"cannot be {what}"
                )
            flatten_data(
                v,
                f"{key}{separator}{k}",
                out,
                separator=separator,
                index=index,
                what=what,
                joined_lists=joined_lists,
            )
        if len(out) == before:
            out[key] = "true"
    elif isinstance(value, list):
        if joined_lists and value and all(_joinable(v) for v in value):
            out[key] = ",".join(_scalar_text(v) for v in value)
            return
        for i, v in enumerate(value):
            flatten_data(
                v,
                index(key, i),
                out,
                separator=separator,
                index=index,
                what=what,
                joined_lists=joined_lists,
            )
    else:
        out[key] = _scalar_text(value)


def _joinable(value: Any) -> bool:
    # A comma list splits on every ',' and trims (Traefik's label parser): such values are
    # written one per index instead.
    if isinstance(value, dict | list):
        return False
    text = _scalar_text(value)
    return text != "" and "," not in text and text == text.strip()


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
