"""The path and redirect middlewares: what the backend and the client see, through the proxy."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from _echo import headers_of, site, with_middlewares
from routekit.middleware import (
    PathRefused,
    add_prefix,
    clean_path,
    decode_path,
    redirect_status,
    replace_path,
    replace_path_regex,
    scheme_request_url,
    strip_prefix,
    strip_prefix_regex,
)
from routekit.rules import compile_regexp

pytestmark = pytest.mark.anyio

PATHS = """
[http.middlewares.strip.stripPrefix]
prefixes = ["/foo", "/api/"]
[http.middlewares.stripre.stripPrefixRegex]
regex = ["/v[0-9]+"]
[http.middlewares.add.addPrefix]
prefix = "/internal"
[http.middlewares.replace.replacePath]
path = "/fixed"
[http.middlewares.rewrite.replacePathRegex]
regex = "^/old/(.*)"
replacement = "/new/$1"
"""


async def test_strip_prefix_cuts_the_first_prefix_and_says_which() -> None:
    async with site(with_middlewares(PATHS, '["strip"]')) as s:
        seen = await s.echoed("/foo/bar?q=1")
        assert seen["target"] == "/bar?q=1"
        assert headers_of(seen)["x-forwarded-prefix"] == ["/foo"]
        seen = await s.echoed("/api/users")
        assert seen["target"] == "/users"  # a leading slash is put back
        assert (await s.echoed("/foo"))["target"] == "/"  # nothing left: the root
        seen = await s.echoed("/other")
        assert seen["target"] == "/other" and "x-forwarded-prefix" not in headers_of(seen)
        # The prefix is compared with the decoded path and cut from the encoded one.
        assert (await s.echoed("/%66oo/a%20b"))["target"] == "/a%20b"
        # A path that is not clean once stripped is refused, not forwarded.
        response, body = await s.get("/foo/../etc/passwd")
        assert response.status == 400 and body == b"Bad Request\n"


async def test_strip_prefix_regex_add_prefix_and_replace_path() -> None:
    dynamic = with_middlewares(PATHS, '["stripre", "add"]')
    async with site(dynamic) as s:
        seen = await s.echoed("/v12/items")
        assert seen["target"] == "/internal/items"
        assert headers_of(seen)["x-forwarded-prefix"] == ["/v12"]
    async with site(with_middlewares(PATHS, '["replace"]')) as s:
        seen = await s.echoed("/any/thing?x=y")
        assert seen["target"] == "/fixed?x=y"
        assert headers_of(seen)["x-replaced-path"] == ["/any/thing"]
    async with site(with_middlewares(PATHS, '["rewrite"]')) as s:
        seen = await s.echoed("/old/a/b")
        assert seen["target"] == "/new/a/b"
        assert headers_of(seen)["x-replaced-path"] == ["/old/a/b"]
        seen = await s.echoed("/kept")
        assert seen["target"] == "/kept" and "x-replaced-path" not in headers_of(seen)


REDIRECTS = """
[http.middlewares.https.redirectScheme]
scheme = "https"
permanent = true
[http.middlewares.port.redirectScheme]
scheme = "https"
port = "8443"
[http.middlewares.moved.redirectRegex]
regex = "^http://([^/]+)/old/(.*)"
replacement = "http://${1}/new/${2}"
"""


async def test_redirect_scheme_answers_with_the_https_location() -> None:
    async with site(with_middlewares(REDIRECTS, '["https"]')) as s:
        response, body = await s.get("/a?b=c")
        assert response.status == 301 and body == b"Moved Permanently"
        assert (b"location", b"https://site.test/a?b=c") in response.headers
        response, _ = await s.get("/form", method="POST")
        assert response.status == 308  # not GET: the method is kept
        # Already https as a trusted proxy says (the entry point trusts nobody here, so
        # the client's own X-Forwarded-Proto is dropped and the request is redirected).
        response, _ = await s.get("/", headers=[(b"x-forwarded-proto", b"https")])
        assert response.status == 301
    async with site(with_middlewares(REDIRECTS, '["port"]')) as s:
        response, _ = await s.get("/x", host="site.test:8000")
        assert response.status == 302
        assert (b"location", b"https://site.test:8443/x") in response.headers


async def test_redirect_regex_only_when_the_url_changes() -> None:
    async with site(with_middlewares(REDIRECTS, '["moved"]')) as s:
        response, _ = await s.get("/old/page")
        assert response.status == 302
        assert (b"location", b"http://site.test/new/page") in response.headers
        assert (await s.echoed("/elsewhere"))["target"] == "/elsewhere"


# --- the pure decisions ---------------------------------------------------------------------


def test_strip_prefix_decisions() -> None:
    assert strip_prefix("/foo/bar", ("/foo",)) == ("/foo", "/bar")
    assert strip_prefix("/foobar", ("/foo",)) == ("/foo", "/bar")  # as Traefik: no segment rule
    assert strip_prefix("/x", ("/foo",)) is None
    assert strip_prefix("/foo//x", ("/foo",)) == PathRefused(400, "Bad Request")
    assert strip_prefix_regex("/v1/x", (compile_regexp("/v[0-9]"),)) == ("/v1", "/x")
    assert strip_prefix_regex("/a/v1/x", (compile_regexp("/v[0-9]"),)) is None  # not a prefix


def test_replace_decisions() -> None:
    assert add_prefix("/x", "api") == "/api/x"
    assert add_prefix("/x", "/a b") == "/a%20b/x"
    assert replace_path("/a%zz") == PathRefused(500, "invalid URL escape in '/a%zz'")
    regex = compile_regexp("^/(\\w+)/(\\w+)")
    assert replace_path_regex("/a/b", regex, "/$2/$1") == "/b/a"
    assert replace_path_regex("/a/b", regex, "/$2x") == "/"  # $2x names group "2x": empty
    assert replace_path_regex("/", regex, "/x") is None


def test_redirect_decisions() -> None:
    assert redirect_status(b"GET", permanent=False) == 302
    assert redirect_status(b"PUT", permanent=False) == 307
    assert redirect_status(b"GET", permanent=True) == 301
    assert redirect_status(b"DELETE", permanent=True) == 308
    url = scheme_request_url(tls=False, host="a.test:80", target="/x", forwarded_proto=None)
    assert url == "http://a.test/x"  # the scheme's own port is left out
    url = scheme_request_url(tls=False, host="[::1]:8080", target="/", forwarded_proto="wss")
    assert url == "https://[::1]:8080/"


_SEGMENTS = st.lists(st.sampled_from(["a", "b", ".", "..", "", "%2F", "c%20d"]), max_size=6)


@given(_SEGMENTS)
def test_clean_path_is_idempotent_and_never_climbs(segments: list[str]) -> None:
    path = "/" + "/".join(segments)
    cleaned = clean_path(path)
    assert clean_path(cleaned) == cleaned
    assert cleaned.startswith("/")
    assert ".." not in cleaned.split("/") and "//" not in cleaned


@given(_SEGMENTS, st.sampled_from(["/api", "/a", "/"]))
def test_a_stripped_path_is_clean_or_refused(segments: list[str], prefix: str) -> None:
    path = prefix + "/" + "/".join(segments)
    outcome = strip_prefix(path, (prefix,))
    assert outcome is not None
    if not isinstance(outcome, PathRefused):
        _, stripped = outcome
        assert decode_path(clean_path(stripped)) == decode_path(stripped)
        assert not stripped or stripped.startswith("/")


async def test_a_decoded_prefix_never_becomes_a_header_with_a_line_break() -> None:
    text = """
[http.middlewares.any.stripPrefixRegex]
regex = ["/[^/]+"]
"""
    async with site(with_middlewares(text, '["any"]')) as s:
        response, _ = await s.get("/a%0D%0AX-Injected:%201/rest")
        assert response.status == 400
        seen = await s.echoed("/ok/rest")
        assert seen["target"] == "/rest"


def test_scheme_location() -> None:
    from routekit.middleware import scheme_location

    assert scheme_location("http://a.test:8080/x?y", "https", "") == "https://a.test/x?y"
    assert scheme_location("http://[::1]:80/", "https", ":8443") == "https://[::1]:8443/"
