"""`load_config` / `read_config`: read a file or text, tell static from dynamic and v1 from v2.

The only place in ``config/`` that reads files (one ``read_text``); everything below it is pure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, final

import attrs

from ..errors import ConfigError, Problem
from ._model import Configuration
from ._static import is_static, static_from_data
from ._static_model import StaticConfiguration
from ._toml import Locator, loads_dynamic_data, parse_toml
from ._validate import validate

__all__ = ["LoadResult", "load_config", "read_config"]


@final
@attrs.frozen
class LoadResult:
    """What `read_config` found: the kind of file, its usable part and every problem."""

    kind: Literal["static", "dynamic"]
    config: Configuration | StaticConfiguration
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        """The problems that left something out (severity ``error``)."""
        return tuple(p for p in self.problems if p.severity == "error")


def _text_of(source: str | Path) -> tuple[str, str]:
    if isinstance(source, Path):
        return source.read_text(encoding="utf-8"), str(source)
    if source and "\n" not in source and "=" not in source and "[" not in source:
        # A single line without TOML syntax can only be a file name.
        return Path(source).read_text(encoding="utf-8"), source
    return source, "<text>"


def read_config(source: str | Path, *, name: str | None = None) -> LoadResult:
    """Read a configuration file (a `Path` or a file name) or TOML text; never raise on content.

    Static files (``entryPoints``, ``providers``, ``[docker]``…) and dynamic ones (``http``,
    ``tcp``, ``tls``, v1 ``frontends``/``backends``) are told apart by their top-level keys.
    Dynamic configurations are validated: `LoadResult.config` holds what can be served.
    ``name`` overrides the file name shown in problem sources.
    """
    text, where = _text_of(source)
    where = name or where
    data, problem = parse_toml(text, where)
    if data is None:
        assert problem is not None
        return LoadResult("dynamic", Configuration(), (problem,))
    locate = Locator(text, where)
    if is_static(data):
        static, problems = static_from_data(data, locate)
        if static.dynamic is not None:
            checked = validate(static.dynamic)
            static = attrs.evolve(static, dynamic=checked.config)
            problems.extend(checked.problems)
        return LoadResult("static", static, tuple(problems))
    config, problems = loads_dynamic_data(data, locate)
    checked = validate(config)
    return LoadResult("dynamic", checked.config, (*problems, *checked.problems))


def load_config(
    source: str | Path, *, strict: bool = False, name: str | None = None
) -> Configuration | StaticConfiguration:
    """Read a configuration file or text (see `read_config`) and return what can be used.

    With ``strict=True`` any error raises `ConfigError` listing every problem (all or nothing,
    like Traefik); otherwise bad elements are left out and the rest is returned — use
    `read_config` to see what was left out and why.
    """
    result = read_config(source, name=name)
    if strict and result.errors:
        raise ConfigError(result.problems)
    return result.config
