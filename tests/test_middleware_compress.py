"""compress through the proxy, decoded by real gzip, Brotli and zstd decoders."""

from __future__ import annotations

import gzip

import brotli
import pytest
from backports import zstd

from _echo import site, with_middlewares
from routekit.config import Compress
from routekit.errors import ConfigError
from routekit.middleware import available_encodings, build_layer, negotiate

pytestmark = pytest.mark.anyio

COMPRESS = """
[http.middlewares.zip.compress]
[http.middlewares.gz.compress]
encodings = ["gzip"]
defaultEncoding = "gzip"
excludedContentTypes = ["application/json"]
minResponseBodyBytes = 100
"""

TEXT = (b"routekit " * 400)[:3000]


def _accept(value: str) -> list[tuple[bytes, bytes]]:
    return [(b"accept-encoding", value.encode())]


async def test_each_encoding_decodes_to_the_same_body() -> None:
    async with site(with_middlewares(COMPRESS, '["zip"]')) as s:
        for path in ("/big/3000", "/stream/3000"):
            response, body = await s.get(path, headers=_accept("gzip"))
            answer = dict(response.headers)
            assert answer[b"content-encoding"] == b"gzip" and answer[b"vary"] == b"Accept-Encoding"
            assert gzip.decompress(body) == TEXT and len(body) < 200
            response, body = await s.get(path, headers=_accept("br;q=0.9, gzip;q=0.5"))
            assert dict(response.headers)[b"content-encoding"] == b"br"
            assert brotli.decompress(body) == TEXT
            response, body = await s.get(path, headers=_accept("gzip, zstd, br"))
            assert dict(response.headers)[b"content-encoding"] == b"zstd"  # ties: config order
            assert zstd.decompress(body) == TEXT


async def test_what_is_not_compressed() -> None:
    async with site(with_middlewares(COMPRESS, '["zip"]')) as s:
        response, body = await s.get("/big/500", headers=_accept("gzip"))
        assert b"content-encoding" not in dict(response.headers) and len(body) == 500
        response, body = await s.get("/stream/900", headers=_accept("gzip"))
        assert b"content-encoding" not in dict(response.headers) and len(body) == 900
        response, body = await s.get("/big/3000")  # no Accept-Encoding, no default
        assert body == TEXT
        response, body = await s.get("/big/3000", headers=_accept("identity"))
        assert body == TEXT
        response, body = await s.get("/big/3000", headers=_accept("gzip"), method="HEAD")
        assert body == b"" and b"content-encoding" not in dict(response.headers)
    async with site(with_middlewares(COMPRESS, '["gz"]')) as s:
        response, body = await s.get("/big/300")  # the default encoding, and a lower minimum
        assert dict(response.headers)[b"content-encoding"] == b"gzip"
        assert gzip.decompress(body) == TEXT[:300]
        response, body = await s.get("/" + "x" * 200, headers=_accept("gzip"))
        assert b"content-encoding" not in dict(response.headers)  # JSON is excluded here


def test_negotiation() -> None:
    order = ("zstd", "br", "gzip")
    assert negotiate([b"gzip, br"], order, "") == "br"
    assert negotiate([b"gzip;q=1.0, br;q=0.2"], order, "") == "gzip"
    assert negotiate([b"*"], order, "") == "zstd"
    assert negotiate([b"*"], order, "gzip") == "gzip"
    assert negotiate([b"br;q=0, deflate"], order, "") is None
    assert negotiate(None, order, "gzip") == "gzip"
    assert negotiate([b""], order, "gzip") is None
    assert available_encodings() == {"gzip", "br", "zstd"}
    with pytest.raises(ConfigError, match="unsupported encoding 'deflate'"):
        build_layer(Compress(encodings=("deflate",)))
    with pytest.raises(ConfigError, match="mutually exclusive"):
        build_layer(Compress(excluded_content_types=("a/b",), included_content_types=("c/d",)))
