"""retry through the proxy: servers that cannot be reached, that drop, that answer 503."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator

import anyio
import pytest

from _echo import site
from _sockets import free_port
from routekit.config import Retry
from routekit.errors import ConfigError
from routekit.http import EntryPointServer, RequestHead, Response
from routekit.middleware import backoff_delays, build_layer

pytestmark = pytest.mark.anyio


def two_servers(first: str, retry: str, port: int) -> str:
    return f"""
[http.routers.site]
rule = "Host(`site.test`)"
service = "pair"
middlewares = ["retry"]
[http.middlewares.retry.retry]
{retry}
[[http.services.pair.loadBalancer.servers]]
url = "{first}"
[[http.services.pair.loadBalancer.servers]]
url = "http://127.0.0.1:{port}"
"""


async def test_a_server_that_refuses_connections_is_skipped() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    async with site(lambda port: two_servers(dead, "attempts = 2", port)) as s:
        statuses = [(await s.get("/"))[0].status for _ in range(6)]
        assert statuses == [200] * 6
    async with site(lambda port: two_servers(dead, "attempts = 1", port)) as s:
        statuses = [(await s.get("/"))[0].status for _ in range(6)]
        assert sorted(statuses) == [200] * 3 + [502] * 3  # one attempt: no retry


async def test_a_server_that_drops_a_written_request_is_not_retried() -> None:
    async def drop(stream: anyio.abc.SocketStream) -> None:
        await stream.receive()
        await stream.aclose()

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, drop)
        dynamic = lambda backend: two_servers(  # noqa: E731
            f"http://127.0.0.1:{port}", "attempts = 3", backend
        )
        async with site(dynamic) as s:
            statuses = sorted([(await s.get("/"))[0].status for _ in range(4)])
            # As Traefik: the request reached the server, which may have acted on it.
            assert statuses == [200, 200, 502, 502]
        tg.cancel_scope.cancel()
    await listener.aclose()


async def test_status_retries_replay_the_body_for_idempotent_methods() -> None:
    async def unavailable(head: RequestHead, body: AsyncIterator[bytes]) -> Response:
        async for _ in body:
            pass
        return Response(503, [], b"busy")

    busy = EntryPointServer("127.0.0.1:0", unavailable)
    async with anyio.create_task_group() as tg:
        await tg.start(busy.serve)
        retry = 'attempts = 3\nstatus = ["500-503"]'
        first = f"http://127.0.0.1:{busy.ports[0]}"
        async with site(lambda port: two_servers(first, retry, port)) as s:
            for _ in range(4):
                response, body = await s.get("/", method="PUT", body=b"payload")
                assert response.status == 200
                assert json.loads(body)["body"] == "payload"  # the same body, sent again
            posts = sorted([(await s.get("/", method="POST"))[0].status for _ in range(4)])
            assert posts == [200, 200, 503, 503]  # POST is not idempotent: not retried
        busy.stop()


def test_backoff_and_options() -> None:
    assert backoff_delays(0, 3) == [0.0, 0.0]
    delays = backoff_delays(0.1, 3, random.Random(1))
    assert 0.05 <= delays[0] <= 0.15 and 0.1 <= delays[1] <= 0.3
    with pytest.raises(ConfigError, match="attempts"):
        build_layer(Retry(attempts=0))
    with pytest.raises(ConfigError, match="status"):
        build_layer(Retry(attempts=2, disable_retry_on_network_error=True))
