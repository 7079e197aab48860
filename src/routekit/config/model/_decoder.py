"""Fill the configuration model from a :class:`Node` tree, field by field.

The decoder walks the model's attrs classes, so every field the model gains is reachable from
labels and KV without a second list of names.  Like Traefik's paerser it matches a key to a field
ignoring case and underscores (``passHostHeader``, ``passhostheader`` → ``pass_host_header``),
splits comma lists, reads ``0``, ``1``… children as list items and keeps map keys as written.
Every key that fits no field becomes a :class:`~routekit.errors.Problem` with a "did you mean"
hint: a typo is never silently ignored.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any, Final

import attrs

from ...errors import ConfigError, Problem
from ._durations import parse_duration
from ._fields import file_key, is_duration
from ._hints import REMOVED_OPTIONS, did_you_mean
from ._numbers import parse_int
from ._tree import Node

__all__ = ["INVALID", "Decoder", "field_key", "type_key"]


class _Invalid:
    def __repr__(self) -> str:
        return "INVALID"


#: Returned for an element that could not be decoded (its problems are already recorded).
INVALID: Final = _Invalid()

_TRUE: Final = frozenset({"1", "t", "true"})
_FALSE: Final = frozenset({"0", "f", "false"})


def field_key(name: str) -> str:
    """The key a name is matched by, ignoring case and ``_``: ``entry_points`` → ``entrypoints``."""
    return name.replace("_", "").lower()


@cache
def _fields(cls: type) -> tuple[tuple[str, str, attrs.Attribute[Any], Any], ...]:
    """(match key, file key, attribute, resolved type) for every init field of *cls*."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in attrs.fields(cls):
        if not f.init:
            continue
        name = file_key(f)
        out.append((field_key(name), name, f, hints.get(f.name, Any)))
    return tuple(out)


def type_key(cls: type) -> str:
    """The file key of a union member: its ``type_key`` (``stripPrefix``), else its class name."""
    key = getattr(cls, "type_key", None)
    return key if isinstance(key, str) else cls.__name__[:1].lower() + cls.__name__[1:]


