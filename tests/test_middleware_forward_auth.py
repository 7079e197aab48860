"""forwardAuth against a real authentication server on a socket."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from _certs import make_tls
from _echo import headers_of, site, with_middlewares
from routekit.config import EntryPoint
from routekit.http import Certificates, EntryPointServer, RequestHead, Response

pytestmark = pytest.mark.anyio


class AuthServer:
    """Lets ``Authorization: Bearer good`` through as alice; refuses the rest."""

    def __init__(self, certificates: Certificates | None = None) -> None:
        self.seen: list[dict[bytes, bytes]] = []
        self.bodies: list[bytes] = []
        self.peers: list[bytes | None] = []  # the client certificate of each request
        self.server = EntryPointServer(
            "127.0.0.1:0",
            self.handle,
            certificates=None if certificates is None else lambda: certificates,
            tls_only=certificates is not None,
        )

    async def handle(self, head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        self.bodies.append(b"".join([chunk async for chunk in body]))
        self.peers.append(head.peer_certificate)
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


# --- trustForwardHeader, authRequestHeaders, tls ------------------------------------------------

#: What a client (or a proxy before the gateway) claims about the request.
_CLAIMED = [
    (b"x-forwarded-method", b"GET"),
    (b"x-forwarded-uri", b"/public"),
    (b"x-forwarded-host", b"other.test"),
    (b"x-forwarded-proto", b"https"),
    (b"x-forwarded-port", b"8443"),
    (b"x-forwarded-for", b"10.9.9.9"),
    (b"x-forwarded-prefix", b"/p"),
    (b"x-real-ip", b"10.9.9.9"),
    (b"x_forwarded_uri", b"/public"),  # an underscore spelling, read as the dashed one by some
]
_GOOD = [(b"authorization", b"Bearer good")]


async def _asked(extra: str, entry_point: EntryPoint | None = None) -> dict[bytes, bytes]:
    """What the authentication server saw of ``DELETE /admin/x?y=1`` with the claims."""
    auth = AuthServer()
    async with anyio.create_task_group() as tg:
        await tg.start(auth.server.serve)
        dynamic = with_middlewares(middleware(auth.server.ports[0], extra), '["auth"]')
        async with site(dynamic, entry_point=entry_point) as s:
            response, _ = await s.get("/admin/x?y=1", headers=[*_GOOD, *_CLAIMED], method="DELETE")
            assert response.status == 200
        auth.server.stop()
    return auth.seen[-1]


_TRUSTING = EntryPoint(address="127.0.0.1:0", trusted_ips=("127.0.0.1",))
_GATEWAYS_OWN = {
    b"x-forwarded-method": b"DELETE",
    b"x-forwarded-uri": b"/admin/x?y=1",
    b"x-forwarded-host": b"site.test",
    b"x-forwarded-proto": b"http",
    b"x-forwarded-port": b"80",
    b"x-forwarded-for": b"127.0.0.1",
}
_FORWARDED = (
    b"x-forwarded-method", b"x-forwarded-uri", b"x-forwarded-host", b"x-forwarded-proto",
    b"x-forwarded-port", b"x-forwarded-for", b"x-forwarded-prefix", b"x-real-ip",
    b"x_forwarded_uri",
)  # fmt: skip


@pytest.mark.parametrize(
    ("trust", "entry_point", "expected"),
    [
        # The entry point trusts the client: only the middleware stands between the claims
        # and the authentication server (Traefik's DeleteXForwardedHeaders, then its values).
        ("false", _TRUSTING, _GATEWAYS_OWN),
        (
            "true",
            _TRUSTING,
            {
                **dict(_CLAIMED),
                b"x-forwarded-for": b"10.9.9.9, 127.0.0.1",  # the client appended
            },
        ),
        # Traefik's advice: an entry point that does not trust the client removes the claims
        # first, so that with trustForwardHeader the server sees the entry point's values.
        ("true", None, {**_GATEWAYS_OWN, b"x-real-ip": b"127.0.0.1"}),
    ],
)
async def test_trust_forward_header(
    trust: str, entry_point: EntryPoint | None, expected: dict[bytes, bytes]
) -> None:
    asked = await _asked(f"trustForwardHeader = {trust}", entry_point)
    assert {k: asked[k] for k in _FORWARDED if k in asked} == expected


async def test_auth_request_headers_choose_what_the_server_sees() -> None:
    auth = AuthServer()
    async with anyio.create_task_group() as tg:
        await tg.start(auth.server.serve)
        extra = 'authRequestHeaders = ["Authorization", "x-CUSTOM", "X-Absent"]'
        dynamic = with_middlewares(middleware(auth.server.ports[0], extra), '["auth"]')
        sent = [
            *_GOOD,
            (b"x-custom", b"a"),
            (b"x-custom", b"b"),
            (b"cookie", b"c=1"),
            (b"user-agent", b"test"),
            (b"accept", b"*/*"),
        ]
        async with site(dynamic) as s:
            seen = await s.echoed("/page", headers=sent, method="POST", body=b"data")
        auth.server.stop()
    asked = auth.seen[-1]
    assert set(asked) == {
        b":method", b":target", b"host", b"authorization", b"x-custom",
        b"x-forwarded-for", b"x-forwarded-method", b"x-forwarded-proto",
        b"x-forwarded-port", b"x-forwarded-host", b"x-forwarded-uri",
    }  # fmt: skip
    assert asked[b"x-forwarded-method"] == b"POST" and asked[b"x-forwarded-uri"] == b"/page"
    # The request itself still carries everything to the server behind.
    headers = headers_of(seen)
    assert headers["cookie"] == ["c=1"] and headers["x-custom"] == ["a", "b"]


@pytest.fixture
def tls(tmp_path: Path) -> Path:
    """A CA, a certificate for 127.0.0.1 and a client certificate (trustme)."""
    return make_tls(tmp_path)


def _tls_section(tls: Path, *keys: str) -> str:
    values = {
        "ca": f'ca = "{tls / "ca.pem"}"',
        "cert": f'cert = "{tls / "client.pem"}"',
        "key": f'key = "{tls / "client-key.pem"}"',
        "skip": "insecureSkipVerify = true",
    }
    return "[http.middlewares.auth.forwardAuth.tls]\n" + "\n".join(values[k] for k in keys)


async def _status_over_tls(auth: AuthServer, extra: str) -> int:
    async with anyio.create_task_group() as tg:
        await tg.start(auth.server.serve)
        address = f"https://127.0.0.1:{auth.server.ports[0]}/check"
        definition = f'[http.middlewares.auth.forwardAuth]\naddress = "{address}"\n{extra}\n'
        async with site(with_middlewares(definition, '["auth"]')) as s:
            response, _ = await s.get("/", headers=_GOOD)
        auth.server.stop()
    return response.status


@pytest.mark.parametrize(
    ("keys", "status"),
    [
        ((), 500),  # the system's CAs do not know the test CA: never let through
        (("ca",), 200),
        (("skip",), 200),
    ],
)
async def test_tls_to_the_auth_server(tls: Path, keys: tuple[str, ...], status: int) -> None:
    auth = AuthServer(Certificates([(str(tls / "server.pem"), str(tls / "server-key.pem"))]))
    extra = _tls_section(tls, *keys) if keys else ""
    assert await _status_over_tls(auth, extra) == status
    assert len(auth.seen) == (1 if status == 200 else 0)


@pytest.mark.parametrize(
    ("keys", "status"),
    [(("ca",), 500), (("ca", "cert", "key"), 200), (("skip", "cert", "key"), 200)],
)
async def test_a_client_certificate_for_an_auth_server_that_asks_for_one(
    tls: Path, keys: tuple[str, ...], status: int
) -> None:
    pair = (str(tls / "server.pem"), str(tls / "server-key.pem"))
    auth = AuthServer(
        Certificates(
            [pair], client_cas=[str(tls / "ca.pem")], client_auth="RequireAndVerifyClientCert"
        )
    )
    assert await _status_over_tls(auth, _tls_section(tls, *keys)) == status
    if status == 200:
        peer = auth.peers[-1]
        assert peer is not None
        assert b"routekit-client.example" in peer  # the client certificate's name, in its DER
    else:
        assert auth.seen == []
