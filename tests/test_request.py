"""The Request view: canonical host, routing path, query, headers and the constructors."""

from __future__ import annotations

import h11
import pytest
from hypothesis import given
from hypothesis import strategies as st

from routekit import Headers, Request
from routekit.request import canonical_host, routing_path


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Example.COM", "example.com"),
        ("example.com:8080", "example.com"),
        (" example.com ", "example.com"),
        ("example.com.", "example.com"),
        ("example.com.:443", "example.com"),
        ("[::1]:8080", "::1"),
        ("[fe80::1]", "fe80::1"),
        ("10::10", "10::10"),  # bare IPv6 without brackets keeps its colons
        ("127.0.0.1:80", "127.0.0.1"),
        ("", ""),
    ],
)
def test_canonical_host(raw: str, expected: str) -> None:
    assert canonical_host(raw) == expected
    assert Request(host=raw).host == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/foo%20bar", "/foo bar"),
        ("/foo%2Fbar", "/foo%2Fbar"),
        ("/foo%2fbar", "/foo%2Fbar"),
        ("/%7Bpath:css%7D", "/{path:css}"),
        ("/a%3Fb%23c%25d", "/a%3Fb%23c%25d"),
        ("/caf%C3%A9", "/café"),
        ("/bad%FFbyte", "/bad%FFbyte"),
        ("/x%C3%A9%FF", "/xé%FF"),
        ("/100%", "/100%"),
        ("/plain", "/plain"),
        ("", ""),
    ],
)
def test_routing_path(raw: str, expected: str) -> None:
    assert routing_path(raw) == expected
    assert Request(path=raw).path == expected
    assert Request(path=raw).raw_path == raw


def test_path_splits_query_when_not_given() -> None:
    req = Request(path="/a?x=1&y")
    assert req.raw_path == "/a"
    assert req.query_string == "x=1&y"
    assert req.query == {"x": ("1",), "y": ("",)}


def test_query_is_parsed_like_go() -> None:
    req = Request(path="/", query="a=1&a=2&b=x+y&c=%26&bad;pair=1&&k")
    assert req.query["a"] == ("1", "2")
    assert req.query["b"] == ("x y",)
    assert req.query["c"] == ("&",)
    assert req.query["k"] == ("",)
    assert "bad;pair" not in req.query
    # Go's url.ParseQuery drops a pair whose escapes are malformed, and keeps the others.
    req = Request(query="a=%zz&b=1&c=%4&d=%41&e%=1")
    assert dict(req.query) == {"b": ("1",), "d": ("A",)}


def test_headers_case_insensitive_and_multivalued() -> None:
    h = Headers([("X-Thing", "a"), ("x-thing", "b"), ("Other", "c")])
    assert h["x-THING"] == "a"
    assert h.get_all("X-Thing") == ("a", "b")
    assert "OTHER" in h
    assert "missing" not in h
    assert sorted(h) == ["other", "x-thing"]
    assert len(h) == 2
    with pytest.raises(KeyError):
        h["missing"]


def test_host_defaults_to_host_header() -> None:
    req = Request(headers={"Host": "API.example.com:8443"})
    assert req.host == "api.example.com"
    assert req.raw_host == "API.example.com:8443"


def test_cookies() -> None:
    req = Request(headers=[("Cookie", 'a=1; b="two"'), ("cookie", "a=3; c=")])
    assert req.cookies == {"a": "1", "b": "two", "c": ""}


def test_request_is_immutable_and_replace_makes_copies() -> None:
    req = Request(method="GET", host="a.com", path="/x")
    with pytest.raises(AttributeError):
        req.method = "POST"
    other = req.replace(path="/y")
    assert other.path == "/y" and req.path == "/x"
    assert req == Request(method="GET", host="a.com", path="/x")
    assert hash(req) == hash(Request(method="GET", host="a.com", path="/x"))
    with pytest.raises(TypeError, match="unexpected"):
        req.replace(nope=1)


def test_from_url() -> None:
    req = Request.from_url("https://user@Example.com:8443/a%20b?q=1#frag", method="POST")
    assert (req.scheme, req.host, req.raw_path, req.path) == (
        "https",
        "example.com",
        "/a%20b",
        "/a b",
    )
    assert req.query == {"q": ("1",)}
    assert req.method == "POST"
    # Go's net/url: no path means an empty path, not "/".
    assert Request.from_url("https://example.com").path == ""
    assert Request.from_url("http://example.com?x=1").query_string == "x=1"
    with pytest.raises(ValueError, match="absolute URL"):
        Request.from_url("/relative")


