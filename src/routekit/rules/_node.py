"""Node base class and what every node module shares: regexp compilation, host values."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from ._golit import go_quote

if TYPE_CHECKING:
    from ._regex import Regexp

__all__ = ["Node"]


class Node:
    """Base class of every rule node: a predicate over a request."""

    __slots__ = ()

    #: True for v1 modifiers, which never affect matching.
    always_matches: ClassVar[bool] = False

    def matches(self, request: Any) -> bool:
        """Whether *request* (a `Request`, or a `TCPConnection` for TCP nodes) satisfies this."""
        raise NotImplementedError

    def values(self) -> tuple[str, ...]:
        """The node's arguments as rule text carries them (empty for And/Or/Not)."""
        return ()

    def variables(self, request: Any) -> dict[str, str]:
        """The ``{name:re}`` template variables this node binds for *request* (usually none)."""
        return {}

    def __str__(self) -> str:
        args = ", ".join(_show(v) for v in self.values())
        return f"{type(self).__name__}({args})"


def _show(value: str) -> str:
    try:
        return go_quote(value)
    except ValueError:
        return repr(value)  # not Go text (a lone surrogate), but str() must never fail


def _regex_module() -> Any:
    # Imported on first use: the regex engine is optional for trees without patterns.
    from . import _regex

    return _regex


def _compile_regexp(pattern: str) -> Regexp:
    return _regex_module().compile_regexp(pattern)  # type: ignore[no-any-return]


def _compile_template(template: str, *, prefix: bool = False, ci: bool = False) -> Regexp:
    return _regex_module().compile_template(  # type: ignore[no-any-return]
        template, prefix=prefix, case_insensitive=ci
    )


def _compile_query_template(template: str) -> Regexp:
    # gorilla/mux matches a Queries value as one anchored template ("{name}" = any text); the
    # template-to-regexp translation lives with the v1 parser, imported here on first use.
    from ._v1 import template_regexp

    return _compile_regexp(f"^{template_regexp(template, kind='query')}$")


def _set(node: object, name: str, value: object) -> None:
    object.__setattr__(node, name, value)


def _canonical_host_value(value: str) -> str:
    # Traefik lower-cases Host values and tolerates a trailing dot on either side.
    # Every trailing dot goes (keeping a lone "."), so that normalising twice changes nothing.
    stripped = value.lower().rstrip(".")
    return stripped or value[:1]


class _HostLike(Node):
    """Shared matching of Host and HostSNI values: exact, ``*`` or ``*.suffix``."""

    __slots__ = ()

    def _host_matches(self, host: str, value: str, suffix: str | None) -> bool:
        if suffix is None:
            return host == value
        if not suffix:
            return True  # `*`: everything, the empty host included (Traefik v3.7).
        # `*.x.com` stands for exactly one extra, non-empty leading label (Traefik v3.7).
        return host.endswith(suffix) and len(host) > len(suffix) and "." not in host[: -len(suffix)]


def _wildcard_suffix(value: str) -> str | None:
    if value == "*":
        return ""
    if value.startswith("*."):
        return value[1:]
    return None
