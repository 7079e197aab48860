"""Small typed reader for Traefik v1 TOML tables: case-insensitive keys, problems for the rest.

Traefik v1 decoded its TOML with BurntSushi/toml, which matches keys case-insensitively; v1 files
therefore mix ``entrypoints``, ``entryPoints`` and ``EntryPoints``.  The reader does the same and
reports every key it does not know, with a "did you mean".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from ...errors import Problem
from ..model import did_you_mean, parse_duration, parse_int

__all__ = ["Bad", "V1Reader", "or_default"]

_T = TypeVar("_T")


class Bad(Exception):
    """An element of a v1 file is unusable; its problem is already recorded."""


class V1Reader:
    """Reads values out of parsed TOML tables, recording problems with their positions."""

    def __init__(self, locate: Callable[[tuple[str, ...]], str], problems: list[Problem]) -> None:
        self.locate = locate
        self.problems = problems

    def fail(self, path: tuple[str, ...], message: str, hint: str | None = None) -> Bad:
        """Record an error at ``path`` and return the exception that drops the element."""
        self.problems.append(Problem(".".join(path), message, self.locate(path), hint))
        return Bad(message)

    def warn(self, path: tuple[str, ...], message: str, hint: str | None = None) -> None:
        """Record a warning at ``path`` (the element still applies)."""
        self.problems.append(
            Problem(".".join(path), message, self.locate(path), hint, severity="warning")
        )

    def table(
        self,
        value: Any,
        path: tuple[str, ...],
        known: Iterable[str],
        *,
        unknown: str = "error",
    ) -> dict[str, tuple[str, Any]]:
        """Check that ``value`` is a table with only ``known`` keys (any case).

        Returns lower-cased known key → (key as written, value).  Unknown keys raise `Bad`, or
        with ``unknown="warn"`` are reported as warnings ("not used") and skipped.
        """
        if not isinstance(value, Mapping):
            raise self.fail(path, f"expected a table, found {_kind(value)}")
        by_lower = {k.lower(): k for k in known}
        out: dict[str, tuple[str, Any]] = {}
        bad: Bad | None = None
        for key, item in value.items():
            canon = by_lower.get(key.lower())
            if canon is None:
                hint = did_you_mean(key, by_lower.values())
                if unknown == "warn":
                    self.warn((*path, key), f"{key!r} is not used by routekit; ignored", hint)
                    continue
                bad = self.fail((*path, key), f"unknown key {key!r}", hint)
                continue
            out[canon.lower()] = (key, item)
        if bad is not None:
            raise bad
        return out

    def str_(self, t: Mapping[str, tuple[str, Any]], key: str, path: tuple[str, ...]) -> str | None:
        """A string value, or ``None`` when absent."""
        entry = t.get(key.lower())
        if entry is None:
            return None
        if isinstance(entry[1], bool) or not isinstance(entry[1], str | int | float):
            raise self.fail((*path, entry[0]), f"expected a string, found {_kind(entry[1])}")
        return str(entry[1])

    def int_(self, t: Mapping[str, tuple[str, Any]], key: str, path: tuple[str, ...]) -> int | None:
        """An integer value (``"3"`` accepted as paerser does), or ``None`` when absent."""
        entry = t.get(key.lower())
        if entry is None:
            return None
        value = entry[1]
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return parse_int(value)
            except ValueError:
                pass
        raise self.fail((*path, entry[0]), f"expected an integer, found {_kind(value)}")

    def bool_(
        self, t: Mapping[str, tuple[str, Any]], key: str, path: tuple[str, ...]
    ) -> bool | None:
        """A boolean value, or ``None`` when absent."""
        entry = t.get(key.lower())
        if entry is None:
            return None
        value = entry[1]
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise self.fail((*path, entry[0]), f"expected true or false, found {_kind(value)}")

    def list_(
        self, t: Mapping[str, tuple[str, Any]], key: str, path: tuple[str, ...]
    ) -> tuple[str, ...] | None:
        """A list of strings (a comma-separated string is accepted), or ``None`` when absent."""
        entry = t.get(key.lower())
        if entry is None:
            return None
        value = entry[1]
        if isinstance(value, str):
            return tuple(p.strip() for p in value.split(",") if p.strip())
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise self.fail((*path, entry[0]), f"expected a list of strings, found {_kind(value)}")

    def duration(
        self, t: Mapping[str, tuple[str, Any]], key: str, path: tuple[str, ...]
    ) -> float | None:
        """A duration in seconds, or ``None`` when absent."""
        entry = t.get(key.lower())
        if entry is None:
            return None
        try:
            return parse_duration(entry[1])
        except (ValueError, TypeError, AttributeError):
            raise self.fail(
                (*path, entry[0]), f"expected a duration like '10s', found {entry[1]!r}"
            ) from None

    def str_map(
        self, t: Mapping[str, tuple[str, Any]], key: str, path: tuple[str, ...]
    ) -> dict[str, str] | None:
        """A table of strings (headers), or ``None`` when absent."""
        entry = t.get(key.lower())
        if entry is None:
            return None
        value = entry[1]
        if isinstance(value, Mapping) and all(isinstance(v, str) for v in value.values()):
            return {str(k): v for k, v in value.items()}
        raise self.fail((*path, entry[0]), f"expected a table of strings, found {_kind(value)}")


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    return f"a {type(value).__name__}"


def or_default(value: _T | None, default: _T) -> _T:
    """*value*, or *default* when a reader found nothing (``None``); ``0`` and ``""`` are kept."""
    return default if value is None else value