def test_from_asgi() -> None:
    scope = {
        "type": "http",
        "method": "PUT",
        "scheme": "https",
        "path": "/a b",
        "raw_path": b"/a%20b",
        "query_string": b"x=1",
        "headers": [(b"host", b"Svc.Local:8000"), (b"x-a", b"1")],
        "client": ("10.1.2.3", 5555),
        "server": ("127.0.0.1", 8000),
    }
    req = Request.from_asgi(scope)
    assert req.method == "PUT" and req.scheme == "https"
    assert req.host == "svc.local" and req.path == "/a b" and req.raw_path == "/a%20b"
    assert req.client_ip == "10.1.2.3"
    assert req.headers["X-A"] == "1"
    # Without raw_path or Host, the decoded path is re-escaped and the server address is used.
    bare = Request.from_asgi({"type": "http", "path": "/100%/é", "server": ("::1", 80)})
    assert bare.raw_path == "/100%25/%C3%A9" and bare.path == "/100%25/é"
    assert bare.host == "::1"
    ws = Request.from_asgi({"type": "websocket", "path": "/ws", "headers": []})
    assert ws.scheme == "ws" and ws.method == "GET"


def test_from_h11_origin_and_absolute_form() -> None:
    ev = h11.Request(method="GET", target="/p?q=1", headers=[("Host", "a.com")])
    req = Request.from_h11(ev, client_ip="127.0.0.1")
    assert (req.host, req.path, req.query_string, req.client_ip) == (
        "a.com",
        "/p",
        "q=1",
        "127.0.0.1",
    )
    # Absolute-form: the target's authority replaces the Host header (RFC 9112 §3.2.2).
    ev = h11.Request(method="GET", target="http://b.com:81/x", headers=[("Host", "a.com")])
    req = Request.from_h11(ev)
    assert (req.host, req.path, req.scheme) == ("b.com", "/x", "http")
    ev = h11.Request(method="CONNECT", target="c.com:443", headers=[("Host", "c.com:443")])
    req = Request.from_h11(ev)
    assert (req.host, req.path) == ("c.com", "")
    ev = h11.Request(method="OPTIONS", target="*", headers=[("Host", "d.com")])
    assert Request.from_h11(ev).path == "*"
    # An absolute-form target without an authority leaves the Host header in charge (Go).
    ev = h11.Request(method="GET", target="http:///x", headers=[("Host", "e.com")])
    assert (Request.from_h11(ev).host, Request.from_h11(ev).path) == ("e.com", "/x")


def test_from_asgi_absolute_form_target() -> None:
    # A server may pass an absolute-form target through in raw_path (or path): its authority
    # is the host Traefik routes on, whatever the Host header says.
    scope = {
        "type": "http",
        "method": "GET",
        "path": "http://b.com:81/x y",
        "raw_path": b"http://b.com:81/x%20y",
        "query_string": b"q=1",
        "headers": [(b"host", b"a.com")],
    }
    req = Request.from_asgi(scope)
    assert (req.host, req.path, req.raw_path, req.query["q"]) == ("b.com", "/x y", "/x%20y", ("1",))
    del scope["raw_path"]
    assert Request.from_asgi(scope).host == "b.com"
    assert Request.from_asgi(
        {"type": "http", "path": "", "headers": [(b"host", b"a.com")]}
    ).host == ("a.com")


_RESERVED = ":/?#[]@!$&'()*+,;=%"


@given(
    st.text(
        alphabet=st.characters(exclude_characters=_RESERVED, exclude_categories=["Cs"]),
        max_size=30,
    )
)
def test_routing_path_decodes_every_unreserved_escape(text: str) -> None:
    from urllib.parse import quote

    assert routing_path("/" + quote(text, safe="")) == "/" + text


@given(st.sampled_from(_RESERVED), st.text(alphabet="abc/", max_size=5))
def test_routing_path_keeps_reserved_escapes(char: str, tail: str) -> None:
    escaped = f"/x%{ord(char):02X}{tail}"
    assert routing_path(escaped) == escaped


_LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)


@given(st.lists(_LABEL, min_size=1, max_size=4), st.integers(1, 65535), st.booleans())
def test_canonical_host_drops_case_port_and_trailing_dot(
    labels: list[str], port: int, dot: bool
) -> None:
    name = ".".join(labels)
    raw = f"{name.upper()}{'.' if dot else ''}:{port}"
    assert canonical_host(raw) == name
    assert Request(host=raw).host == name
