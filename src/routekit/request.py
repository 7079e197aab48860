"""`Request`: the immutable view of an HTTP request that rules match against.

A `Request` is cheap to build (matching a request is dominated by building its view, so every
derived value — parsed query, header index, cookies, routing path — is computed on first use and
cached) and carries only what routing needs: method, host, path, query, headers, client IP and
scheme.  It does no I/O and imports neither h11 nor anyio: the constructors for ASGI scopes and h11
events take those objects duck-typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Final, Protocol, final
from urllib.parse import unquote_plus

from routekit.errors import BadRequest

__all__ = ["TOKEN_CHARS", "Headers", "Request", "canonical_host", "routing_path"]

#: RFC 9110 §5.6.2 ``tchar``: the characters of header names, cookie names and other tokens.
TOKEN_CHARS: Final = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

# RFC 3986 §2.2 reserved characters plus "%" itself: their escapes stay encoded in the routing
# path so that "/a%2Fb" is never confused with "/a/b" (Traefik v3.4+ `withRoutingPath`).
_RESERVED: Final = frozenset(":/?#[]@!$&'()*+,;=%")
_ESCAPE_RE: Final = re.compile(r"%([0-9A-Fa-f]{2})")


def _decode_unreserved(m: re.Match[str]) -> str:
    code = int(m.group(1), 16)
    char = chr(code)
    if code >= 0x80 or char in _RESERVED:
        # Bytes >= 0x80 are left for the UTF-8 pass below; reserved ones stay escaped.
        return m.group(0).upper()
    return char


def routing_path(raw_path: str) -> str:
    """Return the path rules see: percent-escapes decoded except those of reserved characters.

    ``/foo%20bar`` becomes ``/foo bar``; ``/foo%2Fbar`` stays as it is (Traefik ≥ 3.4).  Escapes of
    bytes above 0x7F are decoded as UTF-8 sequences where they form one; otherwise kept.
    """
    if "%" not in raw_path:
        return raw_path
    decoded = _ESCAPE_RE.sub(_decode_unreserved, raw_path)
    if "%" in decoded:
        decoded = _decode_utf8_escapes(decoded)
    return decoded


_HIGH_ESCAPES_RE: Final = re.compile(r"(?:%[89A-Fa-f][0-9A-Fa-f])+")


def _decode_utf8_escapes(path: str) -> str:
    # Runs of escaped bytes >= 0x80 are decoded together as UTF-8 where they form valid text and
    # kept escaped otherwise, so the routing path is always a faithful str.
    def fix(m: re.Match[str]) -> str:
        raw = bytes(int(m.group(0)[i + 1 : i + 3], 16) for i in range(0, len(m.group(0)), 3))
        text = raw.decode("utf-8", "surrogateescape")
        # Bytes that are not part of valid UTF-8 come back as lone surrogates: re-escape them.
        return "".join(f"%{ord(c) - 0xDC00:02X}" if "\udc80" <= c <= "\udcff" else c for c in text)

    return _HIGH_ESCAPES_RE.sub(fix, path)


def canonical_host(host: str) -> str:
    """Return the host as Traefik compares it: trimmed, lower case, no port, no IPv6 brackets.

    A trailing dot is removed as well, so ``Example.COM.:8080`` becomes ``example.com``.
    """
    host = host.strip().lower()
    if not host:
        return host
    if host[0] == "[":
        end = host.find("]")
        host = host[1:end] if end > 0 else host[1:]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    if host.endswith("."):
        host = host[:-1]
    return host


@final
class Headers(Mapping[str, str]):
    """Case-insensitive, multi-valued, immutable header mapping.

    ``headers["x-a"]`` is the first value; :meth:`get_all` returns every value in order.
    Iteration yields each lower-cased name once.
    """

    __slots__ = ("_index", "_items")

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] | None = None) -> None:
        if items is None:
            pairs: tuple[tuple[str, str], ...] = ()
        elif isinstance(items, Mapping):
            pairs = tuple((str(k), str(v)) for k, v in items.items())
        else:
            pairs = tuple((str(k), str(v)) for k, v in items)
        self._items = pairs
        self._index: dict[str, tuple[str, ...]] | None = None

    def _build(self) -> dict[str, tuple[str, ...]]:
        index: dict[str, list[str]] = {}
        for name, value in self._items:
            index.setdefault(name.lower(), []).append(value)
        built = {k: tuple(v) for k, v in index.items()}
        self._index = built
        return built

    def get_all(self, name: str) -> tuple[str, ...]:
        """Every value of header *name* (any case), in the order received."""
        index = self._index if self._index is not None else self._build()
        return index.get(name.lower(), ())

    def raw(self) -> tuple[tuple[str, str], ...]:
        """The headers as received: (name, value) pairs with their original case."""
        return self._items

    def __getitem__(self, name: str) -> str:
        values = self.get_all(name)
        if not values:
            raise KeyError(name)
        return values[0]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(self.get_all(name))

    def __iter__(self) -> Iterator[str]:
        index = self._index if self._index is not None else self._build()
        return iter(index)

    def __len__(self) -> int:
        index = self._index if self._index is not None else self._build()
        return len(index)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self._items == other._items
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._items)

    def __repr__(self) -> str:
        return f"Headers({list(self._items)!r})"


_EMPTY_HEADERS: Final = Headers()


class _RequestEvent(Protocol):
    """What `Request.from_h11` reads of an ``h11.Request`` (h11 itself is not imported)."""

    @property
    def method(self) -> bytes: ...
    @property
    def target(self) -> bytes: ...
    @property
    def headers(self) -> Iterable[tuple[bytes, bytes]]: ...


class _RequestSlots:
    # Request objects are built on every match, so construction must be cheap: the fields are
    # filled in on this plain slotted base (ordinary attribute stores) and the instance is then
    # re-classed to the frozen `Request`.  That is ~3x faster than object.__setattr__ per field.
    __slots__ = (
        "_cookies",
        "_query",
        "client_ip",
        "headers",
        "host",
        "method",
        "path",
        "query_string",
        "raw_host",
        "raw_path",
        "scheme",
    )

    method: str
    host: str
    raw_host: str
    path: str
    raw_path: str
    query_string: str
    headers: Headers
    client_ip: str | None
    scheme: str
    _query: Mapping[str, tuple[str, ...]] | None
    _cookies: Mapping[str, str] | None


# Slot descriptors let the lazy properties fill their cache without going through the frozen
# __setattr__.
_SLOTS: Final = vars(_RequestSlots)
_set_query: Callable[[_RequestSlots, Mapping[str, tuple[str, ...]]], None] = _SLOTS[
    "_query"
].__set__
_set_cookies: Callable[[_RequestSlots, Mapping[str, str]], None] = _SLOTS["_cookies"].__set__


@final
class Request(_RequestSlots):
    """Immutable view of one HTTP request, as rules and balancers see it.

    Args:
        method: the request method as sent (matching is case-sensitive, like Traefik).
        host: the Host (or ``:authority``) value; may carry a port.  Defaults to the ``Host``
            header when omitted.
        path: the escaped request path (``/a%20b``); a ``?query`` suffix is split off into
            *query* when *query* is not given.
        query: the raw query string without ``?``.
        headers: header pairs or a mapping; names are case-insensitive.
        client_ip: the connection's peer address (never taken from ``X-Forwarded-For``).
        scheme: ``http`` or ``https`` (``ws``/``wss`` are accepted too).

    Attributes:
        method, scheme, client_ip: as given.
        host: the canonical host (lower case, no port, no brackets, no trailing dot);
            :attr:`raw_host` is the host as given.
        path: the routing path rules match against (non-reserved escapes decoded);
            :attr:`raw_path` is the escaped path as given.
        query_string: the raw query string; :attr:`query` is it parsed.
    """

    __slots__ = ()

    def __new__(
        cls,
        method: str = "GET",
        host: str | None = None,
        path: str = "/",
        *,
        query: str | None = None,
        headers: Headers | Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        client_ip: str | None = None,
        scheme: str = "http",
    ) -> Request:
        if headers is None:
            hdrs = _EMPTY_HEADERS
        elif isinstance(headers, Headers):
            hdrs = headers
        else:
            hdrs = Headers(headers)
        if host is None:
            host = hdrs.get("host", "") if hdrs._items else ""
        if query is None:
            path, _, query = path.partition("?")
        self = _RequestSlots()
        self.method = method
        self.raw_host = host
        # Fast path: most hosts are already canonical (no port, lower case, no trailing dot).
        if host.islower() and ":" not in host and host[-1:] != "." and " " not in host:
            self.host = host
        else:
            self.host = canonical_host(host)
        self.raw_path = path
        self.path = path if "%" not in path else routing_path(path)
        self.query_string = query
        self._query = None
        self._cookies = None
        self.headers = hdrs
        self.client_ip = client_ip
        self.scheme = scheme
        self.__class__ = Request
        return self  # type: ignore[return-value]

    # -- derived values, computed on first use -------------------------------------------------

    @property
    def query(self) -> Mapping[str, tuple[str, ...]]:
        """The query string parsed like Go's ``url.ParseQuery``: key → values in order."""
        q = self._query
        if q is None:
            q = _parse_query(self.query_string)
            _set_query(self, q)
        return q

    @property
    def cookies(self) -> Mapping[str, str]:
        """Cookies from every ``Cookie`` header; the first occurrence of a name wins."""
        c = self._cookies
        if c is None:
            c = _parse_cookies(self.headers.get_all("cookie"))
            _set_cookies(self, c)
        return c

    # -- constructors ---------------------------------------------------------------------------

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        method: str = "GET",
        headers: Headers | Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        client_ip: str | None = None,
    ) -> Request:
        """Build a request for an absolute URL such as ``https://a.com:8443/x?y=1``.

        ``https://example.com`` has an empty path, as in Go's ``net/url`` (not ``/``).
        """
        scheme, sep, rest = url.partition("://")
        if not sep:
            raise BadRequest(f"not an absolute URL (no scheme): {url!r}")
        authority, path, query = _split_authority(rest.partition("#")[0])
        return cls(
            method=method,
            host=authority,
            path=path,
            query=query,
            headers=headers,
            client_ip=client_ip,
            scheme=scheme.lower(),
        )

    @classmethod
    def from_asgi(cls, scope: Mapping[str, Any]) -> Request:
        """Build a request from an ASGI ``http`` or ``websocket`` scope."""
        raw_headers: Sequence[tuple[bytes, bytes]] = scope.get("headers") or ()
        pairs = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw_headers]
        headers = Headers(pairs)
        host = headers.get("host")
        if host is None:
            server = scope.get("server")
            host = _join_host_port(server[0], server[1]) if server else ""
        raw_path_b: bytes | None = scope.get("raw_path")
        if raw_path_b:
            raw_path = raw_path_b.decode("latin-1")
            # Some servers put the whole target, query included, in raw_path.
            raw_path = raw_path.partition("?")[0]
        else:
            raw_path = _quote_path(scope.get("path", "/"))
        qs: bytes = scope.get("query_string", b"")
        client = scope.get("client")
        scheme = scope.get("scheme") or ("ws" if scope.get("type") == "websocket" else "http")
        # A server may hand an absolute-form target (GET http://h/x) through unchanged.
        host, raw_path, _, scheme = _request_target(raw_path, host, scheme)
        return cls(
            method=scope.get("method", "GET"),
            host=host,
            path=raw_path,
            query=qs.decode("latin-1"),
            headers=headers,
            client_ip=client[0] if client else None,
            scheme=scheme,
        )

    @classmethod
    def from_h11(
        cls,
        event: _RequestEvent,
        *,
        client_ip: str | None = None,
        scheme: str = "http",
    ) -> Request:
        """Build a request from an ``h11.Request`` event.

        The target may be origin-form (``/a?b``), absolute-form (``http://h/a`` — its authority
        replaces the Host header, RFC 9112 §3.2.2, as Go's server does), authority-form
        (``CONNECT h:443``) or asterisk-form (``OPTIONS *``).
        """
        pairs = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers]
        headers = Headers(pairs)
        try:
            method = event.method.decode("ascii")
        except UnicodeDecodeError:
            # A method is an RFC 9110 token; h11 checks that, but duck-typed events may not.
            raise BadRequest(f"request method is not ASCII: {event.method!r}") from None
        target = event.target.decode("latin-1")
        host, path, query, scheme = _request_target(target, headers.get("host", ""), scheme)
        return cls(
            method=method,
            host=host,
            path=path,
            query=query,
            headers=headers,
            client_ip=client_ip,
            scheme=scheme,
        )

    # -- value semantics ------------------------------------------------------------------------

    def replace(self, **changes: Any) -> Request:
        """Return a copy with some constructor arguments changed (``path=``, ``host=``…)."""
        args: dict[str, Any] = {
            "method": self.method,
            "host": self.raw_host,
            "path": self.raw_path,
            "query": self.query_string,
            "headers": self.headers,
            "client_ip": self.client_ip,
            "scheme": self.scheme,
        }
        unknown = set(changes) - set(args)
        if unknown:
            raise TypeError(f"Request.replace() got unexpected arguments: {sorted(unknown)}")
        args.update(changes)
        return Request(**args)

    def _key(self) -> tuple[object, ...]:
        return (
            self.method,
            self.raw_host,
            self.raw_path,
            self.query_string,
            self.headers,
            self.client_ip,
            self.scheme,
        )

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Request):
            return self._key() == other._key()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._key())

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Request is immutable; use .replace({name}=...)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Request is immutable")

    def __reduce__(self) -> tuple[object, ...]:
        # The frozen __setattr__ blocks the default slot-restoring protocol, so pickle and copy
        # rebuild through the constructor instead; the lazy caches are simply recomputed.
        return (_rebuild, (self._key(),))

    def __repr__(self) -> str:
        q = f"?{self.query_string}" if self.query_string else ""
        extra = f", client_ip={self.client_ip!r}" if self.client_ip else ""
        return f"<Request {self.method} {self.scheme}://{self.raw_host}{self.raw_path}{q}{extra}>"


