"""The errors middleware: pages from another service for the statuses it names."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import anyio
import pytest

from _echo import site
from _sockets import free_port
from routekit.http import EntryPointServer, RequestHead, Response
from routekit.middleware import error_page_target

pytestmark = pytest.mark.anyio


async def pages(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
    text = (
        b"page for "
        + head.event.target
        + b" cookie="
        + dict(head.event.headers).get(b"cookie", b"-")
    )
    return Response(200, [(b"content-type", b"text/html")], text)


def config(pages_port: int, dead: int) -> Callable[[int], str]:
    def dynamic(port: int) -> str:
        return f"""
[http.routers.site]
rule = "Host(`site.test`)"
service = "echo"
middlewares = ["oops"]
[http.routers.down]
rule = "Host(`down.test`)"
service = "dead"
middlewares = ["oops"]
[http.middlewares.oops.errors]
status = ["500-599", "404"]
service = "pages"
query = "/{{status}}.html?was={{originalStatus}}"
[http.middlewares.oops.errors.statusRewrites]
"418" = 400
"504" = 503
[[http.services.echo.loadBalancer.servers]]
url = "http://127.0.0.1:{port}"
[[http.services.dead.loadBalancer.servers]]
url = "http://127.0.0.1:{dead}"
[[http.services.pages.loadBalancer.servers]]
url = "http://127.0.0.1:{pages_port}"
"""

    return dynamic


async def test_error_statuses_get_the_page_of_the_errors_service() -> None:
    server = EntryPointServer("127.0.0.1:0", pages)
    dead = free_port()
    async with anyio.create_task_group() as tg:
        await tg.start(server.serve)
        async with site(config(server.ports[0], dead)) as s:
            response, body = await s.get("/status/503", headers=[(b"cookie", b"a=1")])
            assert response.status == 503
            assert body == b"page for /503.html?was=503 cookie=a=1"
            assert (b"content-type", b"text/html") in response.headers
            response, body = await s.get("/status/404")
            assert response.status == 404 and body.startswith(b"page for /404.html")
            response, body = await s.get("/status/418")
            assert response.status == 418 and b"x-backend" in dict(response.headers)  # not listed
            response, body = await s.get("/status/504")
            assert response.status == 503 and body.startswith(b"page for /503.html?was=504")
            response, body = await s.get("/status/201")
            assert response.status == 201
            # The gateway's own 502 (nobody listens) is an error status too.
            response, body = await s.get("/", host="down.test")
            assert response.status == 502 and body.startswith(b"page for /502.html")
        server.stop()


def test_query_template() -> None:
    target = error_page_target("{status}.html?u={url}", 503, 500, "http://a.test/x?y=1")
    assert target == "/503.html?u=http%3A%2F%2Fa.test%2Fx%3Fy%3D1"
