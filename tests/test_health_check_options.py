"""Each active health-check option through a real gateway: a server whose health answer the
option decides goes out of rotation and comes back, while another server stays.

The options are Traefik v3's ``loadBalancer.healthCheck`` (``pkg/healthcheck/healthcheck.go``):
``status``, ``method``, ``followRedirects``, ``headers``, ``hostname``, ``timeout``, ``port``,
``scheme``.  Probes run every 50 ms; the tests wait for what the gateway's answers show, never
for a time.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
import trustme

from _backends import until
from routekit.config import EntryPoint, HealthCheck, loads_config
from routekit.http import Certificates, Client, EntryPointServer, RequestHead, Response
from routekit.proxy import Gateway
from routekit.runtime import build, probe_target

pytestmark = pytest.mark.anyio

#: How a health endpoint answers a probe (its head): status and headers.
Answer = Callable[[RequestHead], Response]


class Server:
    """Answers its name, and ``/health*`` as `health` says (503 until told otherwise, so that
    a test sees the server leave before the answer under test brings it back)."""

    def __init__(self, name: str, certificates: Certificates | None = None) -> None:
        self.name = name
        self.health: Answer = lambda head: Response(503)
        self.delay = 0.0
        self.probes: list[RequestHead] = []
        self.server = EntryPointServer(
            "127.0.0.1:0",
            self.handle,
            certificates=None if certificates is None else lambda: certificates,
        )

    async def handle(self, head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        if not head.event.target.startswith(b"/health"):
            return Response(200, [], b"Name: " + self.name.encode() + b"\n")
        self.probes.append(head)
        if self.delay:
            await anyio.sleep(self.delay)
        return self.health(head)

    @property
    def port(self) -> int:
        return self.server.ports[0]


def _header(head: RequestHead, name: bytes) -> bytes | None:
    return dict(head.event.headers).get(name)


class Rotation:
    """The gateway's entry point, and who answers there."""

    def __init__(self, client: Client, url: str) -> None:
        self.client = client
        self.url = url

    async def becomes(self, *names: str) -> None:
        """Wait until exactly *names* answer (the health checks moved servers in or out)."""
        await until(self.client, self.url, b"site.test", set(names), within=15)


def _config(subject: int, steady: int, check: str, scheme: str = "http") -> str:
    # Only the subject is checked: the steady server is a service of its own beside it.
    return f"""
[http.routers.site]
rule = "Host(`site.test`)"
service = "pair"
[http.services.pair.weighted.healthCheck]
[[http.services.pair.weighted.services]]
name = "checked"
[[http.services.pair.weighted.services]]
name = "plain"
[[http.services.plain.loadBalancer.servers]]
url = "http://127.0.0.1:{steady}"
[http.services.checked.loadBalancer.healthCheck]
path = "/health"
interval = "50ms"
{check}
[[http.services.checked.loadBalancer.servers]]
url = "{scheme}://127.0.0.1:{subject}"
"""


@asynccontextmanager
async def checked(
    check: str,
    subject: Server,
    *,
    scheme: str = "http",
    client: Client | None = None,
) -> AsyncIterator[Rotation]:
    """A gateway in front of *subject* and a steady server, *check* in the health check."""
    steady = Server("steady")
    async with anyio.create_task_group() as tg:
        for server in (subject, steady):
            await tg.start(server.server.serve)
        dynamic = _config(subject.port, steady.port, check, scheme)
        points = {"web": EntryPoint(address="127.0.0.1:0")}
        async with (
            Gateway(build(loads_config(dynamic)), points, client=client) as gateway,
            Client() as own,
        ):
            yield Rotation(own, gateway.url("web") + "/")
        for server in (subject, steady):
            server.server.stop()


async def test_status() -> None:
    subject = Server("subject")
    subject.health = lambda head: Response(200)
    async with checked("status = 204", subject) as rotation:
        await rotation.becomes("steady")  # 200 is not the 204 asked for
        subject.health = lambda head: Response(204)
        await rotation.becomes("steady", "subject")
    # Without status, any 2xx or 3xx passes, and 4xx does not.
    subject = Server("subject")
    subject.health = lambda head: Response(404)
    async with checked("", subject) as rotation:
        await rotation.becomes("steady")
        subject.health = lambda head: Response(304)
        await rotation.becomes("steady", "subject")


async def test_method() -> None:
    def head_only(head: RequestHead) -> Response:
        return Response(200 if head.event.method == b"HEAD" else 405)

    subject = Server("subject")
    async with checked('method = "HEAD"', subject) as rotation:
        await rotation.becomes("steady")
        subject.health = head_only
        await rotation.becomes("steady", "subject")
    assert {p.event.method for p in subject.probes} == {b"HEAD"}
    subject = Server("subject")
    subject.health = head_only
    async with checked("", subject) as rotation:
        await rotation.becomes("steady")  # GET by default
    assert {p.event.method for p in subject.probes} == {b"GET"}


def _redirect(location: bytes, status: int = 302) -> Answer:
    def answer(head: RequestHead) -> Response:
        if head.event.target == b"/health":
            return Response(status, [(b"location", location)])
        return Response(500)  # where it leads: broken

    return answer


