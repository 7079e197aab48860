"""HTTP matcher nodes: host, path, method, headers, query and client IP."""

from __future__ import annotations

import functools
import ipaddress
from typing import TYPE_CHECKING, final

import attrs

from ..request import TOKEN_CHARS
from ._node import Node, _compile_query_template, _HostValue, _Pattern, _set, _Template
from ._regex import Regexp, compile_regexp

if TYPE_CHECKING:
    from ..request import Request
    from ._tcp import TCPConnection

__all__ = [
    "ClientIP",
    "Header",
    "HeaderRegexp",
    "Host",
    "HostRegexp",
    "HostTemplate",
    "Method",
    "Path",
    "PathPrefix",
    "PathPrefixTemplate",
    "PathRegexp",
    "PathTemplate",
    "Query",
    "QueryRegexp",
    "QueryTemplate",
    "canonical_header_key",
    "path_node",
]


@final
@attrs.frozen
class Host(_HostValue):
    """The canonical request host equals ``host`` (lower case; ``*`` and ``*.x.com`` wildcards)."""

    def matches(self, request: Request) -> bool:
        """Compare with ``request.host`` (already canonical: no port, lower case)."""
        host: str = request.host
        suffix = self._suffix
        if suffix is None:
            return host == self.host  # the common case, without a further call
        return self._wildcard_matches(host, suffix)


@final
@attrs.frozen
class HostRegexp(_Pattern):
    """v3: a plain RE2 regexp, unanchored, searched in the canonical host."""

    def matches(self, request: Request) -> bool:
        """Search the pattern in ``request.host``."""
        return self._re.search(request.host)


@final
@attrs.frozen
class HostTemplate(_Template):
    """v1/v2 ``HostRegexp``: a gorilla ``{name:re}`` template, anchored, case-insensitive."""

    _subject = "host"
    _case_insensitive = True

    def matches(self, request: Request) -> bool:
        """Match the whole of ``request.host`` against the template."""
        return self._re.search(request.host)


# -- path ----------------------------------------------------------------------------------------


@final
@attrs.frozen
class Path(Node):
    """The routing path equals ``path`` exactly (no trailing-slash tolerance)."""

    path: str

    def matches(self, request: Request) -> bool:
        """Compare with ``request.path`` (the routing path)."""
        path: str = request.path  # a typed local: no bool() call on the hot path
        return path == self.path

    def values(self) -> tuple[str, ...]:
        """``(path,)``."""
        return (self.path,)


@final
@attrs.frozen
class PathTemplate(_Template):
    """v1/v2 ``Path`` with ``{name:re}`` variables: a gorilla template, anchored."""

    _subject = "path"

    def matches(self, request: Request) -> bool:
        """Match the whole routing path against the template."""
        return self._re.search(request.path)


@final
@attrs.frozen
class PathPrefix(Node):
    """The routing path starts with ``prefix``, raw: ``/css`` matches ``/css.css``."""

    prefix: str

    def matches(self, request: Request) -> bool:
        """``request.path.startswith(prefix)``."""
        path: str = request.path
        return path.startswith(self.prefix)

    def values(self) -> tuple[str, ...]:
        """``(prefix,)``."""
        return (self.prefix,)


@final
@attrs.frozen
class PathPrefixTemplate(_Template):
    """v1/v2 ``PathPrefix`` with ``{name:re}`` variables: a gorilla template anchored at start."""

    _subject = "path"
    _prefix = True

    def matches(self, request: Request) -> bool:
        """Match the start of the routing path against the template."""
        return self._re.search(request.path)


@final
@attrs.frozen
class PathRegexp(_Pattern):
    """v3: a plain RE2 regexp, unanchored and case-sensitive, searched in the routing path."""

    def matches(self, request: Request) -> bool:
        """Search the pattern in ``request.path``."""
        return self._re.search(request.path)


def path_node(value: str, *, prefix: bool = False) -> Node:
    """The v1/v2 ``Path`` (or, with *prefix*, ``PathPrefix``) node of one value.

    A value with ``{`` is a gorilla template (`PathTemplate`, `PathPrefixTemplate`); any other is
    matched as it is (`Path`, `PathPrefix`: a raw string prefix, so ``/api`` covers ``/apiary``).
    """
    if "{" in value:
        return PathPrefixTemplate(value) if prefix else PathTemplate(value)
    return PathPrefix(value) if prefix else Path(value)


# -- method, headers, query ----------------------------------------------------------------------


def _upper(value: str) -> str:
    return value.upper()


@final
@attrs.frozen
class Method(Node):
    """The request method equals ``method`` (upper-cased here; compared case-sensitively)."""

    method: str = attrs.field(converter=_upper)

    def matches(self, request: Request) -> bool:
        """A ``get`` request never matches ``Method(`GET`)`` (Traefik compares as sent)."""
        method: str = request.method
        return method == self.method

    def values(self) -> tuple[str, ...]:
        """``(method,)``."""
        return (self.method,)


def canonical_header_key(name: str) -> str:
    """Go's ``http.CanonicalHeaderKey``: ``x-forwarded-for`` → ``X-Forwarded-For``.

    Names with characters outside the RFC 7230 token set are returned unchanged, as in Go.
    """
    if not name or not set(name) <= TOKEN_CHARS:
        return name
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


