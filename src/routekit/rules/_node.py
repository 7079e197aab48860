"""Node base class and what every node module shares: regexp compilation, host values."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from ._golit import go_quote
from ._regex import Regexp, compile_regexp, compile_template, template_regexp

if TYPE_CHECKING:
    from ..request import Request
    from ._tcp import TCPConnection

__all__ = ["Node"]


class Node:
    """Base class of every rule node: a predicate over a request."""

    __slots__ = ()

    #: True for v1 modifiers, which never affect matching.
    always_matches: ClassVar[bool] = False

    # The subject depends on the node's family and each node declares its own: a `Request` for
    # HTTP matchers, a `TCPConnection` for TCP ones, labels or tags for provider constraints,
    # anything for And/Or/Not.  The base takes Any so that each can narrow it.
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


def _compile_query_template(template: str) -> Regexp:
    # gorilla/mux matches a Queries value as one anchored template ("{name}" = any text).
    return compile_regexp(f"^{template_regexp(template, kind='query')}$")


def _str_tuple(values: str | Iterable[str]) -> tuple[str, ...]:
    # Converter of multi-valued fields: one string is one value, not its characters.
    return (values,) if isinstance(values, str) else tuple(values)


def _set(node: object, name: str, value: object) -> None:
    object.__setattr__(node, name, value)


def _canonical_host_value(value: str) -> str:
    # Traefik lower-cases Host values and tolerates a trailing dot on either side.
    # Every trailing dot goes (keeping a lone "."), so that normalising twice changes nothing.
    stripped = value.lower().rstrip(".")
    return stripped or value[:1]


def _wildcard_suffix(value: str) -> str | None:
    if value == "*":
        return ""
    if value.startswith("*."):
        return value[1:]
    return None


# The leaf shapes several node kinds share.  Each concrete node still defines its own
# ``matches`` that reads its request attribute directly (``request.host``, ``request.sni``...):
# a shared ``matches`` would need ``getattr`` or a further call on every match.


@attrs.frozen
class _HostValue(Node):
    """A ``host`` value (lower case) matched exactly, as ``*`` or as ``*.suffix``."""

    host: str = attrs.field(converter=_canonical_host_value)
    _suffix: str | None = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        _set(self, "_suffix", _wildcard_suffix(self.host))

    def values(self) -> tuple[str, ...]:
        """``(host,)``."""
        return (self.host,)

    @staticmethod
    def _wildcard_matches(host: str, suffix: str) -> bool:
        if not suffix:
            return True  # `*`: everything, the empty host included (Traefik v3.7).
        # `*.x.com` stands for exactly one extra, non-empty leading label (Traefik v3.7).
        return host.endswith(suffix) and len(host) > len(suffix) and "." not in host[: -len(suffix)]


@attrs.frozen
class _Pattern(Node):
    """A v3 plain RE2 ``pattern``, unanchored, compiled once."""

    pattern: str
    _re: Regexp = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        _set(self, "_re", compile_regexp(self.pattern))

    def values(self) -> tuple[str, ...]:
        """``(pattern,)``."""
        return (self.pattern,)


@attrs.frozen
class _Template(Node):
    """A v1/v2 gorilla ``{name:re}`` template matched against one request attribute.

    Subclasses name that attribute in ``_subject`` (``variables`` reads it from there; their own
    ``matches`` reads it directly) and set ``_prefix`` / ``_case_insensitive`` as gorilla does.
    """

    _subject: ClassVar[str]
    _prefix: ClassVar[bool] = False
    _case_insensitive: ClassVar[bool] = False

    template: str
    _re: Regexp = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        regexp = compile_template(
            self.template, prefix=self._prefix, case_insensitive=self._case_insensitive
        )
        _set(self, "_re", regexp)

    def variables(self, request: Request | TCPConnection) -> dict[str, str]:
        """The template variables bound by the matched attribute of *request*."""
        return self._re.groups(getattr(request, self._subject)) or {}

    def values(self) -> tuple[str, ...]:
        """``(template,)``."""
        return (self.template,)
