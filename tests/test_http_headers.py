"""Header rules of the reverse proxy, case by case as Traefik's forwardedheaders and Go's
ReverseProxy treat them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routekit import ConfigError
from routekit.http import (
    ForwardedHeaders,
    downstream_headers,
    forwarded_headers,
    is_upgrade,
    upstream_headers,
)

H = list[tuple[bytes, bytes]]


def get(headers: H, name: bytes) -> list[bytes]:
    return [v for k, v in headers if k == name]


SPOOFED: H = [
    (b"host", b"app.example.com"),
    (b"x-forwarded-for", b"6.6.6.6"),
    (b"x-forwarded-proto", b"https"),
    (b"x-forwarded-host", b"evil.example"),
    (b"x_forwarded_for", b"6.6.6.6"),
    (b"x-real-ip", b"6.6.6.6"),
]


def test_an_untrusted_peer_cannot_forge_forwarded_headers() -> None:
    out = forwarded_headers(SPOOFED, ForwardedHeaders(), client_ip="10.0.0.7", tls=False)
    assert get(out, b"x-forwarded-for") == []  # the proxy step appends the client IP
    assert get(out, b"x_forwarded_for") == []
    assert get(out, b"x-real-ip") == [b"10.0.0.7"]
    assert get(out, b"x-forwarded-proto") == [b"http"]
    assert get(out, b"x-forwarded-host") == [b"app.example.com"]
    assert get(out, b"x-forwarded-port") == [b"80"]
    up = upstream_headers(out, client_ip="10.0.0.7", append_forwarded_for=True)
    assert get(up, b"x-forwarded-for") == [b"10.0.0.7"]


@pytest.mark.parametrize(
    "settings",
    [ForwardedHeaders(insecure=True), ForwardedHeaders(trusted_ips=("10.0.0.0/8", "::1"))],
)
def test_a_trusted_peer_keeps_them_and_the_chain_grows(settings: ForwardedHeaders) -> None:
    headers = [*SPOOFED, (b"x-forwarded-for", b"7.7.7.7")]
    out = forwarded_headers(headers, settings, client_ip="10.0.0.7", tls=False)
    assert get(out, b"x-forwarded-proto") == [b"https"]
    assert get(out, b"x-forwarded-host") == [b"evil.example"]
    assert get(out, b"x-real-ip") == [b"6.6.6.6"]
    assert get(out, b"x-forwarded-for") == [b"6.6.6.6, 7.7.7.7"]  # lines joined
    up = upstream_headers(out, client_ip="10.0.0.7", append_forwarded_for=True)
    assert get(up, b"x-forwarded-for") == [b"6.6.6.6, 7.7.7.7, 10.0.0.7"]
    assert get(
        upstream_headers(out, client_ip="10.0.0.7", append_forwarded_for=False), b"x-forwarded-for"
    ) == [b"6.6.6.6, 7.7.7.7"]


@pytest.mark.parametrize(
    ("headers", "tls", "proto", "port"),
    [
        ([(b"host", b"a.com")], False, b"http", b"80"),
        ([(b"host", b"a.com")], True, b"https", b"443"),
        ([(b"host", b"a.com:8443")], True, b"https", b"8443"),
        ([(b"host", b"[::1]")], False, b"http", b"80"),
        ([(b"host", b"[::1]:81")], False, b"http", b"81"),
        (
            [
                (b"host", b"a.com"),
                (b"connection", b"keep-alive, Upgrade"),
                (b"upgrade", b"websocket"),
            ],
            True,
            b"wss",
            b"443",
        ),
        (
            [(b"host", b"a.com"), (b"connection", b"upgrade"), (b"upgrade", b"WebSocket")],
            False,
            b"ws",
            b"80",
        ),
    ],
)
def test_proto_and_port(headers: H, tls: bool, proto: bytes, port: bytes) -> None:
    out = forwarded_headers(headers, ForwardedHeaders(), client_ip="10.0.0.1", tls=tls)
    assert get(out, b"x-forwarded-proto") == [proto]
    assert get(out, b"x-forwarded-port") == [port]


def test_scheme_headers_server_name_and_ipv6_zone() -> None:
    settings = ForwardedHeaders(add_x_forwarded_scheme_headers=True, hostname="gw-1")
    out = forwarded_headers([(b"host", b"a.com")], settings, client_ip="fe80::1%eth0", tls=True)
    assert get(out, b"x-forwarded-scheme") == [b"https"] == get(out, b"x-scheme")
    assert get(out, b"x-forwarded-server") == [b"gw-1"]
    assert get(out, b"x-real-ip") == [b"fe80::1"]


def test_connection_names_headers_to_remove_but_not_traefiks_own() -> None:
    headers = [
        (b"host", b"a.com"),
        (b"connection", b"close, x-secret, X-Forwarded-Proto, x-keep"),
        (b"x-secret", b"1"),
        (b"x-keep", b"2"),
    ]
    settings = ForwardedHeaders(connection=("X-Keep",))
    out = forwarded_headers(headers, settings, client_ip="10.0.0.1", tls=False)
    assert get(out, b"x-secret") == []
    assert get(out, b"x-forwarded-proto") == [b"http"]  # Connection cannot remove it
    assert get(out, b"x-keep") == [b"2"]  # reaches the middlewares…
    assert get(out, b"connection") == [b"x-keep"]
    up = upstream_headers(out, client_ip="10.0.0.1", append_forwarded_for=True)
    assert get(up, b"x-keep") == [] and get(up, b"connection") == []  # …not the server


def test_hop_by_hop_headers_never_reach_the_upstream() -> None:
    headers = [
        (b"host", b"a.com"),
        (b"keep-alive", b"timeout=5"),
        (b"proxy-authorization", b"Basic x"),
        (b"proxy-connection", b"keep-alive"),
        (b"te", b"gzip, trailers"),
        (b"trailer", b"x-checksum"),
        (b"transfer-encoding", b"chunked"),
        (b"accept", b"*/*"),
    ]
    up = upstream_headers(headers, client_ip=None, append_forwarded_for=True)
    assert up == [(b"host", b"a.com"), (b"accept", b"*/*"), (b"te", b"trailers")]


def test_an_upgrade_keeps_its_connection_and_upgrade_headers() -> None:
    headers = [(b"host", b"a.com"), (b"connection", b"Upgrade"), (b"upgrade", b"websocket")]
    assert is_upgrade(headers) == b"websocket"
    out = forwarded_headers(headers, ForwardedHeaders(), client_ip="10.0.0.1", tls=False)
    up = upstream_headers(out, client_ip="10.0.0.1", append_forwarded_for=True)
    assert get(up, b"connection") == [b"Upgrade"] and get(up, b"upgrade") == [b"websocket"]
    assert is_upgrade([(b"upgrade", b"websocket")]) is None  # Connection must ask for it


def test_responses_lose_hop_by_hop_headers_unless_switching_protocols() -> None:
    response = [
        (b"content-type", b"text/plain"),
        (b"connection", b"keep-alive, x-hop"),
        (b"x-hop", b"1"),
        (b"keep-alive", b"timeout=5"),
        (b"transfer-encoding", b"chunked"),
    ]
    assert downstream_headers(response, upgraded=False) == [(b"content-type", b"text/plain")]
    switching = [(b"connection", b"Upgrade"), (b"upgrade", b"websocket")]
    assert downstream_headers(switching, upgraded=True) == switching


def test_trusted_ips_are_checked_when_the_entry_point_is_built() -> None:
    with pytest.raises(ConfigError, match="not an IP or CIDR: 'nope'"):
        ForwardedHeaders(trusted_ips=("10.0.0.0/8", "nope"))
    settings = ForwardedHeaders(trusted_ips=("10.0.0.0/8",))
    assert settings.trusts("10.1.2.3") and not settings.trusts("11.0.0.1")
    assert not settings.trusts("not an ip") and not settings.trusts(None)


_NAMES = st.sampled_from(
    [
        b"host",
        b"connection",
        b"upgrade",
        b"x-forwarded-for",
        b"x-real-ip",
        b"te",
        b"x-a",
        b"keep-alive",
        b"x_forwarded_proto",
        b"transfer-encoding",
    ]
)
_VALUES = st.binary(max_size=20).filter(lambda v: b"\r" not in v and b"\n" not in v)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_NAMES, _VALUES), max_size=12), st.booleans(), st.booleans())
def test_no_hop_by_hop_header_survives_the_two_steps(headers: H, tls: bool, trusted: bool) -> None:
    entry = ForwardedHeaders(insecure=trusted)
    up = upstream_headers(
        forwarded_headers(headers, entry, client_ip="10.0.0.1", tls=tls),
        client_ip="10.0.0.1",
        append_forwarded_for=True,
    )
    upgrade = is_upgrade(headers)
    for name, value in up:
        if name == b"te":
            assert value == b"trailers"
        elif name in (b"connection", b"upgrade"):
            assert upgrade is not None
        else:
            assert name not in (b"keep-alive", b"transfer-encoding")
    assert len(get(up, b"x-forwarded-for")) == 1
    assert get(up, b"x-forwarded-for")[0].endswith(b"10.0.0.1")