def _unwrap_optional(tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


class Decoder:
    """Decodes :class:`Node` trees into model values, collecting problems.

    Args:
        problems: the list problems are appended to.
        where: builds a problem's ``source`` from a node (label key + container, KV key).
        aliases: more type keys for the members of a union of attrs classes (middlewares),
            besides their own ``type_key``: the deprecated ``ipWhiteList`` → the `IPAllowList`
            of the union being decoded (HTTP or TCP).
    """

    def __init__(
        self,
        problems: list[Problem],
        where: Callable[[Node], str | None],
        *,
        aliases: Mapping[str, tuple[type, ...]] | None = None,
    ) -> None:
        self.problems = problems
        self.where = where
        self.aliases = aliases or {}

    def report(self, node: Node, path: str, message: str, hint: str | None = None) -> _Invalid:
        """Record a problem about *node* at *path*; return :data:`INVALID`."""
        self.problems.append(
            Problem(path=path, message=message, source=self.where(node), hint=hint)
        )
        return INVALID

    def decode(self, node: Node, tp: Any, path: str, *, duration: bool = False) -> Any:
        """Decode *node* as a value of type *tp*, or record problems and return ``INVALID``.

        *duration* marks a field holding seconds, written as a Go duration (``"10s"``).
        """
        tp = _unwrap_optional(tp)
        origin = typing.get_origin(tp) or tp
        if attrs.has(tp):
            return self._decode_class(node, tp, path)
        if origin in (typing.Union, types.UnionType):
            return self._decode_union(node, tp, path)
        if isinstance(origin, type) and origin is not str and issubclass(origin, (tuple, list)):
            return self._decode_list(node, tp, path)
        if origin is Sequence:
            return self._decode_list(node, tp, path)
        if isinstance(origin, type) and issubclass(origin, Mapping):
            return self._decode_map(node, tp, path)
        if node.children:
            names = ", ".join(sorted(node.children))
            return self.report(node, path, f"expected a value, found sub-keys ({names})")
        if duration:
            try:
                return parse_duration(node.value or "")
            except ValueError as exc:
                return self.report(node, path, str(exc))
        return self._decode_scalar(node, node.value or "", tp, path)

    def _decode_map(self, node: Node, tp: Any, path: str) -> Any:
        if node.value is not None and not node.children:
            return self._decode_header_map(node, path)
        args = typing.get_args(tp)
        value_tp = args[1] if len(args) == 2 else str
        result = {}
        bad = False
        for name, child in node.children.items():
            item = self.decode(child, value_tp, f"{path}.{name}")
            if item is INVALID:
                bad = True
            result[name] = item
        return INVALID if bad else result

    def _decode_header_map(self, node: Node, path: str) -> Any:
        # v1 style "K:V||K2:V2" for a map given as one value.
        result: dict[str, str] = {}
        for item in (node.value or "").split("||"):
            key, sep, value = item.partition(":")
            if not sep or not key.strip():
                return self.report(node, path, f"expected 'Name:value||Name2:value2', got {item!r}")
            result[key.strip()] = value.strip()
        return result

    def _decode_scalar(self, node: Node, text: str, tp: Any, path: str) -> Any:
        if tp is str or tp is Any or tp is object:
            return text
        if tp is bool:
            lowered = text.strip().lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            return self.report(node, path, f"expected true or false, got {text!r}")
        if tp is int:
            try:
                return parse_int(text)
            except ValueError as exc:
                return self.report(node, path, str(exc))
        if tp is float:
            try:
                return float(text.strip())
            except ValueError:
                return self.report(node, path, f"expected a number, got {text!r}")
        if typing.get_origin(tp) is typing.Literal:
            options = typing.get_args(tp)
            for option in options:
                if str(option).lower() == text.strip().lower():
                    return option
            shown = ", ".join(repr(o) for o in options)
            return self.report(node, path, f"expected one of {shown}, got {text!r}")
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            for member in tp:
                if str(member.value).lower() == text.strip().lower():
                    return member
            shown = ", ".join(repr(m.value) for m in tp)
            return self.report(node, path, f"expected one of {shown}, got {text!r}")
        return self.report(node, path, f"cannot set a value of type {tp!r} from text")

    def _decode_list(self, node: Node, tp: Any, path: str) -> Any:
        args = typing.get_args(tp)
        item_tp = args[0] if args else str
        if node.children:
            if not node.is_list():
                return self.report(
                    node, path, "expected list items 0, 1, …", hint=f"found {sorted(node.children)}"
                )
            items = []
            for i, child in enumerate(node.items_in_order()):
                item = self.decode(child, item_tp, f"{path}[{i}]")
                if item is INVALID:
                    return INVALID
                items.append(item)
            return tuple(items)
        text = node.value or ""
        parts = [p.strip() for p in text.split(",") if p.strip()]
        items = []
        for part in parts:
            item = self._decode_scalar(node, part, _unwrap_optional(item_tp), path)
            if item is INVALID:
                return INVALID
            items.append(item)
        return tuple(items)

    def _decode_union(self, node: Node, tp: Any, path: str) -> Any:
        # A union of attrs classes (middlewares) is told apart by its one child, the type key.
        members = [c for c in typing.get_args(tp) if attrs.has(c)]
        names = {field_key(type_key(c)): c for c in members}
        names.update(
            {field_key(k): c for k, cs in self.aliases.items() for c in cs if c in members}
        )
        shown = sorted(type_key(c) for c in members)
        if len(node.children) != 1 or node.value is not None:
            found = ", ".join(node.children) or repr(node.value)
            return self.report(
                node,
                path,
                f"expected exactly one type, found {found}",
                hint="types: " + ", ".join(shown),
            )
        ((name, child),) = node.children.items()
        cls = names.get(field_key(name))
        if cls is None:
            return self.unknown(child, path, name, shown)
        return self.decode(child, cls, f"{path}.{type_key(cls)}")

    def _decode_class(self, node: Node, cls: type, path: str) -> Any:
        known = _fields(cls)
        by_key = {k: (n, f, t) for k, n, f, t in known}
        kwargs: dict[str, Any] = {}
        seen: dict[str, str] = {}
        bad = False
        if node.value is not None and not node.children:
            # "tls=true": enable the element with its defaults (paerser does the same).
            if node.value.strip().lower() in _TRUE:
                return self._build(node, cls, {}, path)
            return self.report(node, path, f"expected sub-keys, got the value {node.value!r}")
        for name, child in node.children.items():
            match = by_key.get(field_key(name))
            if match is None:
                self.unknown(child, path, name, [n for _, n, _, _ in known])
                bad = True
                continue
            fname, attribute, ftp = match
            if attribute.name in seen:
                self.report(
                    child, f"{path}.{name}", f"set twice (also as {seen[attribute.name]!r})"
                )
                bad = True
                continue
            seen[attribute.name] = name
            value = self.decode(child, ftp, f"{path}.{fname}", duration=is_duration(attribute))
            if value is INVALID:
                bad = True
                continue
            kwargs[attribute.alias or attribute.name] = value
        if bad:
            return INVALID
        return self._build(node, cls, kwargs, path)

    def _build(self, node: Node, cls: type, kwargs: dict[str, Any], path: str) -> Any:
        missing = [
            file_key(f)
            for f in attrs.fields(cls)
            if f.init and f.default is attrs.NOTHING and (f.alias or f.name) not in kwargs
        ]
        if missing:
            return self.report(node, path, f"missing {', '.join(missing)}")
        try:
            return cls(**kwargs)
        except ConfigError as exc:
            for p in exc.problems:
                self.report(node, path + ("." + p.path if p.path else ""), p.message, p.hint)
            return INVALID
        except (ValueError, TypeError) as exc:
            return self.report(node, path, str(exc))

    def unknown(self, child: Node, path: str, name: str, options: Sequence[str]) -> _Invalid:
        """Report *name* (below *path*) as an unknown key, with the closest known one as hint."""
        hint = REMOVED_OPTIONS.get(name.lower()) or did_you_mean(name, options)
        if hint is None and options:
            hint = "known: " + ", ".join(sorted(options))
        where = f"{path}.{name}" if path else name
        return self.report(child, where, f"unknown key {name!r}", hint)
