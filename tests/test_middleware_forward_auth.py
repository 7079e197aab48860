"""forwardAuth against a real authentication server on a socket."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import anyio
import pytest

from _echo import headers_of, site, with_middlewares
from routekit.http import EntryPointServer, RequestHead, Response

pytestmark = pytest.mark.anyio


class AuthServer:
    """Lets ``Authorization: Bearer good`` through as alice; refuses the rest."""

    def __init__(self) -> None:
        self.seen: list[dict[bytes, bytes]] = []
        self.bodies: list[bytes] = []
        self.server = EntryPointServer("127.0.0.1:0", self.handle)

    async def handle(self, head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        self.bodies.append(b"".join([chunk async for chunk in body]))
        headers = dict(head.event.headers)
        headers[b":method"] = head.event.method
        headers[b":target"] = head.event.target
        self.seen.append(headers)
        if headers.get(b"x-forwarded-uri", b"").startswith(b"/login-first"):
            return Response(302, [(b"location", b"/login")], b"")
        if headers.get(b"authorization") == b"Bearer good":
            return Response(
                200,
                [
                    (b"x-auth-user", b"alice"),
                    (b"x-auth-role", b"admin"),
                    (b"x-ignored", b"1"),
                    (b"set-cookie", b"session=abc; Path=/"),
                    (b"set-cookie", b"other=1"),
                ],
                b"",
            )
        return Response(401, [(b"www-authenticate", b'Bearer realm="x"')], b"nope")


def middleware(port: int, extra: str = "") -> str:
    return f"""
[http.middlewares.auth.forwardAuth]
address = "http://127.0.0.1:{port}/check?x=1"
authResponseHeaders = ["X-Auth-User"]
authResponseHeadersRegex = "^X-Auth-R"
addAuthCookiesToResponse = ["session"]
{extra}
"""


async def test_the_auth_server_decides_and_its_headers_reach_the_backend() -> None:
    auth = AuthServer()
    async with anyio.create_task_group() as tg:
        await tg.start(auth.server.serve)
        dynamic = with_middlewares(middleware(auth.server.ports[0]), '["auth"]')
        async with site(dynamic) as s:
            response, body = await s.get("/page?q=2", headers=[(b"x-auth-user", b"mallory")])
            assert response.status == 401 and body == b"nope"
            assert (b"www-authenticate", b'Bearer realm="x"') in response.headers
            asked = auth.seen[-1]
            assert asked[b":method"] == b"GET" and asked[b":target"] == b"/check?x=1"
            assert asked[b"x-forwarded-method"] == b"GET"
            assert asked[b"x-forwarded-uri"] == b"/page?q=2"
            assert asked[b"x-forwarded-host"] == b"site.test"
            assert asked[b"x-forwarded-proto"] == b"http"
            assert asked[b"x-forwarded-for"] == b"127.0.0.1"
            assert asked[b"host"] == f"127.0.0.1:{auth.server.ports[0]}".encode()

            good = [(b"authorization", b"Bearer good"), (b"x-auth-user", b"mallory")]
            response, body = await s.get("/page", headers=good, method="POST", body=b"data")
            assert response.status == 200
            seen = json.loads(body)
            headers = headers_of(seen)
            assert headers["x-auth-user"] == ["alice"]  # the client's own value is replaced
            assert headers["x-auth-role"] == ["admin"]
            assert "x-ignored" not in headers
            assert seen["body"] == "data" and auth.bodies[-1] == b""  # no forwardBody
            assert (b"set-cookie", b"session=abc; Path=/") in response.headers
            assert (b"set-cookie", b"other=1") not in response.headers

            response, _ = await s.get("/login-first")
            assert response.status == 302
            location = f"http://127.0.0.1:{auth.server.ports[0]}/login".encode()
            assert (b"location", location) in response.headers
        auth.server.stop()


async def test_forward_body_and_an_unreachable_auth_server() -> None:
    auth = AuthServer()
    async with anyio.create_task_group() as tg:
        await tg.start(auth.server.serve)
        extra = "forwardBody = true\nmaxBodySize = 8\npreserveRequestMethod = true"
        dynamic = with_middlewares(middleware(auth.server.ports[0], extra), '["auth"]')
        good = [(b"authorization", b"Bearer good")]
        async with site(dynamic) as s:
            response, body = await s.get("/", headers=good, method="PUT", body=b"small")
            assert response.status == 200 and json.loads(body)["body"] == "small"
            assert auth.bodies[-1] == b"small" and auth.seen[-1][b":method"] == b"PUT"
            response, _ = await s.get("/", headers=good, method="PUT", body=b"far too large")
            assert response.status == 401
        auth.server.stop()
    dead = with_middlewares(middleware(auth.server.ports[0]), '["auth"]')
    async with site(dead) as s:
        assert (await s.get("/"))[0].status == 500  # nobody to ask: never let through
