"""TCP matcher nodes and `TCPConnection`, what they match against."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, final

import attrs

from ._node import (
    Node,
    _canonical_host_value,
    _compile_regexp,
    _compile_template,
    _HostLike,
    _set,
    _wildcard_suffix,
)

if TYPE_CHECKING:
    from ._regex import Regexp

__all__ = ["ALPN", "HostSNI", "HostSNIRegexp", "HostSNITemplate", "TCPConnection"]


def _alpn(value: str | Iterable[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _sni(value: str) -> str:
    return _canonical_host_value(value.strip())


@final
@attrs.frozen
class TCPConnection:
    """What TCP rules see of a connection: TLS server name, peer address, offered ALPN protocols."""

    sni: str = attrs.field(default="", converter=_sni)
    client_ip: str | None = None
    alpn: tuple[str, ...] = attrs.field(default=(), converter=_alpn)


@final
@attrs.frozen
class HostSNI(_HostLike):
    """The TLS server name equals ``host`` (lower case); ``*`` matches every connection."""

    host: str = attrs.field(converter=_canonical_host_value)
    _suffix: str | None = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        _set(self, "_suffix", _wildcard_suffix(self.host))

    def matches(self, request: Any) -> bool:
        """Compare with ``connection.sni``."""
        host: str = request.sni
        suffix = self._suffix
        if suffix is None:
            return host == self.host  # the common case, without a further call
        return self._host_matches(host, self.host, suffix)

    def values(self) -> tuple[str, ...]:
        """``(host,)``."""
        return (self.host,)


@final
@attrs.frozen
class HostSNIRegexp(Node):
    """v3: a plain RE2 regexp, unanchored, searched in the TLS server name."""

    pattern: str
    _re: Regexp = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        _set(self, "_re", _compile_regexp(self.pattern))

    def matches(self, request: Any) -> bool:
        """Search the pattern in ``connection.sni``."""
        return self._re.search(request.sni)

    def values(self) -> tuple[str, ...]:
        """``(pattern,)``."""
        return (self.pattern,)


@final
@attrs.frozen
class HostSNITemplate(Node):
    """v2 ``HostSNIRegexp``: a gorilla-style template, anchored, case-insensitive."""

    template: str
    _re: Regexp = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        _set(self, "_re", _compile_template(self.template, ci=True))

    def matches(self, request: Any) -> bool:
        """Match the whole server name against the template."""
        return self._re.search(request.sni)

    def variables(self, request: Any) -> dict[str, str]:
        """The template variables bound by the sni of *request*."""
        return self._re.groups(request.sni) or {}

    def values(self) -> tuple[str, ...]:
        """``(template,)``."""
        return (self.template,)


@final
@attrs.frozen
class ALPN(Node):
    """The client offered ``protocol`` in its TLS ALPN extension."""

    protocol: str

    def matches(self, request: Any) -> bool:
        """Look the protocol up in ``connection.alpn``."""
        return self.protocol in request.alpn

    def values(self) -> tuple[str, ...]:
        """``(protocol,)``."""
        return (self.protocol,)
