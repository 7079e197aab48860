"""What a reverse proxy does to headers on the way through, as Traefik does it.

Two stages, as in Traefik:

- `forwarded_headers` is the entry point's ``forwardedHeaders`` step
  (``master:pkg/middlewares/forwardedheaders/forwarded_header.go``), run before the
  middlewares: ``X-Forwarded-*`` and ``X-Real-Ip`` from an untrusted peer are dropped, then
  ``X-Real-Ip``, ``X-Forwarded-Proto``/``-Port``/``-Host``/``-Server`` are set, several
  ``X-Forwarded-For`` lines are joined, and the headers ``Connection`` names are removed (but for
  the entry point's ``connection`` list and ``Upgrade``, which wait for the proxy step).
- `upstream_headers` is the proxy's own step (Go's ``httputil.ReverseProxy`` under Traefik's
  ``pkg/proxy/httputil/proxy.go``): hop-by-hop headers (RFC 9110 §7.6.1) and whatever
  ``Connection`` still names go, the client IP is appended to ``X-Forwarded-For``, ``Te:
  trailers`` is kept, and an upgrade keeps ``Connection: Upgrade`` with its ``Upgrade`` header.

`downstream_headers` cleans an upstream response the same way before it is relayed.

Headers are h11's form: a list of ``(name, value)`` byte pairs, names in lower case.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Final, final

import attrs

from ..errors import ConfigError

__all__ = [
    "ForwardedHeaders",
    "Headers",
    "downstream_headers",
    "forwarded_headers",
    "is_managed_header",
    "is_upgrade",
    "upstream_headers",
]

Headers = list[tuple[bytes, bytes]]

#: The headers Traefik manages and drops from an untrusted peer (``XHeadersSet``).
_MANAGED: Final = frozenset(
    {
        b"x-forwarded-proto",
        b"x-forwarded-scheme",
        b"x-forwarded-for",
        b"x-forwarded-host",
        b"x-forwarded-port",
        b"x-forwarded-server",
        b"x-forwarded-uri",
        b"x-forwarded-method",
        b"x-forwarded-prefix",
        b"x-forwarded-tls-client-cert",
        b"x-forwarded-tls-client-cert-info",
        b"x-scheme",
        b"x-real-ip",
    }
)

#: Hop-by-hop headers (RFC 9110 §7.6.1, and Go's ``hopHeaders``, which adds the legacy ones).
_HOP_BY_HOP: Final = frozenset(
    {
        b"connection",
        b"proxy-connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)

#: The fields `forwarded_headers` reads (the first of each) to know what it adds.
_READ_BY_STEP: Final = frozenset(
    {b"x-real-ip", b"x-forwarded-proto", b"x-forwarded-port", b"x-forwarded-host"}
)
#: The fields `forwarded_headers` may set anew, replacing those a trusted peer sent.
_SET_BY_STEP: Final = frozenset({b"x-forwarded-scheme", b"x-scheme", b"x-forwarded-server"})

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(value: Iterable[str]) -> tuple[_Network, ...]:
    out = []
    for text in value:
        try:
            out.append(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError:
            raise ConfigError(f"forwardedHeaders.trustedIPs: not an IP or CIDR: {text!r}") from None
    return tuple(out)


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@final
@attrs.frozen(kw_only=True)
class ForwardedHeaders:
    """An entry point's ``forwardedHeaders`` settings, checked once when it is built.

    Attributes:
        insecure: trust the forwarded headers of every peer.
        trusted_ips: the IPs and CIDRs whose forwarded headers are kept.
        connection: headers ``Connection`` may name that still reach the middlewares (the
            proxy removes them before forwarding).
        not_append_x_forwarded_for: do not add the client IP to ``X-Forwarded-For``.
        add_x_forwarded_scheme_headers: also set ``X-Forwarded-Scheme`` and ``X-Scheme``.
        hostname: the ``X-Forwarded-Server`` value (Traefik: the machine's host name); empty
            leaves the header out.

    Raises:
        ConfigError: a trusted IP is neither an IP nor a CIDR.
    """

    insecure: bool = False
    trusted_ips: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    connection: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    not_append_x_forwarded_for: bool = False
    add_x_forwarded_scheme_headers: bool = False
    hostname: str = ""
    _trusted: tuple[_Network, ...] = attrs.field(init=False, repr=False, eq=False)
    _kept: frozenset[bytes] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_trusted", _networks(self.trusted_ips))
        kept = frozenset(h.strip().lower().encode("latin-1") for h in self.connection)
        object.__setattr__(self, "_kept", kept)

    def trusts(self, client_ip: str | None) -> bool:
        """Whether the forwarded headers sent by *client_ip* are kept."""
        if self.insecure:
            return True
        if not client_ip or not self._trusted:
            return False
        try:
            ip = ipaddress.ip_address(_without_zone(client_ip))
        except ValueError:
            return False
        return any(ip.version == net.version and ip in net for net in self._trusted)


def _without_zone(ip: str) -> str:
    return ip.split("%", 1)[0]


def is_managed_header(name: bytes) -> bool:
    """Whether *name* (lower-case) is one of the ``X-Forwarded-*`` fields Traefik manages."""
    # Traefik also drops the underscore spellings (X_Forwarded_For), which some servers read
    # as the dashed ones.
    return name in _MANAGED or (b"_" in name and name.replace(b"_", b"-") in _MANAGED)


def _tokens(headers: Sequence[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    """The comma-separated tokens of every *name* header, stripped and lower-cased."""
    values = [value for key, value in headers if key == name]
    if not values:  # the common case: asked of every request and answer
        return []
    out = [t.strip().lower() for value in values for t in value.split(b",")]
    return [t for t in out if t]


def _first(headers: Sequence[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def is_upgrade(headers: Sequence[tuple[bytes, bytes]]) -> bytes | None:
    """The protocol an upgrade request asks for (``Connection: upgrade`` + ``Upgrade``)."""
    if b"upgrade" not in _tokens(headers, b"connection"):
        return None
    return _first(headers, b"upgrade")


def forwarded_headers(
    headers: Sequence[tuple[bytes, bytes]],
    settings: ForwardedHeaders,
    *,
    client_ip: str | None,
    tls: bool,
) -> Headers:
    """The request headers after the entry point's ``forwardedHeaders`` step (a new list).

    Args:
        headers: the request's headers, as received.
        settings: the entry point's settings.
        client_ip: the peer's address (IPv6 zones are dropped).
        tls: whether the connection is TLS (``https``/``wss``).
    """
    # One pass over the fields finds what the step asks of them (each field a request is sent
    # with goes through here): the first value of each field it reads, the X-Forwarded-For
    # lines, whether Connection is there, and whether a field it sets is there already.
    trusted = settings.trusts(client_ip)
    out: Headers = []
    host = None
    seen: dict[bytes, bytes] = {}  # the first value of each field the step reads
    chain: list[bytes] = []
    connection = replaced = False
    for field in headers:
        name = field[0]
        if name[:2] == b"x-" or b"_" in name:
            if not trusted and is_managed_header(name):
                continue
            if name == b"x-forwarded-for":
                chain.append(field[1])
            elif name in _READ_BY_STEP:
                seen.setdefault(name, field[1])
            elif name in _SET_BY_STEP:
                replaced = True
        elif name == b"host":
            if host is None:
                host = field[1]
        elif name == b"connection":
            connection = True
        out.append(field)
    scheme = settings.add_x_forwarded_scheme_headers
    server = settings.hostname
    joined = len(chain) > 1
    if joined or (replaced and (scheme or server)):
        # Fields this step sets anew were there already (a trusted peer's): they go, and the
        # new ones are added at the end.
        out = _without_set(out, scheme=scheme, server=bool(server), joined=joined)
    if client_ip and b"x-real-ip" not in seen:
        out.append((b"x-real-ip", _without_zone(client_ip).encode("latin-1")))
    proto = seen.get(b"x-forwarded-proto")
    if proto is None:
        upgrade = is_upgrade(out) if connection else None
        websocket = upgrade is not None and b"websocket" in _split(upgrade)
        proto = (b"wss" if tls else b"ws") if websocket else (b"https" if tls else b"http")
        out.append((b"x-forwarded-proto", proto))
    if b"x-forwarded-port" not in seen:
        out.append((b"x-forwarded-port", _port(host, proto, tls)))
    if scheme:
        out.append((b"x-forwarded-scheme", proto))
        out.append((b"x-scheme", proto))
    if host and b"x-forwarded-host" not in seen:
        out.append((b"x-forwarded-host", host))
    if joined:
        out.append((b"x-forwarded-for", b", ".join(chain)))
    if server:
        out.append((b"x-forwarded-server", server.encode("latin-1")))
    if not connection:
        return out
    return _drop_connection_headers(out, settings._kept)


def _without_set(headers: Headers, *, scheme: bool, server: bool, joined: bool) -> Headers:
    """*headers* without the fields `forwarded_headers` sets anew (it adds them at the end)."""
    names: set[bytes] = set()
    if scheme:
        names.update((b"x-forwarded-scheme", b"x-scheme"))
    if server:
        names.add(b"x-forwarded-server")
    if joined:
        names.add(b"x-forwarded-for")
    return [field for field in headers if field[0] not in names]


def _split(value: bytes) -> list[bytes]:
    return [t.strip().lower() for t in value.split(b",")]


def _port(host: bytes | None, proto: bytes, tls: bool) -> bytes:
    if host:
        head, sep, port = host.rpartition(b":")
        # "[::1]" has colons but no port; "[::1]:8443" and "a.com:8080" have one.
        if sep and port.isdigit() and (not head.startswith(b"[") or head.endswith(b"]")):
            return port
    return b"443" if proto in (b"https", b"wss") or tls else b"80"


def _drop_connection_headers(headers: Headers, kept: frozenset[bytes]) -> Headers:
    """Remove the headers ``Connection`` names, but Traefik's own X-headers and *kept*."""
    named = _tokens(headers, b"connection")
    if not named:
        return headers
    upgrade = _first(headers, b"upgrade") if b"upgrade" in named else None
    remove = {n for n in named if not is_managed_header(n) and n not in kept}
    still = [n for n in dict.fromkeys(named) if n in kept and not is_managed_header(n)]
    out = [(k, v) for k, v in headers if k not in remove and k != b"connection"]
    if upgrade is not None:
        still.append(b"upgrade")
        out = [(k, v) for k, v in out if k != b"upgrade"]
        out.append((b"upgrade", upgrade))
    if still:
        out.append((b"connection", b",".join(still)))
    return out


def upstream_headers(
    headers: Sequence[tuple[bytes, bytes]], *, client_ip: str | None, append_forwarded_for: bool
) -> Headers:
    """The headers to send upstream after the middlewares: the proxy's own step (a new list).

    Hop-by-hop headers and those ``Connection`` names are removed; ``Te: trailers`` is kept, and
    an upgrade request keeps ``Connection: Upgrade`` and its ``Upgrade``.  With
    *append_forwarded_for*, *client_ip* is appended to ``X-Forwarded-For`` (the entry point's
    ``notAppendXForwardedFor`` turns it off).
    """
    # One pass over the fields (each field a request is forwarded with goes through here): the
    # hop-by-hop ones are read and left out, and the X-Forwarded-For lines taken aside when the
    # client's IP is appended; a second pass only when Connection names end-to-end fields.
    ip = _without_zone(client_ip).encode("latin-1") if append_forwarded_for and client_ip else None
    out: Headers = []
    hop: Headers = []
    prior: list[bytes] = []
    for field in headers:
        name = field[0]
        if name in _HOP_BY_HOP:
            hop.append(field)
        elif ip is not None and name == b"x-forwarded-for":
            prior.append(field[1])
        else:
            out.append(field)
    trailers = False
    upgrade = None
    if hop:
        named = set(_tokens(hop, b"connection"))
        if not named.issubset(_HOP_BY_HOP):
            # Connection names end-to-end fields: they go too (X-Forwarded-For's lines with them).
            out = [field for field in out if field[0] not in named]
            if b"x-forwarded-for" in named:
                prior = []
        if b"upgrade" in named:
            upgrade = _first(hop, b"upgrade")
        trailers = b"trailers" in _tokens(hop, b"te")
    if ip is not None:
        prior.append(ip)
        out.append((b"x-forwarded-for", b", ".join(prior)))
    if trailers:
        out.append((b"te", b"trailers"))
    if upgrade is not None:
        out.append((b"connection", b"Upgrade"))
        out.append((b"upgrade", upgrade))
    return out


def downstream_headers(headers: Sequence[tuple[bytes, bytes]], *, upgraded: bool) -> Headers:
    """An upstream response's headers as relayed to the client (a new list).

    Hop-by-hop headers and those ``Connection`` names are removed, except for a ``101`` answer
    to an upgrade, which keeps ``Connection`` and ``Upgrade`` (Go's ``ReverseProxy``).
    """
    if upgraded:
        return list(headers)
    out: Headers = []
    connection: Headers = []
    for field in headers:  # one pass, and a second only when Connection names more
        if field[0] in _HOP_BY_HOP:
            if field[0] == b"connection":
                connection.append(field)
        else:
            out.append(field)
    if connection:
        named = set(_tokens(connection, b"connection"))
        if not named.issubset(_HOP_BY_HOP):
            out = [field for field in out if field[0] not in named]
    return out