def _rebuild(key: tuple[Any, ...]) -> Request:
    method, host, path, query, headers, client_ip, scheme = key
    return Request(
        method, host, path, query=query, headers=headers, client_ip=client_ip, scheme=scheme
    )


def _request_target(target: str, host: str, scheme: str) -> tuple[str, str, str, str]:
    """(host, path, query, scheme) of a request target, given the Host header and scheme.

    Origin-form (``/a?b``) and asterisk-form (``*``) keep the Host header.  Absolute-form
    (``http://h/a``): its authority replaces the Host header (RFC 9112 §3.2.2; Go's server sets
    ``req.Host`` from the URL, and Traefik routes on ``req.Host``) unless it is empty.
    Authority-form (``CONNECT h:443``) is the host, without a path.
    """
    if not target or target.startswith("/") or target == "*":
        path, _, query = target.partition("?")
        return host, path, query, scheme
    if "://" in target:
        target_scheme, _, rest = target.partition("://")
        authority, path, query = _split_authority(rest)
        return authority or host, path, query, target_scheme.lower() or scheme
    return target, "", "", scheme


def _split_authority(rest: str) -> tuple[str, str, str]:
    """Split ``user@host:port/path?query`` (a URL after ``scheme://``) into host:port, path and
    query; the path keeps its leading slash and user information is dropped."""
    cut = len(rest)
    for sep in "/?":
        i = rest.find(sep)
        if 0 <= i < cut:
            cut = i
    authority, tail = rest[:cut], rest[cut:]
    path, _, query = tail.partition("?")
    return authority.rpartition("@")[2], path, query