async def test_follow_redirects() -> None:
    subject = Server("subject")
    subject.health = _redirect(b"/health/elsewhere")
    async with checked("", subject) as rotation:
        await rotation.becomes("steady")  # followed (the default) to a 500
    assert any(p.event.target == b"/health/elsewhere" for p in subject.probes)
    subject = Server("subject")
    async with checked("followRedirects = false", subject) as rotation:
        await rotation.becomes("steady")
        subject.health = _redirect(b"/health/elsewhere")  # the 302 itself passes
        await rotation.becomes("steady", "subject")
    assert all(p.event.target == b"/health" for p in subject.probes)


async def test_redirects_as_go_s_client_follows_them() -> None:
    # A POST answered 303 goes on as a GET (Go's http.Client, RFC 9110 §15.4.4); a loop of
    # redirects is a failure after ten.
    subject = Server("subject")

    def answer(head: RequestHead) -> Response:
        if head.event.target == b"/health":
            return Response(303, [(b"location", b"/health/ok")])
        return Response(200 if head.event.method == b"GET" else 405)

    async with checked('method = "POST"', subject) as rotation:
        await rotation.becomes("steady")
        subject.health = answer
        await rotation.becomes("steady", "subject")
        assert any(p.event.method == b"GET" for p in subject.probes)
        subject.health = _redirect(b"/health")  # to itself, for ever
        await rotation.becomes("steady")


async def test_headers_and_hostname() -> None:
    subject = Server("subject")

    def answer(head: RequestHead) -> Response:
        if head.event.target == b"/health":  # the Host is kept through a relative redirect
            return Response(302, [(b"location", b"/health/again")])
        good = _header(head, b"x-check") == b"yes" and _header(head, b"host") == b"check.test"
        return Response(200 if good else 403)

    check = 'hostname = "check.test"\n[http.services.checked.loadBalancer.healthCheck.headers]\n'
    async with checked(check + 'X-Check = "yes"', subject) as rotation:
        await rotation.becomes("steady")
        subject.health = answer
        await rotation.becomes("steady", "subject")
    assert {_header(p, b"host") for p in subject.probes} == {b"check.test"}
    subject = Server("subject")
    subject.health = answer
    async with checked(check + 'X-Check = "no"', subject) as rotation:
        await rotation.becomes("steady")


async def test_timeout() -> None:
    subject = Server("subject")
    subject.health = lambda head: Response(200)
    subject.delay = 5.0  # far past the timeout
    async with checked('timeout = "100ms"', subject) as rotation:
        await rotation.becomes("steady")
        subject.delay = 0.0
        await rotation.becomes("steady", "subject")


async def test_port() -> None:
    # The subject's own /health answers 200; the check asks another port, where 503.
    subject, health = Server("subject"), Server("health side")
    health.health = lambda head: Response(503)
    async with anyio.create_task_group() as tg:
        await tg.start(health.server.serve)
        async with checked(f"port = {health.port}", subject) as rotation:
            await rotation.becomes("steady")
            health.health = lambda head: Response(200)
            await rotation.becomes("steady", "subject")
        health.server.stop()
    assert subject.probes == [] and health.probes


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


async def test_scheme(ca: trustme.CA, tmp_path: Path) -> None:
    # The subject serves HTTP and HTTPS on one port (told apart by the first byte); its
    # health endpoint answers only over TLS, so only a check with scheme = "https" passes.
    issued = ca.issue_cert("127.0.0.1")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    context = ssl.create_default_context()
    ca.configure_trust(context)
    async with Client(ssl_context=context) as client:
        for check, names in (('scheme = "https"', ("steady", "subject")), ("", ("steady",))):
            subject = Server("subject", Certificates([(str(cert), str(key))]))
            async with checked(check, subject, client=client) as rotation:
                await rotation.becomes("steady")
                subject.health = lambda head: Response(200 if head.tls else 421)
                await rotation.becomes(*names)
                if len(names) == 1:  # a plain check goes on failing
                    seen = len(subject.probes)
                    with anyio.fail_after(10):
                        while len(subject.probes) < seen + 3:
                            await anyio.sleep(0.02)
                    await rotation.becomes("steady")


def test_probe_target_resolves_the_path_as_a_reference() -> None:
    # Go's URL.Parse on the server URL: a relative path replaces the last segment, an
    # absolute one the whole path; port and scheme overrides; Host is the probed authority.
    assert probe_target("http://10.0.0.1:80/base/", HealthCheck(path="health")) == (
        "http://10.0.0.1:80/base/health",
        "10.0.0.1:80",
    )
    assert probe_target("http://10.0.0.1/base", HealthCheck(path="/h?x=1", port=81)) == (
        "http://10.0.0.1:81/h?x=1",
        "10.0.0.1:81",
    )
    assert probe_target("http://[::1]:80", HealthCheck(path="/h", port=81, scheme="https")) == (
        "https://[::1]:81/h",
        "[::1]:81",
    )
