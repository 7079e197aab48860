"""TCP matcher nodes and `TCPConnection`, what they match against."""

from __future__ import annotations

from typing import final

import attrs

from ._node import Node, _canonical_host_value, _HostValue, _Pattern, _str_tuple, _Template

__all__ = ["ALPN", "HostSNI", "HostSNIRegexp", "HostSNITemplate", "TCPConnection"]


def _sni(value: str) -> str:
    return _canonical_host_value(value.strip())


@final
@attrs.frozen
class TCPConnection:
    """What TCP rules see of a connection: TLS server name, peer address, offered ALPN protocols."""

    sni: str = attrs.field(default="", converter=_sni)
    client_ip: str | None = None
    alpn: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)


@final
@attrs.frozen
class HostSNI(_HostValue):
    """The TLS server name equals ``host`` (lower case); ``*`` matches every connection."""

    def matches(self, request: TCPConnection) -> bool:
        """Compare with ``connection.sni``."""
        host: str = request.sni
        suffix = self._suffix
        if suffix is None:
            return host == self.host  # the common case, without a further call
        return self._wildcard_matches(host, suffix)


@final
@attrs.frozen
class HostSNIRegexp(_Pattern):
    """v3: a plain RE2 regexp, unanchored, searched in the TLS server name."""

    def matches(self, request: TCPConnection) -> bool:
        """Search the pattern in ``connection.sni``."""
        return self._re.search(request.sni)


@final
@attrs.frozen
class HostSNITemplate(_Template):
    """v2 ``HostSNIRegexp``: a gorilla-style template, anchored, case-insensitive."""

    _subject = "sni"
    _case_insensitive = True

    def matches(self, request: TCPConnection) -> bool:
        """Match the whole server name against the template."""
        return self._re.search(request.sni)


@final
@attrs.frozen
class ALPN(Node):
    """The client offered ``protocol`` in its TLS ALPN extension."""

    protocol: str

    def matches(self, request: TCPConnection) -> bool:
        """Look the protocol up in ``connection.alpn``."""
        return self.protocol in request.alpn

    def values(self) -> tuple[str, ...]:
        """``(protocol,)``."""
        return (self.protocol,)
