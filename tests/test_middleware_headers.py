"""The headers middleware through the proxy: custom headers, security headers and CORS."""

from __future__ import annotations

import json

import pytest

from _echo import headers_of, site, with_middlewares
from routekit.config import Headers
from routekit.errors import ConfigError
from routekit.middleware import CORS, build_layer, cors_origin, preflight_headers
from routekit.rules import compile_regexp

pytestmark = pytest.mark.anyio

HEADERS = """
[http.middlewares.custom.headers]
frameDeny = true
contentTypeNosniff = true
browserXssFilter = true
referrerPolicy = "same-origin"
stsSeconds = 31536000
stsIncludeSubdomains = true
[http.middlewares.custom.headers.customRequestHeaders]
X-Script-Name = "test"
X-Remove-Me = ""
X-Forwarded-For = ""
[http.middlewares.custom.headers.customResponseHeaders]
X-Custom-Response = "yes"
X-Backend = ""
X-Frame-Options = "SAMEORIGIN"
[http.middlewares.cors.headers]
accessControlAllowMethods = ["GET", "OPTIONS", "PUT"]
accessControlAllowHeaders = ["X-Token"]
accessControlAllowOriginList = ["https://app.example"]
accessControlAllowOriginListRegex = ["^https://[a-z]+\\\\.dev\\\\.example$"]
accessControlExposeHeaders = ["X-Backend"]
accessControlMaxAge = 100
addVaryHeader = true
[http.middlewares.hosts.headers]
allowedHosts = ["site.test"]
"""


async def test_custom_and_security_headers_both_ways() -> None:
    async with site(with_middlewares(HEADERS, '["custom"]')) as s:
        response, body = await s.get(
            "/", headers=[(b"x-remove-me", b"1"), (b"x-forwarded-for", b"203.0.113.9")]
        )
        assert response.status == 200
        answer = dict(response.headers)
        assert answer[b"x-custom-response"] == b"yes"
        assert b"x-backend" not in answer  # an empty value removes the server's header
        assert answer[b"x-frame-options"] == b"SAMEORIGIN"  # the custom value wins
        assert answer[b"x-content-type-options"] == b"nosniff"
        assert answer[b"x-xss-protection"] == b"1; mode=block"
        assert answer[b"referrer-policy"] == b"same-origin"
        assert b"strict-transport-security" not in answer  # not over TLS, not forced
        seen = headers_of(json.loads(body))
        assert seen["x-script-name"] == ["test"]
        assert "x-remove-me" not in seen
        assert "x-forwarded-for" not in seen  # emptied: not even the proxy's own


async def test_cors_preflight_is_answered_by_the_gateway() -> None:
    async with site(with_middlewares(HEADERS, '["cors"]')) as s:
        asked = [
            (b"origin", b"https://app.example"),
            (b"access-control-request-method", b"PUT"),
        ]
        response, body = await s.get("/", headers=asked, method="OPTIONS")
        assert response.status == 200 and body == b""
        assert (b"x-backend", b"echo") not in response.headers  # the backend never saw it
        answer = dict(response.headers)
        assert answer[b"access-control-allow-methods"] == b"GET,OPTIONS,PUT"
        assert answer[b"access-control-allow-headers"] == b"X-Token"
        assert answer[b"access-control-allow-origin"] == b"https://app.example"
        assert answer[b"access-control-max-age"] == b"100"
        # A simple request gets the origin, the exposed headers and Vary.
        response, _ = await s.get("/", headers=[(b"origin", b"https://x.dev.example")])
        answer = dict(response.headers)
        assert answer[b"access-control-allow-origin"] == b"https://x.dev.example"
        assert answer[b"access-control-expose-headers"] == b"X-Backend"
        assert answer[b"vary"] == b"Origin"
        response, _ = await s.get("/", headers=[(b"origin", b"https://evil.example")])
        assert b"access-control-allow-origin" not in dict(response.headers)


async def test_allowed_hosts_refuse_other_hosts() -> None:
    dynamic = with_middlewares(HEADERS, '["hosts"]')

    def both(port: int) -> str:
        return dynamic(port).replace("Host(`site.test`)", "HostRegexp(`.*`)")

    async with site(both) as s:
        assert (await s.get("/"))[0].status == 200
        response, body = await s.get("/", host="other.test")
        assert response.status == 500 and body == b"Bad Host\n"


def test_cors_decisions() -> None:
    cors = CORS(allow_origins=("*",), allow_credentials=True)
    assert cors_origin(cors, "https://a") == "https://a"  # no wildcard with credentials
    assert cors_origin(CORS(allow_origins=("*",)), "https://a") == "*"
    regexes = (compile_regexp("^https://ok"),)
    assert cors_origin(CORS(allow_origin_regexes=regexes), "https://nope") is None
    wild = CORS(allow_headers=("*",), allow_methods=("*",), allow_credentials=True)
    pairs = dict(preflight_headers(wild, "https://a", "PATCH", "X-A, X-B"))
    assert pairs[b"access-control-allow-headers"] == b"X-A, X-B"
    assert pairs[b"access-control-allow-methods"] == b"PATCH"


def test_a_headers_middleware_that_sets_nothing_is_refused() -> None:
    with pytest.raises(ConfigError, match="no header option"):
        build_layer(Headers())
