"""buffering, contentType and digestAuth through the proxy."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator

import pytest

from _echo import headers_of, site, with_middlewares
from _sockets import free_port
from routekit.middleware import digest_fields, sniff_content_type

pytestmark = pytest.mark.anyio

BUFFERING = """
[http.middlewares.buf.buffering]
maxRequestBodyBytes = 2000
memRequestBodyBytes = 100
maxResponseBodyBytes = 5000
[http.middlewares.sniff.contentType]
autoDetect = true
[http.middlewares.plain.contentType]
"""


async def test_buffering_holds_bodies_with_limits() -> None:
    async with site(with_middlewares(BUFFERING, '["buf"]')) as s:
        body = b"x" * 1500  # past the memory threshold: held on disk

        async def pieces() -> AsyncIterator[bytes]:  # sent chunked, with no length
            for start in range(0, len(body), 500):
                yield body[start : start + 500]

        sent = [(b"host", b"site.test"), (b"transfer-encoding", b"chunked")]
        response = await s.client.request("PUT", s.url + "/", headers=sent, body=pieces())
        seen = json.loads(await response.read())
        assert response.status == 200 and seen["body"] == body.decode()
        headers = headers_of(seen)
        assert headers["content-length"] == ["1500"] and "transfer-encoding" not in headers
        response, data = await s.get("/", method="PUT", body=b"y" * 2001)
        assert response.status == 413 and data == b"Request Entity Too Large\n"
        response, data = await s.get("/stream/4000")
        assert response.status == 200 and len(data) == 4000
        assert (b"content-length", b"4000") in response.headers  # held whole: a length
        response, data = await s.get("/stream/6000")
        assert response.status == 500


async def test_buffering_retry_expression_sends_again() -> None:
    dead = free_port()

    def dynamic(port: int) -> str:
        return f"""
[http.routers.site]
rule = "Host(`site.test`)"
service = "pair"
middlewares = ["buf"]
[http.middlewares.buf.buffering]
retryExpression = "IsNetworkError() && Attempts() < 2"
[[http.services.pair.loadBalancer.servers]]
url = "http://127.0.0.1:{dead}"
[[http.services.pair.loadBalancer.servers]]
url = "http://127.0.0.1:{port}"
"""

    async with site(dynamic) as s:
        statuses = [(await s.get("/", method="POST", body=b"b"))[0].status for _ in range(4)]
        assert statuses == [200] * 4


async def test_content_type_is_guessed_only_when_asked() -> None:
    async with site(with_middlewares(BUFFERING, '["sniff"]')) as s:
        response, _ = await s.get("/stream/100")
        assert (b"content-type", b"text/plain") in response.headers  # the server's own
    # The echo server always sets a type: sniffing is tested on the decisions below.
    assert sniff_content_type(b"<!DOCTYPE html><p>") == "text/html; charset=utf-8"
    assert sniff_content_type(b"  <html>") == "text/html; charset=utf-8"
    assert sniff_content_type(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert sniff_content_type(b"%PDF-1.7") == "application/pdf"
    assert sniff_content_type(b"hello") == "text/plain; charset=utf-8"
    assert sniff_content_type(b"\x00\x01binary") == "application/octet-stream"
    assert sniff_content_type(b"<?xml version='1.0'?>") == "text/xml; charset=utf-8"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # RFC 2617's MD5


DIGEST = f"""
[http.middlewares.digest.digestAuth]
users = ["ann:traefik:{_md5("ann:traefik:secret")}"]
headerField = "X-User"
removeHeader = true
"""


def _answer(challenge: bytes, method: str, uri: str, password: str, nc: str) -> bytes:
    fields = digest_fields(challenge)
    assert fields is not None
    ha1 = _md5(f"ann:traefik:{password}")
    ha2 = _md5(f"{method}:{uri}")
    response = _md5(f"{ha1}:{fields['nonce']}:{nc}:abc:auth:{ha2}")
    return (
        f'Digest username="ann", realm="traefik", nonce="{fields["nonce"]}", uri="{uri}", '
        f'qop=auth, nc={nc}, cnonce="abc", response="{response}", opaque="{fields["opaque"]}"'
    ).encode()


async def test_digest_auth_challenge_and_answer() -> None:
    async with site(with_middlewares(DIGEST, '["digest"]')) as s:
        response, body = await s.get("/page?x=1")
        assert response.status == 401 and body == b"401 Unauthorized\n"
        challenge = dict(response.headers)[b"www-authenticate"]
        assert challenge.startswith(b'Digest realm="traefik", nonce="')
        good = _answer(challenge, "GET", "/page?x=1", "secret", "00000001")
        seen = headers_of(await s.echoed("/page?x=1", headers=[(b"authorization", good)]))
        assert seen["x-user"] == ["ann"] and "authorization" not in seen
        # The same nonce count again is a replay; a wrong password or URI fails.
        assert (await s.get("/page?x=1", headers=[(b"authorization", good)]))[0].status == 401
        bad = _answer(challenge, "GET", "/page?x=1", "wrong", "00000002")
        assert (await s.get("/page?x=1", headers=[(b"authorization", bad)]))[0].status == 401
        other = _answer(challenge, "GET", "/other", "secret", "00000003")
        assert (await s.get("/page?x=1", headers=[(b"authorization", other)]))[0].status == 401
        again = _answer(challenge, "GET", "/page?x=1", "secret", "00000004")
        assert (await s.get("/page?x=1", headers=[(b"authorization", again)]))[0].status == 200