def _join_host_port(host: str, port: int | None) -> str:
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{port}" if port else host


# What a decoded path may keep raw: RFC 3986 pchar and "/", without "%" — a literal "%" must be
# escaped, otherwise "%41" in a decoded path would decode a second time.
_PATH_SAFE: Final = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/"
)


def _quote_path(path: str) -> str:
    # ASGI's `path` is already decoded; re-escape what cannot appear raw in a path.
    if all(c in _PATH_SAFE for c in path):
        return path
    out = []
    for c in path:
        if c in _PATH_SAFE:
            out.append(c)
        else:
            # surrogateescape: servers decode undecodable path bytes to U+DC80..U+DCFF, so those
            # map back to the bytes that were sent.  Any other lone surrogate has no byte form.
            try:
                encoded = c.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:
                raise BadRequest(
                    f"request path contains a lone surrogate {c!r}: {path!r}"
                ) from None
            out.extend(f"%{b:02X}" for b in encoded)
    return "".join(out)


_BAD_ESCAPE_RE: Final = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _parse_query(qs: str) -> Mapping[str, tuple[str, ...]]:
    if not qs:
        return {}
    result: dict[str, list[str]] = {}
    for part in qs.split("&"):
        # Go ≥ 1.17 rejects ";" as a separator and drops such pairs; so do we.
        if not part or ";" in part:
            continue
        key, _, value = part.partition("=")
        if "%" in part and _BAD_ESCAPE_RE.search(part):
            continue  # Go's QueryUnescape fails on "%" without two hex digits: the pair is dropped
        result.setdefault(unquote_plus(key), []).append(unquote_plus(value))
    return {k: tuple(v) for k, v in result.items()}


def _parse_cookies(headers: Sequence[str]) -> Mapping[str, str]:
    cookies: dict[str, str] = {}
    for header in headers:
        for part in header.split(";"):
            name, sep, value = part.strip().partition("=")
            if not sep or not name:
                continue
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            cookies.setdefault(name, value)
    return cookies
