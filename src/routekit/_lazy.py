"""Lazy re-exports for package namespaces: import a submodule only when one of its names is used.

It keeps ``import routekit`` fast and free of optional dependencies (``routekit.testing`` needs
hypothesis only once a strategy is asked for).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

# Optional packages a lazily imported name may need, and the extra that installs each.
_EXTRAS = {"hypothesis": "test", "re2": "re2", "wsproto": "asgi"}


def lazy_exports(
    package: str, namespace: dict[str, Any], where: Mapping[str, str], public: Iterable[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return ``(__getattr__, __dir__)`` for *package*, resolving ``name`` from ``where[name]``.

    A resolved name is stored in *namespace* so that the import happens once.
    """
    names = sorted(set(public))

    def getattr_(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        try:
            value = getattr(importlib.import_module(module, package), name)
        except ModuleNotFoundError as exc:
            extra = _EXTRAS.get((exc.name or "").partition(".")[0])
            if extra is None:
                raise
            raise ModuleNotFoundError(
                f"{package}.{name} needs the {exc.name!r} package, which is not installed: "
                f"pip install 'routekit[{extra}]'",
                name=exc.name,
            ) from exc
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted(set(namespace) | set(names))

    return getattr_, dir_