@final
@attrs.frozen
class Header(Node):
    """Some value of header ``name`` (any case) equals ``value`` exactly."""

    name: str = attrs.field(converter=canonical_header_key)
    value: str
    _key: str = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        _set(self, "_key", self.name.lower())

    def matches(self, request: Request) -> bool:
        """Look the value up among every value of the header."""
        return self.value in request.headers.get_all(self._key)

    def values(self) -> tuple[str, ...]:
        """``(name, value)``."""
        return (self.name, self.value)


@final
@attrs.frozen
class HeaderRegexp(Node):
    """Some value of header ``name`` contains a match of ``pattern`` (unanchored RE2)."""

    name: str = attrs.field(converter=canonical_header_key)
    pattern: str
    _key: str = attrs.field(init=False, eq=False, repr=False)
    _re: Regexp = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        _set(self, "_key", self.name.lower())
        _set(self, "_re", compile_regexp(self.pattern))

    def matches(self, request: Request) -> bool:
        """Search the pattern in each value of the header."""
        search = self._re.search
        for value in request.headers.get_all(self._key):  # noqa: SIM110
            if search(value):
                return True
        return False

    def values(self) -> tuple[str, ...]:
        """``(name, pattern)``."""
        return (self.name, self.pattern)


@final
@attrs.frozen
class Query(Node):
    """Query parameter ``key`` (case-sensitive) has ``value`` among its values.

    ``value == ""`` is v3's one-argument ``Query(`k`)``: only ``?k`` or ``?k=`` match.
    """

    key: str
    value: str = ""

    def matches(self, request: Request) -> bool:
        """Look the value up among every value of the parameter."""
        return self.value in request.query.get(self.key, ())

    def values(self) -> tuple[str, ...]:
        """``(key,)`` for the one-argument form, else ``(key, value)``."""
        return (self.key, self.value) if self.value else (self.key,)


@final
@attrs.frozen
class QueryRegexp(Node):
    """Some value of query parameter ``key`` contains a match of ``pattern`` (unanchored)."""

    key: str
    pattern: str
    _re: Regexp = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        _set(self, "_re", compile_regexp(self.pattern))

    def matches(self, request: Request) -> bool:
        """Search the pattern in each value of the parameter."""
        search = self._re.search
        for value in request.query.get(self.key, ()):  # noqa: SIM110
            if search(value):
                return True
        return False

    def values(self) -> tuple[str, ...]:
        """``(key, pattern)``."""
        return (self.key, self.pattern)


@final
@attrs.frozen
class QueryTemplate(Node):
    """v1/v2 ``Query`` pair as gorilla/mux's ``Queries`` reads it: a template value.

    Some value of parameter ``key`` matches the whole ``template`` — a gorilla template such as
    ``{id:[0-9]+}`` (a bare ``{name}`` matches any text); an empty ``template`` matches any value
    of a present key (``Query:debug=``).  Plain values are parsed as `Query` instead.  Template
    variables are not bound (v3 has no query variables either).
    """

    key: str
    template: str
    _re: Regexp | None = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        _set(self, "_re", _compile_query_template(self.template) if self.template else None)

    def matches(self, request: Request) -> bool:
        """The key is present and (for a non-empty template) one of its values matches."""
        values = request.query.get(self.key)
        if values is None:
            return False
        if self._re is None:
            return True
        search = self._re.search
        for value in values:  # noqa: SIM110
            if search(value):
                return True
        return False

    def values(self) -> tuple[str, ...]:
        """``(key, template)``."""
        return (self.key, self.template)


# -- client IP -----------------------------------------------------------------------------------

_IP = ipaddress.IPv4Address | ipaddress.IPv6Address
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _canonical_network(text: str) -> str:
    # Go's net.ParseIP / net.ParseCIDR accept no zone ("%eth0"); Python's parser would.
    if "%" in text:
        raise ValueError(f"invalid IP address or CIDR: {text!r}")
    if "/" in text:
        return str(ipaddress.ip_network(text, strict=False))
    return str(ipaddress.ip_address(text))


def _split_host_port(address: str) -> str:
    # Go's net.SplitHostPort; on failure Traefik uses the whole string.
    if address.startswith("["):
        end = address.find("]")
        return address[1:end] if end > 0 and address[end + 1 : end + 2] == ":" else address
    host, sep, _ = address.rpartition(":")
    return host if sep and ":" not in host else address


@functools.lru_cache(maxsize=4096)
def _peer_ip(address: str) -> _IP | None:
    host = _split_host_port(address)
    if "%" in host:
        return None  # Go's net.ParseIP rejects zones
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None  # an unparsable peer address never matches
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        # Go's IPNet.Contains treats ::ffff:a.b.c.d as the IPv4 address a.b.c.d.
        return ip.ipv4_mapped
    return ip


@final
@attrs.frozen
class ClientIP(Node):
    """The connection's peer address is ``network`` (an IP) or inside it (a CIDR).

    Only ``request.client_ip`` counts, never ``X-Forwarded-For``; an address that cannot be
    parsed never matches.  ``network`` is stored in canonical form (``10.0.0.0/8``).
    """

    network: str = attrs.field(converter=_canonical_network)
    _net: _Network = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        _set(self, "_net", ipaddress.ip_network(self.network, strict=False))

    def matches(self, request: Request | TCPConnection) -> bool:
        """Parse ``request.client_ip`` (cached) and test membership."""
        address = request.client_ip
        if not address:
            return False
        ip = _peer_ip(address)
        return ip is not None and ip.version == self._net.version and ip in self._net

    def values(self) -> tuple[str, ...]:
        """``(network,)``."""
        return (self.network,)
