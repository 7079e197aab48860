"""The front doors: read configuration files and text, strictly or leniently.

Two pairs per kind, with no guessing between a file name and TOML text:

===========  =========================  ==================================
             strict (raise ConfigError)  lenient (keep the good, report)
===========  =========================  ==================================
dynamic      `load_config` (path)        `read_config` (path)
             `loads_config` (text)       `reads_config` (text)
static       `load_static` (path)        `read_static` (path)
             `loads_static` (text)       `reads_static` (text)
===========  =========================  ==================================

`read_any` tells the two kinds apart by their top-level keys, for tools that accept either
(``routekit check``, ``routekit migrate``).  This is the only module of ``config/`` that reads
files; everything below it is pure.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, TypeVar, cast, final

import attrs

from ..errors import ConfigError, Problem
from ._flags import flag_tree, merge_tree
from ._static import is_static, static_from_data
from ._static_model import StaticConfiguration
from .files import Locator, loads_dynamic_data, parse_toml
from .model import Configuration, validate

__all__ = [
    "ConfigResult",
    "LoadResult",
    "StaticResult",
    "load_config",
    "load_static",
    "loads_config",
    "loads_static",
    "read_any",
    "reads_any",
    "read_config",
    "read_static",
    "read_text_file",
    "reads_config",
    "reads_static",
]

PathArg = str | os.PathLike[str]
_R = TypeVar("_R", "ConfigResult", "StaticResult")


class _Problems:
    """The `errors` shared by every result: its problems of severity ``error``."""

    __slots__ = ()
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        """The problems that left something out (severity ``error``)."""
        return tuple(p for p in self.problems if p.severity == "error")


@final
@attrs.frozen
class ConfigResult(_Problems):
    """What `read_config` found: the servable dynamic configuration and every problem."""

    config: Configuration
    problems: tuple[Problem, ...]


@final
@attrs.frozen
class StaticResult(_Problems):
    """What `read_static` found: the usable static configuration and every problem."""

    config: StaticConfiguration
    problems: tuple[Problem, ...]


@final
@attrs.frozen
class LoadResult(_Problems):
    """What `read_any` found: the kind of file, its usable part and every problem."""

    kind: Literal["static", "dynamic"]
    config: Configuration | StaticConfiguration
    problems: tuple[Problem, ...]


class _Unreadable(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


def _read_file(path: PathArg) -> tuple[str, str]:
    """The text of a file and its name; any failure is a located problem, never a crash."""
    where = os.fspath(path)
    try:
        data = Path(where).read_bytes()
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the name
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise _Unreadable(Problem("", f"cannot read the file: {reason}", source=where)) from None
    try:
        return data.decode("utf-8"), where
    except UnicodeDecodeError as exc:
        # TOML files are UTF-8 (TOML 1.0, "Spec"); say where the first bad byte is.
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _Unreadable(
            Problem(
                "",
                f"not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be decoded",
                source=f"{where}:{line}:{column}",
                hint="TOML files must be UTF-8; re-save the file as UTF-8",
            )
        ) from None


def _parse_any(
    text: str,
    source: str,
    expect: Literal["static", "dynamic"] | None,
    flags: Sequence[str] = (),
) -> LoadResult:
    if "\x00" in text:
        at = text.index("\x00")
        line = text.count("\n", 0, at) + 1
        column = at - (text.rfind("\n", 0, at) + 1) + 1
        where = f"{source}:{line}:{column}"
        nul = Problem("", "a NUL character cannot appear in TOML", source=where)
        return LoadResult(expect or "dynamic", _empty(expect), (nul,))
    data = parse_toml(text, source)
    if isinstance(data, Problem):
        return LoadResult(expect or "dynamic", _empty(expect), (data,))
    refused: list[Problem] = []
    if flags:
        # Traefik's flags over the file (flags win), read as the same tree.
        tree, refused = flag_tree(flags)
        data = merge_tree(data, tree)
    locate = Locator(text, source)
    if is_static(data) or (flags and expect == "static"):
        if expect == "dynamic":
            return _wrong_kind("dynamic", source)
        static, problems = static_from_data(data, locate)
        problems[:0] = refused
        if static.dynamic is not None:
            checked = validate(static.dynamic)
            static = attrs.evolve(static, dynamic=checked.config)
            problems.extend(locate.at_fault(p) for p in checked.problems)
        return LoadResult("static", static, tuple(problems))
    if expect == "static":
        return _wrong_kind("static", source)
    config, problems = loads_dynamic_data(data, locate)
    checked = validate(config)
    located = (locate.at_fault(p) for p in checked.problems)
    return LoadResult("dynamic", checked.config, (*problems, *located))


def _empty(kind: Literal["static", "dynamic"] | None) -> Configuration | StaticConfiguration:
    return StaticConfiguration() if kind == "static" else Configuration()


def _wrong_kind(expected: Literal["static", "dynamic"], source: str) -> LoadResult:
    other = "dynamic" if expected == "static" else "static"
    fix = "read_static / load_static" if other == "static" else "read_config / load_config"
    problem = Problem(
        "",
        f"this is a {other} configuration, not a {expected} one",
        source=source,
        hint=f"use {fix}, or `routekit check`, which reads both",
    )
    return LoadResult(expected, _empty(expected), (problem,))


def _from_path(
    path: PathArg, expect: Literal["static", "dynamic"] | None, flags: Sequence[str] = ()
) -> LoadResult:
    try:
        text, where = _read_file(path)
    except _Unreadable as exc:
        return LoadResult(expect or "dynamic", _empty(expect), (exc.problem,))
    return _parse_any(text, where, expect, flags)


# `_parse_any` with an expected kind always returns a configuration of that kind.
def _dynamic(result: LoadResult) -> ConfigResult:
    return ConfigResult(cast(Configuration, result.config), result.problems)


def _static(result: LoadResult) -> StaticResult:
    return StaticResult(cast(StaticConfiguration, result.config), result.problems)


def _strict(result: _R) -> _R:
    if result.errors:
        raise ConfigError(result.problems)
    return result


def read_text_file(path: PathArg) -> str:
    """The UTF-8 text of a file; raise `ConfigError` with the located problem if unreadable."""
    try:
        return _read_file(path)[0]
    except _Unreadable as exc:
        raise ConfigError([exc.problem]) from None


def read_any(path: PathArg) -> LoadResult:
    """Read a static or dynamic configuration file (told apart by its keys); never raise."""
    return _from_path(path, None)


def reads_any(text: str, *, source: str = "<text>") -> LoadResult:
    """Like `read_any` for TOML text; ``source`` names it in problems."""
    return _parse_any(text, source, None)


def read_config(path: PathArg) -> ConfigResult:
    """Read a dynamic configuration file leniently: what can be served, and every problem.

    The elements with problems are left out and reported; an unreadable file (missing, not
    UTF-8, not TOML, a static file) gives an empty configuration and its problem.
    """
    return _dynamic(_from_path(path, "dynamic"))


def reads_config(text: str, *, source: str = "<text>") -> ConfigResult:
    """Like `read_config` for TOML text; ``source`` names it in problems."""
    return _dynamic(_parse_any(text, source, "dynamic"))


def load_config(path: PathArg) -> Configuration:
    """Read a dynamic configuration file; raise `ConfigError` listing every problem in it.

    Warnings do not raise; any error does (all or nothing): use `read_config` to keep the good
    elements and see the rest.
    """
    return _strict(read_config(path)).config


def loads_config(text: str, *, source: str = "<text>") -> Configuration:
    """Like `load_config` for TOML text; ``source`` names it in problems."""
    return _strict(reads_config(text, source=source)).config


def read_static(path: PathArg, *, flags: Sequence[str] = ()) -> StaticResult:
    """Read a static configuration file (v1 or v2/v3 shape) leniently, with every problem;
    Traefik's command-line *flags* (``--log.level=DEBUG``) override its keys."""
    return _static(_from_path(path, "static", flags))


def reads_static(text: str, *, source: str = "<text>", flags: Sequence[str] = ()) -> StaticResult:
    """Like `read_static` for TOML text; ``source`` names it in problems."""
    return _static(_parse_any(text, source, "static", flags))


def load_static(path: PathArg) -> StaticConfiguration:
    """Read a static configuration file; raise `ConfigError` listing every error in it."""
    return _strict(read_static(path)).config


def loads_static(text: str, *, source: str = "<text>") -> StaticConfiguration:
    """Like `load_static` for TOML text; ``source`` names it in problems."""
    return _strict(reads_static(text, source=source)).config
