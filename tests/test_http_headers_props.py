"""The header steps, written as one pass over the fields, give exactly what the plain
reading of Traefik's and Go's rules gives (kept here as the reference) on generated fields."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from routekit.http import (
    ForwardedHeaders,
    downstream_headers,
    forwarded_headers,
    is_managed_header,
    upstream_headers,
)

H = list[tuple[bytes, bytes]]

# --- the reference: each rule a pass of its own over the fields ------------------------------

_HOP_BY_HOP = frozenset(
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


def _tokens(headers: Sequence[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    out = [t.strip().lower() for k, v in headers if k == name for t in v.split(b",")]
    return [t for t in out if t]


def _first(headers: Sequence[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    return next((v for k, v in headers if k == name), None)


def _set(headers: H, name: bytes, value: bytes) -> None:
    headers[:] = [(k, v) for k, v in headers if k != name]
    headers.append((name, value))


def _upgrade(headers: H) -> bytes | None:
    return _first(headers, b"upgrade") if b"upgrade" in _tokens(headers, b"connection") else None


def _port(host: bytes | None, proto: bytes, tls: bool) -> bytes:
    if host:
        head, sep, port = host.rpartition(b":")
        if sep and port.isdigit() and (not head.startswith(b"[") or head.endswith(b"]")):
            return port
    return b"443" if proto in (b"https", b"wss") or tls else b"80"


def _drop_connection_headers(headers: H, kept: frozenset[bytes]) -> H:
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


def reference_forwarded(
    headers: H, settings: ForwardedHeaders, *, client_ip: str | None, tls: bool
) -> H:
    out = list(headers)
    if not settings.trusts(client_ip):
        out = [(k, v) for k, v in out if not is_managed_header(k)]
    if client_ip and _first(out, b"x-real-ip") is None:
        out.append((b"x-real-ip", client_ip.split("%", 1)[0].encode("latin-1")))
    proto = _first(out, b"x-forwarded-proto")
    if proto is None:
        upgrade = _upgrade(out)
        websocket = upgrade is not None and b"websocket" in [
            t.strip().lower() for t in upgrade.split(b",")
        ]
        proto = (b"wss" if tls else b"ws") if websocket else (b"https" if tls else b"http")
        out.append((b"x-forwarded-proto", proto))
    host = _first(out, b"host")
    if _first(out, b"x-forwarded-port") is None:
        out.append((b"x-forwarded-port", _port(host, proto, tls)))
    if settings.add_x_forwarded_scheme_headers:
        _set(out, b"x-forwarded-scheme", proto)
        _set(out, b"x-scheme", proto)
    if host and _first(out, b"x-forwarded-host") is None:
        out.append((b"x-forwarded-host", host))
    chain = [v for k, v in out if k == b"x-forwarded-for"]
    if len(chain) > 1:
        _set(out, b"x-forwarded-for", b", ".join(chain))
    if settings.hostname:
        _set(out, b"x-forwarded-server", settings.hostname.encode("latin-1"))
    kept = frozenset(h.strip().lower().encode("latin-1") for h in settings.connection)
    return _drop_connection_headers(out, kept)


def reference_upstream(headers: H, *, client_ip: str | None, append_forwarded_for: bool) -> H:
    named = set(_tokens(headers, b"connection"))
    upgrade = _first(headers, b"upgrade") if b"upgrade" in named else None
    trailers = b"trailers" in _tokens(headers, b"te")
    out = [(k, v) for k, v in headers if k not in _HOP_BY_HOP and k not in named]
    if append_forwarded_for and client_ip:
        ip = client_ip.split("%", 1)[0].encode("latin-1")
        prior = [v for k, v in out if k == b"x-forwarded-for"]
        _set(out, b"x-forwarded-for", b", ".join([*prior, ip]))
    if trailers:
        out.append((b"te", b"trailers"))
    if upgrade is not None:
        out.append((b"connection", b"Upgrade"))
        out.append((b"upgrade", upgrade))
    return out


def reference_downstream(headers: H, *, upgraded: bool) -> H:
    if upgraded:
        return list(headers)
    named = set(_tokens(headers, b"connection"))
    return [(k, v) for k, v in headers if k not in _HOP_BY_HOP and k not in named]


# --- generated fields -------------------------------------------------------------------------

_POOL = [
    *_HOP_BY_HOP,
    b"host",
    b"x-forwarded-for",
    b"x-forwarded-proto",
    b"x-forwarded-port",
    b"x-forwarded-host",
    b"x-forwarded-server",
    b"x-forwarded-scheme",
    b"x-scheme",
    b"x-real-ip",
    b"x_forwarded_for",
    b"x-gateway",
    b"x-a",
    b"content-length",
]
_TOKENS = st.sampled_from(
    [
        *_POOL,
        b"close",
        b"trailers",
        b"websocket",
        b"h2c",
        b"x-b",
        b"",
        b" Upgrade ",
        b"KEEP-ALIVE",
        b"X-A",
        b"X-Forwarded-For",
        b"TE",
    ]
)
_RANDOM = st.from_regex(rb"\A[a-z][a-z0-9_-]{0,8}\Z")
# A name is mostly from the pool (in lower case, as h11 gives them, or in another case), or a
# random token.
_NAMES = st.one_of(
    st.sampled_from(_POOL),
    st.sampled_from(_POOL).map(bytes.title),
    st.sampled_from(_POOL).map(bytes.upper),
    _RANDOM,
)
_LISTS = st.lists(_TOKENS, min_size=1, max_size=4).map(b", ".join)
_VALUES = st.one_of(
    _TOKENS,
    _LISTS,
    _LISTS.map(bytes.upper),
    st.sampled_from([b"10.0.0.1", b"1.2.3.4, 5.6.7.8", b"a.com:8080", b"[::1]:8443", b"[::1]"]),
    st.binary(max_size=12).filter(lambda v: b"\r" not in v and b"\n" not in v),
)
_LIST = st.lists(st.tuples(_NAMES, _VALUES), max_size=14)


@st.composite
def _fields(draw: st.DrawFn) -> H:
    """Generated fields, often with a Connection field naming some of the others."""
    fields = draw(_LIST)
    connection: bool = draw(st.booleans())
    if fields and connection:
        named = draw(st.lists(st.sampled_from([name for name, _ in fields]), min_size=1))
        if draw(st.booleans()):
            named = [name.upper() for name in named]
        at = draw(st.integers(0, len(fields)))
        fields.insert(
            at, (draw(st.sampled_from([b"connection", b"Connection"])), b", ".join(named))
        )
    return fields


_FIELDS = _fields()
_IPS = st.sampled_from([None, "", "10.0.0.1", "fe80::1%eth0", "192.168.1.9", "::1"])
_ENTRY_POINTS = st.builds(
    ForwardedHeaders,
    insecure=st.booleans(),
    trusted_ips=st.sampled_from([(), ("10.0.0.0/8",), ("::1", "192.168.0.0/16")]),
    connection=st.lists(st.sampled_from(["x-a", "X-Gateway", "upgrade", "x-real-ip", " te "])),
    not_append_x_forwarded_for=st.booleans(),
    add_x_forwarded_scheme_headers=st.booleans(),
    hostname=st.sampled_from(["", "proxy-1"]),
)


@settings(max_examples=1000, deadline=None)
@given(_FIELDS, _ENTRY_POINTS, _IPS, st.booleans())
def test_forwarded_headers_as_the_reference(
    headers: H, entry: ForwardedHeaders, client_ip: str | None, tls: bool
) -> None:
    expected = reference_forwarded(headers, entry, client_ip=client_ip, tls=tls)
    assert forwarded_headers(headers, entry, client_ip=client_ip, tls=tls) == expected


@settings(max_examples=1000, deadline=None)
@given(_FIELDS, _IPS, st.booleans())
def test_upstream_headers_as_the_reference(headers: H, client_ip: str | None, append: bool) -> None:
    expected = reference_upstream(headers, client_ip=client_ip, append_forwarded_for=append)
    got = upstream_headers(headers, client_ip=client_ip, append_forwarded_for=append)
    assert got == expected


@settings(max_examples=500, deadline=None)
@given(_FIELDS, _ENTRY_POINTS, _IPS, st.booleans())
def test_both_steps_in_a_row_as_the_reference(
    headers: H, entry: ForwardedHeaders, client_ip: str | None, tls: bool
) -> None:
    # The proxy's order: the entry point's step, a middleware's fields, the proxy's step.
    added = [(b"x-gateway", b"routekit"), (b"x-a", b"1")]
    first = forwarded_headers(headers, entry, client_ip=client_ip, tls=tls) + added
    expected = reference_forwarded(headers, entry, client_ip=client_ip, tls=tls) + added
    assert first == expected
    up = upstream_headers(first, client_ip=client_ip, append_forwarded_for=True)
    assert up == reference_upstream(expected, client_ip=client_ip, append_forwarded_for=True)


@settings(max_examples=500, deadline=None)
@given(_FIELDS, st.booleans())
def test_downstream_headers_as_the_reference(headers: H, upgraded: bool) -> None:
    expected = reference_downstream(headers, upgraded=upgraded)
    assert downstream_headers(headers, upgraded=upgraded) == expected


def test_the_fields_a_step_sets_anew_replace_a_trusted_peers() -> None:
    # Examples the generated fields may miss: every field the entry point's step sets is there
    # already, twice, from a trusted peer, and Connection names one the entry point keeps.
    headers: H = [
        (b"host", b"a.com:8080"),
        (b"x-forwarded-for", b"1.1.1.1"),
        (b"x-scheme", b"ftp"),
        (b"x-forwarded-server", b"old"),
        (b"x-forwarded-for", b"2.2.2.2"),
        (b"x-forwarded-scheme", b"ftp"),
        (b"connection", b"x-a, Upgrade, keep-alive"),
        (b"upgrade", b"websocket"),
        (b"x-a", b"1"),
        (b"keep-alive", b"timeout=5"),
        (b"x-forwarded-server", b"older"),
    ]
    entry = ForwardedHeaders(
        insecure=True, connection=("x-a",), add_x_forwarded_scheme_headers=True, hostname="p"
    )
    for ip in ("10.0.0.1", None):
        for tls in (True, False):
            got = forwarded_headers(headers, entry, client_ip=ip, tls=tls)
            assert got == reference_forwarded(headers, entry, client_ip=ip, tls=tls)
            names = [name for name, _ in got]
            # One of each field the step sets, the peer's X-Forwarded-For lines joined.
            for name in (b"x-forwarded-scheme", b"x-scheme", b"x-forwarded-server"):
                assert names.count(name) == 1
            assert (b"x-forwarded-for", b"1.1.1.1, 2.2.2.2") in got
            assert (b"connection", b"x-a,upgrade") in got
            up = upstream_headers(got, client_ip=ip, append_forwarded_for=True)
            assert up == reference_upstream(got, client_ip=ip, append_forwarded_for=True)
